import { createServer } from 'node:net';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ChildCallError, NodeProcess, waitFor } from './helpers/node-process.js';
import { useTempCluster } from './helpers/temp-cluster.js';

const cluster = useTempCluster('ops');
const spawn = (options: Record<string, unknown>): Promise<NodeProcess> => cluster.spawn(options);

async function get(p: NodeProcess, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${p.ready.http!.host}:${p.ready.http!.port}${path}`);
  return { status: res.status, body: await res.text() };
}

describe('health and metrics over HTTP', () => {
  it('a primary is healthy while it can write, and unhealthy with the reason while another process holds the write lock', async () => {
    const primary = await spawn({ instanceId: 'p', http: { port: 0 } });
    expect(primary.ready.http?.host).toBe('127.0.0.1');
    const ok = await get(primary, '/healthz');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ ok: true, role: 'primary' });

    const intruder = new Database(cluster.dbPath);
    intruder.exec('BEGIN IMMEDIATE');
    try {
      const bad = await get(primary, '/healthz');
      expect(bad.status).toBe(503);
      expect(JSON.parse(bad.body)).toMatchObject({ ok: false, role: 'primary', reason: 'the database is not writable (BUSY)' });
    } finally {
      intruder.exec('ROLLBACK');
      intruder.close();
    }
    expect((await get(primary, '/healthz')).status).toBe(200);
    expect((await get(primary, '/nope')).status).toBe(404);
  });

  it('a secondary is healthy while its primary answers, 503 with the reason while it does not', async () => {
    const primary = await spawn({ instanceId: 'p' });
    const secondary = await spawn({ instanceId: 's', promote: false, http: { port: 0 } });
    expect((await get(secondary, '/healthz')).status).toBe(200);
    primary.child.kill('SIGSTOP');
    try {
      const bad = await get(secondary, '/healthz');
      expect(bad.status).toBe(503);
      expect(JSON.parse(bad.body)).toMatchObject({ ok: false, role: 'secondary' });
      expect(JSON.parse(bad.body).reason).toMatch(/^the primary p \(pid \d+\) does not answer \(TIMEOUT\)$/);
    } finally {
      primary.child.kill('SIGCONT');
    }
    await waitFor(async () => (await get(secondary, '/healthz')).status === 200, 10_000, 'healthy again');
  });

  it('serves Prometheus metrics: writes by method and outcome, queue depth, batch sizes, commit latency, role, epoch, failovers, WAL size', async () => {
    const primary = await spawn({ instanceId: 'p', http: { port: 0 } });
    const secondary = await spawn({ instanceId: 's', http: { port: 0 } });
    await secondary.call('createSession', { id: 's1', title: 'm' });
    await secondary.call('createSession', { id: 's1', title: 'dup' }).catch(() => undefined);
    const m = await get(primary, '/metrics');
    expect(m.status).toBe(200);
    expect(m.body).toMatch(/^scribe_writes_total\{method="CreateSession",outcome="ok",instance="p"\} 1$/m);
    expect(m.body).toMatch(/^scribe_writes_total\{method="CreateSession",outcome="CONFLICT",instance="p"\} 1$/m);
    expect(m.body).toMatch(/^scribe_queue_depth\{instance="p"\} 0$/m);
    expect(m.body).toMatch(/^scribe_batch_size_count\{instance="p"\} [1-9]\d*$/m);
    expect(m.body).toMatch(/^scribe_commit_seconds_bucket\{le="0.001",instance="p"\} \d+$/m);
    expect(m.body).toMatch(/^scribe_role\{role="primary",instance="p"\} 1$/m);
    expect(m.body).toMatch(/^scribe_epoch\{instance="p"\} 1$/m);
    expect(m.body).toMatch(/^scribe_failovers_total\{instance="p"\} 0$/m);
    expect(m.body).toMatch(/^scribe_wal_bytes\{instance="p"\} [1-9]\d*$/m);

    await primary.kill('SIGKILL');
    await waitFor(() => secondary.events.some((e) => e.type === 'role:changed' && e.role === 'primary'), 10_000, 'failover');
    const after = await get(secondary, '/metrics');
    expect(after.body).toMatch(/^scribe_role\{role="primary",instance="s"\} 1$/m);
    expect(after.body).toMatch(/^scribe_failovers_total\{instance="s"\} 1$/m);
    expect(after.body).toMatch(/^scribe_epoch\{instance="s"\} 2$/m);
  });

  it('fails fast, saying what to change, on a non-loopback host or a port in use', async () => {
    const remote = await spawn({ instanceId: 'r', http: { host: '0.0.0.0', port: 0 } }).catch((e: unknown) => e);
    expect((remote as ChildCallError).error.message).toMatch(/Expected 'http.host' to be a loopback address .* set allowRemote/);
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const port = (squatter.address() as { port: number }).port;
    try {
      const taken = await spawn({ instanceId: 't', http: { port } }).catch((e: unknown) => e);
      expect((taken as ChildCallError).error.message).toBe(`http: listen on 127.0.0.1:${port}`);
    } finally {
      squatter.close();
    }
  });
});
