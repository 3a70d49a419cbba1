import type pg from 'pg';
import { pino } from 'pino';
import { createDefaultRegistry, type BatchItem } from '@scribe/store';
import { afterEach, describe, expect, it } from 'vitest';
import { PgBatchExecutor } from '../src/pg-batch-executor.js';
import { PgChangeLog } from '../src/pg-change-log.js';
import { createPgPool } from '../src/pg-pool.js';
import { PgRequestLog } from '../src/pg-request-log.js';
import { PgStore } from '../src/pg-store.js';
import { runPostgresTests, usePostgres } from '../../../test/helpers/postgres-server.js';

const server = usePostgres();
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Statements of the executor's own bookkeeping (everything but a write handler's SQL). */
const BOOKKEEPING = /_scribe_|\bSAVEPOINT\b|\bRELEASE\b|\bBEGIN\b|\bCOMMIT\b|\bROLLBACK\b/;

/**
 * A PgBatchExecutor on a migrated database whose pool counts round trips: every
 * `client.query` call is one (node-postgres sends one query, or one simple query of
 * several statements, and waits for its answer before the next).
 */
async function countingExecutor(): Promise<{ executor: PgBatchExecutor; trips: string[]; store: PgStore }> {
  const url = await server.database();
  const store = await PgStore.open({ url, max: 2 }); // the schema; reads to check the results
  cleanups.push(() => store.close());
  const pool = createPgPool({ url, max: 2 });
  cleanups.push(() => pool.end());
  const trips: string[] = [];
  pool.on('connect', (client: pg.PoolClient) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const q = args[0];
      trips.push(typeof q === 'string' ? q : (q as { text: string }).text);
      return query(...args);
    };
  });
  const executor = new PgBatchExecutor({
    pool,
    registry: createDefaultRegistry(),
    requests: new PgRequestLog(10_000),
    changes: new PgChangeLog(10_000),
    clock: () => new Date(),
    log: pino({ level: 'silent' }),
    conflictRetries: 0,
  });
  return { executor, trips, store };
}

let n = 0;
function item(method: string, params: unknown, requestId = `rt-${++n}`): BatchItem {
  return { meta: { request_id: requestId, source_instance_id: 'round-trips', timestamp: new Date().toISOString() }, method, params };
}

const split = (trips: readonly string[]) => ({
  bookkeeping: trips.filter((t) => BOOKKEEPING.test(t)).length,
  handler: trips.filter((t) => !BOOKKEEPING.test(t)).length,
});

describe.runIf(runPostgresTests)('PgBatchExecutor: round trips per write', () => {
  it('spends one bookkeeping round trip per write and one for the commit (claim, savepoints, record, change log merged)', async () => {
    const { executor, trips, store } = await countingExecutor();
    await executor.run([item('CreateSession', { id: 's', title: 't' })], false);
    // One write alone: what its handler sends (the INSERT and the session's UPDATE).
    trips.length = 0;
    const single = await executor.run([item('CreateMessage', { session_id: 's', role: 'user', parts: '[]' })], false);
    const one = split(trips);
    const changesPerWrite = single.changes.length;
    expect(changesPerWrite).toBeGreaterThan(0);
    const before = await store.latestChangeSeq();
    expect(one.handler).toBeGreaterThan(0);
    expect(one.bookkeeping).toBe(2);

    const B = 10;
    trips.length = 0;
    const items = Array.from({ length: B }, () => item('CreateMessage', { session_id: 's', role: 'user', parts: '[]' }));
    const r = await executor.run(items, false);
    expect(r.outcomes.every((o) => o.ok && !o.duplicate)).toBe(true);
    const batch = split(trips);
    expect(batch.handler).toBe(B * one.handler);
    // Before the merge: BEGIN, then per write SAVEPOINT, claim, SAVEPOINT, RELEASE, settle,
    // RELEASE, then the counter, the change rows, NOTIFY and COMMIT: 6 × B + 5.
    expect(batch.bookkeeping).toBe(B + 1);
    // Everything those round trips carried took effect: records, rows, numbered changes.
    expect(r.changes.map((c) => c.seq)).toEqual(Array.from({ length: changesPerWrite * B }, (_, i) => before + 1 + i));
    expect(await store.latestChangeSeq()).toBe(before + changesPerWrite * B);
    expect((await store.reader.get<{ n: number }>('SELECT message_count AS n FROM sessions WHERE id = ?', ['s']))?.n).toBe(B + 1);
    for (const it of items) expect(await store.findRequest(it.meta.request_id)).toMatchObject({ ok: true, method: 'CreateMessage' });
  });

  it('keeps a failing write apart in the merged round trips: its neighbours commit, its failure is recorded, a recorded id costs one more', async () => {
    const { executor, trips, store } = await countingExecutor();
    await executor.run([item('CreateSession', { id: 'dup', title: 't' }, 'first')], false);
    trips.length = 0;
    const r = await executor.run(
      [
        item('CreateSession', { id: 'a', title: 't' }, 'a'),
        item('CreateSession', { id: 'dup', title: 't' }, 'conflict'), // CONFLICT: the handler's INSERT fails
        item('CreateSession', { id: 'b', title: 't' }, 'b'),
        item('CreateSession', { id: 'dup', title: 't' }, 'first'), // committed before: answered from its record
        item('CreateSession', { id: 'c', title: 't' }, 'c'),
      ],
      false,
    );
    expect(r.outcomes.map((o) => (o.ok ? (o.duplicate ? 'dup' : 'ok') : o.error.code))).toEqual(['ok', 'CONFLICT', 'ok', 'dup', 'ok']);
    expect(r.changes.map((c) => c.key)).toEqual(['a', 'b', 'c']);
    // Five writes, one commit, one lookup for the recorded id.
    expect(split(trips).bookkeeping).toBe(5 + 1 + 1);
    expect(await store.findRequest('conflict')).toMatchObject({ ok: false, method: 'CreateSession' });
    const ids = await store.reader.all<{ id: string }>('SELECT id FROM sessions ORDER BY id');
    expect(ids.map((x) => x.id)).toEqual(['a', 'b', 'c', 'dup']);
  });

  it('stores quotes and backslashes in request ids and values exactly, and refuses U+0000 in a request id for that write only', async () => {
    const { executor, store } = await countingExecutor();
    const odd = `it's a \\ "test" \\' ''`;
    const r = await executor.run(
      [
        item('CreateSession', { id: odd, title: `t\\n'` }, odd),
        item('CreateSession', { id: 'nul', title: 't' }, 'bad\u0000id'),
        item('CreateSession', { id: 'after', title: 't' }, 'after'),
      ],
      false,
    );
    expect(r.outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['ok', 'INVALID_PARAMS', 'ok']);
    expect(r.outcomes[1]).toMatchObject({ error: { field: 'meta.request_id' } });
    expect(await store.findRequest(odd)).toMatchObject({ request_id: odd, ok: true, result: { id: odd, title: `t\\n'` } });
    expect(r.changes.map((c) => [c.key, c.request_id])).toEqual([
      [odd, odd],
      ['after', 'after'],
    ]);
    expect(await store.reader.get('SELECT id FROM sessions WHERE id = ?', ['nul'])).toBeUndefined();
  });
});
