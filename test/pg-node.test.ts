import { Writable } from 'node:stream';
import pg from 'pg';
import { pino } from 'pino';
import { openNode, type PgScribeNode } from '@scribe/node';
import { WriteError } from '@scribe/protocol';
import { SCHEMA_VERSION } from '@scribe/store';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeProcess, waitFor } from './helpers/node-process.js';
import { runPostgresTests, usePostgres } from './helpers/postgres-server.js';

const server = usePostgres();
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function peer(url: string, extra: Record<string, unknown> = {}): Promise<PgScribeNode> {
  const node = await openNode({ url, ...extra });
  cleanups.push(() => node.close());
  return node;
}

async function spawnPeer(url: string, instanceId: string): Promise<NodeProcess> {
  const p = await NodeProcess.spawn({ url, instanceId });
  cleanups.push(() => p.kill());
  return p;
}

/** Runs one statement as the server's superuser (pg_terminate_backend and such). */
async function admin<T extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

describe.runIf(runPostgresTests)('openNode({ url }): a peer of a PostgreSQL server', () => {
  it('serves the same querier, findRequest, info and health as the SQLite node, as role peer', async () => {
    const node = await peer(await server.database());
    expect(node.role).toBe('peer');
    const session = await node.querier.createSession({ id: 's1', title: 'hello' }, { requestId: 'req-1' });
    expect(session).toMatchObject({ id: 's1', title: 'hello', message_count: 0 });
    await node.querier.createMessage({ id: 'm1', session_id: 's1', role: 'user', parts: '[]' });
    expect((await node.querier.getSession('s1'))?.message_count).toBe(1);
    expect(await node.querier.listMessagesBySession('s1')).toHaveLength(1);
    // The same request id again: the first outcome, applied once.
    expect(await node.querier.createSession({ id: 's1', title: 'hello' }, { requestId: 'req-1' })).toEqual(session);
    expect(await node.findRequest('req-1')).toMatchObject({ ok: true, method: 'CreateSession', result: { id: 's1' } });
    await expect(node.querier.createSession({ id: 's1', title: 'again' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(node.querier.write('CreateSession', { title: 5 })).rejects.toMatchObject({ code: 'INVALID_PARAMS' });
    expect(node.info()).toMatchObject({ role: 'peer', schema_version: SCHEMA_VERSION, epoch: 0 });
    expect(await node.health()).toMatchObject({ ok: true, role: 'peer' });
  });

  it('groups at most 32 writes per transaction by default (two subtransactions each stay within the 64 a backend caches), and maxBatchSize sets it', async () => {
    const url = await server.database();
    const batchSizes = async (node: PgScribeNode): Promise<{ count: number; sum: number; upTo32: number; upTo16: number }> => {
      const { port } = node.httpAddress!;
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const value = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
      return {
        count: value(/^scribe_batch_size_count\{[^}]*\} (\d+)/m),
        sum: value(/^scribe_batch_size_sum\{[^}]*\} (\d+)/m),
        upTo32: value(/^scribe_batch_size_bucket\{le="32"[^}]*\} (\d+)/m),
        upTo16: value(/^scribe_batch_size_bucket\{le="16"[^}]*\} (\d+)/m),
      };
    };
    const node = await peer(url, { http: { host: '127.0.0.1', port: 0 } });
    await node.querier.createSession({ id: 's', title: 'batches' });
    await Promise.all(Array.from({ length: 300 }, (_, i) => node.querier.createMessage({ id: `m${i}`, session_id: 's', role: 'user', parts: '[]' })));
    const d = await batchSizes(node);
    expect(d.sum).toBe(301);
    // 300 writes submitted at once: at least ten transactions, none of more than 32 writes.
    expect(d.count).toBeGreaterThanOrEqual(10);
    expect(d.upTo32).toBe(d.count);
    expect(d.upTo16).toBeLessThan(d.count);
    const small = await peer(url, { http: { host: '127.0.0.1', port: 0 }, maxBatchSize: 16 });
    await Promise.all(Array.from({ length: 100 }, (_, i) => small.querier.createMessage({ id: `n${i}`, session_id: 's', role: 'user', parts: '[]' })));
    const e = await batchSizes(small);
    expect(e.sum).toBe(100);
    expect(e.upTo16).toBe(e.count);
  });

  it('refuses SQLite options beside url, and a url that is not postgres://, with a TypeError', async () => {
    const url = await server.database();
    await expect(openNode({ url, dbPath: '/tmp/x.db' } as never)).rejects.toThrow(/'dbPath' is an option of the SQLite cluster/);
    await expect(openNode({ url: 'mysql://x' })).rejects.toThrow(TypeError);
  });

  it('never logs the password of the url', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(chunk.toString()), cb()) }));
    // The test cluster trusts local connections: the password is sent nowhere, but it is in the options.
    const url = (await server.database()).replace('postgresql://scribe@', 'postgresql://scribe:s3cret-pw@');
    const node = await peer(url, { logger });
    await node.querier.createSession({ title: 't' });
    await node.close();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('')).not.toContain('s3cret-pw');
    expect(node.server).not.toContain('s3cret-pw');
  });

  it('gives a reader every change of several writing processes once, in seq order, without gaps, across a LISTEN connection drop', async () => {
    const url = await server.database();
    const reader = await peer(url, { applicationName: 'feed-reader', changePollMs: 100 });
    const writers = await Promise.all(['w1', 'w2', 'w3'].map((id) => spawnPeer(url, id)));
    await writers[0]!.call('createSession', { id: 'shared', title: 'shared' });
    const seen: number[] = [];
    const keys = new Set<string>();
    const ac = new AbortController();
    const following = (async () => {
      for await (const c of reader.changes({ since: 0, signal: ac.signal })) {
        seen.push(c.seq);
        if (c.entity === 'messages') keys.add(c.key);
      }
    })();
    const count = 40;
    const series = writers.map((w, i) => w.send<{ acked: string[]; failed: unknown[] }>('writeSeries', { sessionId: 'shared', prefix: `p${i}`, count, concurrency: 4 }));
    // Mid-way, end the reader's LISTEN connection: it polls until the listener is back.
    await waitFor(() => keys.size >= 20, 20_000, 'the first changes');
    const killed = await admin<{ ok: number }>(url, "SELECT pg_terminate_backend(pid)::int AS ok FROM pg_stat_activity WHERE application_name = 'feed-reader (changes)'");
    expect(killed).toEqual([{ ok: 1 }]);
    const results = await Promise.all(series);
    for (const r of results) expect(r.failed).toEqual([]);
    await waitFor(() => keys.size === 3 * count, 20_000, 'every message change');
    // The listener came back on its own.
    await waitFor(async () => (await admin(url, "SELECT 1 FROM pg_stat_activity WHERE application_name = 'feed-reader (changes)'")).length === 1, 10_000, 'LISTEN again');
    ac.abort();
    await following;
    // 1 session + 3 × count messages (+ a session update each): every seq once, in order, from 1 with no gap.
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i + 1));
    expect(seen.length).toBe(1 + 3 * count * 2);
  }, 60_000);

  it('answers UNREACHABLE while the server is down, serves again when it is back (the same request id applied once), and writes on new connections after pg_terminate_backend ended its own', async () => {
    const url = await server.database();
    const node = await peer(url, { writeTimeoutMs: 1_500, applicationName: 'halted-peer' });
    await node.querier.createSession({ id: 'before', title: 't' });
    const { start } = await server.server().halt();
    let restarted = false;
    cleanups.push(async () => {
      if (!restarted) await start();
    });
    const error = await node.querier.createSession({ id: 'during', title: 't' }, { requestId: 'down-1' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WriteError);
    expect((error as WriteError).code).toBe('UNREACHABLE');
    expect((error as WriteError).isRetryable()).toBe(true);
    expect((await node.health()).ok).toBe(false);
    await start();
    restarted = true;
    // The same request id once the server is back: applied once.
    expect(await node.querier.createSession({ id: 'during', title: 't' }, { requestId: 'down-1' })).toMatchObject({ id: 'during' });
    expect((await node.health()).ok).toBe(true);
    // pg_terminate_backend on every connection of the peer: its next write runs on a new one.
    await admin(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'halted-peer'");
    expect(await node.querier.createSession({ id: 'after', title: 't' })).toMatchObject({ id: 'after' });
    expect((await node.querier.listAllSessions()).map((s) => s.id).sort()).toEqual(['after', 'before', 'during']);
  }, 60_000);
});
