import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '@scribe/store';
import type { NodeProcess } from './helpers/node-process.js';
import { waitFor } from './helpers/node-process.js';
import { useTempCluster } from './helpers/temp-cluster.js';

const cluster = useTempCluster('status-json');

/** One raw HTTP request (fetch would not let the test set the Host header). */
function http(p: NodeProcess, path: string, options: { method?: string; host?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: p.ready.http!.host, port: p.ready.http!.port, path, method: options.method ?? 'GET', headers: options.host === undefined ? {} : { host: options.host } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('/status.json and the status page', () => {
  it('a secondary answers with the primary view fetched through the cluster: both members, the change feed tail, refused writes by code', async () => {
    const primary = await cluster.spawn({ instanceId: 'p', http: { port: 0 } });
    const secondary = await cluster.spawn({ instanceId: 's', http: { port: 0 } });
    await secondary.call('createSession', { id: 'k1', title: 'one' });
    await secondary.call('createSession', { id: 'k1', title: 'two' }).catch(() => undefined);
    const report = await waitFor(async () => {
      const r = JSON.parse((await http(secondary, '/status.json')).body);
      return r.cluster?.members.length === 2 && r.cluster.errors.totals.CONFLICT === 1 ? r : undefined;
    }, 15_000, 'both members and the refused write');
    expect(report).toMatchObject({
      served_by: { instance_id: 's', role: 'secondary', pid: secondary.ready.pid, epoch: 1, http: `http://127.0.0.1:${secondary.ready.http!.port}` },
      primary_answers: true,
      problem: null,
      known_primary: { instance_id: 'p', pid: primary.ready.pid, epoch: 1 },
    });
    const c = report.cluster;
    expect(c.primary).toMatchObject({ role: 'primary', instance_id: 'p', pid: primary.ready.pid, epoch: 1, schema_version: SCHEMA_VERSION, plugins: [], http: `http://127.0.0.1:${primary.ready.http!.port}` });
    expect(c.members.map((m: { instance_id: string; role: string; answering: boolean; schema_version: number }) => [m.instance_id, m.role, m.answering, m.schema_version])).toEqual([
      ['p', 'primary', true, SCHEMA_VERSION],
      ['s', 'secondary', true, SCHEMA_VERSION],
    ]);
    expect(c.changes[0]).toMatchObject({ seq: 1, entity: 'sessions', key: 'k1', op: 'created', source_instance_id: 's' });
    expect(c.errors.recent[0]).toMatchObject({ code: 'CONFLICT', method: 'CreateSession', count: 1 });
    expect(c.samples.length).toBeGreaterThan(0);
    // The primary serves the same view of itself.
    const own = JSON.parse((await http(primary, '/status.json')).body);
    expect(own.served_by.role).toBe('primary');
    expect(own.cluster.primary.instance_id).toBe('p');
  });

  it('marks a secondary that stopped reporting as not answering', async () => {
    const primary = await cluster.spawn({ instanceId: 'p', http: { port: 0 } });
    const quiet = await cluster.spawn({ instanceId: 'q', promote: false });
    await waitFor(async () => JSON.parse((await http(primary, '/status.json')).body).cluster.members.length === 2, 10_000, 'q reported');
    quiet.child.kill('SIGSTOP');
    try {
      const silent = await waitFor(async () => {
        const m = JSON.parse((await http(primary, '/status.json')).body).cluster.members.find((x: { instance_id: string }) => x.instance_id === 'q');
        return m?.answering === false ? m : undefined;
      }, 10_000, 'q marked silent');
      expect(silent.role).toBe('secondary');
    } finally {
      quiet.child.kill('SIGCONT');
    }
  });

  it('answers 404 for unknown paths, 405 with Allow for other methods, 421 for a foreign Host; the page is self-contained under a strict CSP', async () => {
    const node = await cluster.spawn({ instanceId: 'p', http: { port: 0 } });
    const page = await http(node, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+';/);
    expect(page.body).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\//);
    expect((await http(node, '/status.json?x=1')).status).toBe(200);
    const missing = await http(node, '/status');
    expect(missing.status).toBe(404);
    expect(missing.body).toBe('not found: try /, /status.json, /healthz or /metrics\n');
    for (const method of ['POST', 'PUT', 'DELETE']) {
      for (const path of ['/', '/status.json']) {
        const r = await http(node, path, { method });
        expect(r.status, `${method} ${path}`).toBe(405);
        expect(r.headers.allow).toBe('GET');
      }
    }
    const rebound = await http(node, '/status.json', { host: 'attacker.example:80' });
    expect(rebound.status).toBe(421);
    expect((await http(node, '/status.json', { host: `localhost:${node.ready.http!.port}` })).status).toBe(200);
  });
});
