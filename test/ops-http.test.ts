import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { readDiscovery, resolveRuntimePaths } from '@scribe/node';
import { RPC_METHODS, type WriteError } from '@scribe/protocol';
import { RpcClient } from '@scribe/transport';
import type { SeriesResult } from './helpers/cluster-check.js';
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
      expect(JSON.parse(bad.body)).toMatchObject({ ok: false, role: 'primary', reason: expect.stringMatching(/^the database is not writable \(BUSY\): another connection holds its write lock/) });
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

  it('serves Prometheus metrics labelled node=: writes by method and code, queue depth, batch sizes, commit latency, role, epoch, failovers, WAL size, build info, process metrics', async () => {
    const primary = await spawn({ instanceId: 'p', http: { port: 0 } });
    const secondary = await spawn({ instanceId: 's', http: { port: 0 } });
    await secondary.call('createSession', { id: 's1', title: 'm' });
    await secondary.call('createSession', { id: 's1', title: 'dup' }).catch(() => undefined);
    const m = await get(primary, '/metrics');
    expect(m.status).toBe(200);
    expect(m.body).toMatch(/^scribe_writes_total\{method="CreateSession",code="ok",node="p"\} 1$/m);
    expect(m.body).toMatch(/^scribe_writes_total\{method="CreateSession",code="CONFLICT",node="p"\} 1$/m);
    expect(m.body).toMatch(/^scribe_queue_depth\{node="p"\} 0$/m);
    expect(m.body).toMatch(/^scribe_batch_size_count\{node="p"\} [1-9]\d*$/m);
    expect(m.body).toMatch(/^scribe_commit_seconds_bucket\{le="0.001",node="p"\} \d+$/m);
    expect(m.body).toMatch(/^scribe_role\{role="primary",node="p"\} 1$/m);
    expect(m.body).toMatch(/^scribe_epoch\{node="p"\} 1$/m);
    expect(m.body).toMatch(/^scribe_failovers_total\{node="p"\} 0$/m);
    expect(m.body).toMatch(/^scribe_wal_bytes\{node="p"\} [1-9]\d*$/m);
    const { version } = JSON.parse(readFileSync(new URL('../packages/node/package.json', import.meta.url), 'utf8')) as { version: string };
    expect(m.body).toMatch(new RegExp(`^scribe_build_info\\{version="${version.replace(/\./g, '\\.')}",node="p"\\} 1$`, 'm'));
    // prom-client's default process and Node.js metrics
    expect(m.body).toMatch(/^process_cpu_user_seconds_total\{node="p"\} [\d.e+-]+$/m);
    expect(m.body).toMatch(/^process_resident_memory_bytes\{node="p"\} \d+$/m);
    expect(m.body).toMatch(/^nodejs_eventloop_lag_seconds\{node="p"\} [\d.e+-]+$/m);
    // `instance` is Prometheus's own target label: never ours
    expect(m.body).not.toMatch(/instance=/);

    await primary.kill('SIGKILL');
    await waitFor(() => secondary.events.some((e) => e.type === 'role:changed' && e.role === 'primary'), 10_000, 'failover');
    const after = await get(secondary, '/metrics');
    expect(after.body).toMatch(/^scribe_role\{role="primary",node="s"\} 1$/m);
    expect(after.body).toMatch(/^scribe_failovers_total\{node="s"\} 1$/m);
    expect(after.body).toMatch(/^scribe_epoch\{node="s"\} 2$/m);
  });

  it('counts every write outcome by code, including writes refused before the queue (OVERLOADED, INVALID_PARAMS, METHOD_NOT_FOUND, a malformed request)', async () => {
    const primary = await spawn({ instanceId: 'p', http: { port: 0 }, maxQueueDepth: 2, maxBatchSize: 1 });
    const writer = await spawn({ instanceId: 'w', promote: false });
    await writer.call('createSession', { id: 's', title: 'flood' });
    // a flood past the queue bound: OVERLOADED answers, which the forwarder retries until every write lands
    const flood = await writer.send<SeriesResult>('writeSeries', { sessionId: 's', prefix: 'f', count: 300, concurrency: 64, withIds: false });
    expect(flood.failed).toEqual([]);
    const discovery = readDiscovery(resolveRuntimePaths(cluster.dbPath).discoveryPath)!;
    const client = new RpcClient({ endpoint: discovery.router, defaultTimeoutMs: 5_000 });
    client.connect();
    const meta = (n: number) => ({ source_instance_id: 'raw', request_id: `raw-${n}`, timestamp: new Date().toISOString() });
    try {
      const refusals = await Promise.all([
        client.call(RPC_METHODS.write, { meta: meta(1), method: 'CreateSession', params: { id: 7 } }).catch((e: unknown) => e),
        client.call(RPC_METHODS.write, { meta: meta(2), method: 'NoSuchWrite', params: {} }).catch((e: unknown) => e),
        client.call(RPC_METHODS.write, { meta: { source_instance_id: 'raw', request_id: 'raw-3' }, method: 'CreateSession', params: {} }).catch((e: unknown) => e),
        client.call(RPC_METHODS.write, { meta: { source_instance_id: 'raw', request_id: 'raw-4' }, method: 'Made-Up', params: {} }).catch((e: unknown) => e),
      ]);
      expect(refusals.map((e) => (e as WriteError).code)).toEqual(['INVALID_PARAMS', 'METHOD_NOT_FOUND', 'INVALID_PARAMS', 'INVALID_PARAMS']);
    } finally {
      await client.close();
    }
    const body = (await get(primary, '/metrics')).body;
    const count = (labels: string): number => Number(new RegExp(`^scribe_writes_total\\{${labels},node="p"\\} (\\d+)$`, 'm').exec(body)?.[1] ?? 0);
    expect(count('method="CreateMessage",code="ok"')).toBe(300);
    expect(count('method="CreateMessage",code="OVERLOADED"')).toBeGreaterThan(0);
    // INVALID_PARAMS from the write's schema, and from a request whose meta is malformed (refused before the coordinator)
    expect(count('method="CreateSession",code="INVALID_PARAMS"')).toBe(2);
    // names nobody registered share one label value
    expect(count('method="unknown",code="METHOD_NOT_FOUND"')).toBe(1);
    expect(count('method="unknown",code="INVALID_PARAMS"')).toBe(1);
    expect(body).not.toMatch(/NoSuchWrite|Made-Up/);
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
