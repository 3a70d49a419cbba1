import { WriteError } from '@scribe/protocol';
import type { BatchItem } from '@scribe/store';
import { afterEach, describe, expect, it } from 'vitest';
import { PgStore } from '../src/pg-store.js';
import { runPostgresTests, usePostgres } from '../../../test/helpers/postgres-server.js';

const server = usePostgres();
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A store as one process would open it (its own pool). */
async function open(url: string, max = 4): Promise<PgStore> {
  const store = await PgStore.open({ url, max });
  cleanups.push(() => store.close());
  return store;
}

let n = 0;
function item(method: string, params: unknown, requestId = `r-${++n}`, source = 'test'): BatchItem {
  return { meta: { request_id: requestId, source_instance_id: source, timestamp: new Date().toISOString() }, method, params };
}

describe.runIf(runPostgresTests)('PgStore: batches on PostgreSQL', () => {
  it('commits a batch, records each request id, and answers a repeat from the record without applying it again', async () => {
    const store = await open(await server.database());
    const first = await store.executeBatch([item('CreateSession', { id: 's1', title: 'one' }, 'a'), item('CreateSession', { id: 's2', title: 'two' }, 'b')]);
    expect(first.outcomes.map((o) => o.ok && !o.duplicate)).toEqual([true, true]);
    expect(first.changes.map((c) => [c.seq, c.key])).toEqual([
      [1, 's1'],
      [2, 's2'],
    ]);
    const again = await store.executeBatch([item('CreateSession', { id: 's1', title: 'one' }, 'a')]);
    expect(again.outcomes[0]).toMatchObject({ ok: true, duplicate: true, result: { id: 's1', title: 'one' } });
    expect(again.changes).toEqual([]);
    const rows = await store.reader.all<{ id: string }>('SELECT id FROM sessions ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual(['s1', 's2']);
    expect(await store.findRequest('a')).toMatchObject({ request_id: 'a', ok: true, method: 'CreateSession', result: { id: 's1' } });
    expect(await store.latestChangeSeq()).toBe(2);
  });

  it('rolls back a failing write alone, records its failure, and refuses a reused id for another write', async () => {
    const store = await open(await server.database());
    await store.executeWrite(item('CreateSession', { id: 'dup', title: 't' }, 'x1'));
    const r = await store.executeBatch([
      item('CreateSession', { id: 'ok1', title: 't' }, 'x2'),
      item('CreateSession', { id: 'dup', title: 't' }, 'x3'),
      item('CreateSession', { id: 'ok2', title: 't' }, 'x4'),
      item('DeleteSession', { id: 'ok1' }, 'x1'),
    ]);
    expect(r.outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['ok', 'CONFLICT', 'ok', 'REQUEST_ID_REUSED']);
    expect(r.changes.map((c) => c.key)).toEqual(['ok1', 'ok2']);
    // The failure is the request's answer: a retry gets it, from the record.
    const retry = await store.executeBatch([item('CreateSession', { id: 'dup', title: 't' }, 'x3')]);
    expect(retry.outcomes[0]).toMatchObject({ ok: false, duplicate: true, error: { code: 'CONFLICT' } });
    expect(await store.findRequest('x3')).toMatchObject({ ok: false, method: 'CreateSession' });
  });

  it('runs a request id once when two processes send it at the same time: the second waits for the first and answers from its record', async () => {
    const url = await server.database();
    const [a, b] = [await open(url), await open(url)];
    await a.executeWrite(item('InsertSkill', { id: 'k', title: 'k', content: 'c' }));
    const sends = Array.from({ length: 20 }, (_, i) => [i % 2 === 0 ? a : b, item('IncrementSkillUsage', { id: 'k' }, `inc-${i % 5}`)] as const);
    const outcomes = await Promise.all(sends.map(([s, it]) => s.executeBatch([it])));
    expect(outcomes.every((o) => o.outcomes[0]!.ok)).toBe(true);
    expect(outcomes.filter((o) => !o.outcomes[0]!.duplicate)).toHaveLength(5);
    const skill = await a.reader.get<{ usage_count: number }>('SELECT usage_count FROM skill_library WHERE id = ?', ['k']);
    expect(skill?.usage_count).toBe(5);
  });

  it('numbers changes in commit order across processes: gap-free, unique, each batch contiguous', async () => {
    const url = await server.database();
    const stores = [await open(url), await open(url), await open(url)];
    const batches = await Promise.all(
      Array.from({ length: 30 }, (_, b) =>
        stores[b % 3]!.executeBatch(Array.from({ length: 1 + (b % 4) }, (_, i) => item('CreateSession', { id: `c-${b}-${i}`, title: 't' }))),
      ),
    );
    const seqs = batches.flatMap((r) => r.changes.map((c) => c.seq)).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    for (const r of batches) {
      const s = r.changes.map((c) => c.seq);
      expect(s).toEqual(Array.from({ length: s.length }, (_, i) => s[0]! + i));
    }
    const logged = await stores[0]!.changesSince(0, 1000);
    expect(logged.map((c) => c.seq)).toEqual(seqs);
  });

  it('runs a batch again when the server picks it as a deadlock victim, with the same request ids: both batches apply once', async () => {
    const url = await server.database();
    const [a, b] = [await open(url), await open(url)];
    await a.executeBatch([item('InsertSkill', { id: 'p', title: 'p', content: '' }), item('InsertSkill', { id: 'q', title: 'q', content: '' })]);
    // Opposite lock orders (p then q, q then p), one batch at a time per process as its coordinator runs them.
    const run = async (store: PgStore, order: string[]) => {
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await store.executeBatch(order.map((id) => item('IncrementSkillUsage', { id }))));
      return results;
    };
    const runs = (await Promise.all([run(a, ['p', 'q']), run(b, ['q', 'p'])])).flat();
    expect(runs.flatMap((r) => r.outcomes).every((o) => o.ok && !o.duplicate)).toBe(true);
    const rows = await a.reader.all<{ id: string; usage_count: number }>('SELECT id, usage_count FROM skill_library ORDER BY id');
    expect(rows).toEqual([
      { id: 'p', usage_count: 10 },
      { id: 'q', usage_count: 10 },
    ]);
  });

  it('fails a batch whose connection the server ends as SHUTTING_DOWN (pg_terminate_backend is an administrator command; retryable), having applied nothing; the same ids then run once', async () => {
    const url = await server.database();
    const store = await open(url, 1);
    const admin = await open(url, 2);
    await store.executeWrite(item('InsertSkill', { id: 'z', title: 'z', content: '' }));
    const pid = (await store.reader.get<{ pid: number }>('SELECT pg_backend_pid() AS pid'))!.pid;
    // Hold the row so the batch waits inside its transaction, then end its connection.
    const holder = await admin.pool.connect();
    await holder.query('BEGIN');
    await holder.query("UPDATE skill_library SET title = 'held' WHERE id = 'z'");
    const batch = store.executeBatch([item('CreateSession', { id: 'u1', title: 't' }, 'u1'), item('IncrementSkillUsage', { id: 'z' }, 'u2')]).then(() => undefined, (e: unknown) => e);
    await waitFor(async () => (await admin.reader.get<{ n: number }>("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE pid = ? AND wait_event_type = 'Lock'", [pid]))!.n === 1);
    await admin.reader.get('SELECT pg_terminate_backend(?)', [pid]);
    const error = await batch;
    await holder.query('ROLLBACK');
    holder.release();
    expect(error).toBeInstanceOf(WriteError);
    expect((error as WriteError).code).toBe('SHUTTING_DOWN');
    expect((error as WriteError).isRetryable()).toBe(true);
    expect(await store.findRequest('u1')).toBeUndefined();
    const again = await store.executeBatch([item('CreateSession', { id: 'u1', title: 't' }, 'u1'), item('IncrementSkillUsage', { id: 'z' }, 'u2')]);
    expect(again.outcomes.map((o) => o.ok && !o.duplicate)).toEqual([true, true]);
  });

  it('never deactivates the same skill twice when two processes run DeactivateLowestSkill at once', async () => {
    const url = await server.database();
    const stores = [await open(url), await open(url), await open(url)];
    await stores[0]!.executeBatch(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((id, i) => item('InsertSkill', { id, title: id, content: '', success_rate: i / 10 })),
    );
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => stores[i % 3]!.executeWrite(item('DeactivateLowestSkill', {})) as Promise<{ id: string } | null>),
    );
    expect(results.map((r) => r?.id).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(await stores[0]!.executeWrite(item('DeactivateLowestSkill', {}))).toBeNull();
  });

  it('runs raw SQL (Exec, ExecBatch) with bound values, one statement each, all or nothing', async () => {
    const store = await open(await server.database());
    await store.executeWrite(item('Exec', { sql: 'CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT NOT NULL)' }));
    expect(await store.executeWrite(item('Exec', { sql: 'INSERT INTO notes (id, body) VALUES (?, ?)', params: ['n1', 'one'] }))).toEqual({
      changes: 1,
      last_insert_rowid: 0,
    });
    const errors = await Promise.all(
      [
        item('Exec', { sql: "INSERT INTO notes (id, body) VALUES ('n2', 'x'); DELETE FROM notes" }),
        item('Exec', { sql: 'INSERT INTO no_such_table (id) VALUES (?)', params: ['x'] }),
        item('ExecBatch', { statements: [{ sql: "INSERT INTO notes (id, body) VALUES ('n3', 'x')" }, { sql: "INSERT INTO notes (id, body) VALUES ('n1', 'dup')" }] }),
      ].map((i) => store.executeWrite(i).then(() => undefined, (e: unknown) => e as WriteError)),
    );
    expect(errors.map((e) => [e?.code, e?.field])).toEqual([
      ['INVALID_PARAMS', 'params.sql'],
      ['INVALID_PARAMS', 'params.sql'],
      ['CONFLICT', undefined],
    ]);
    // Nothing of the failed writes stands: not the second statement's DELETE, not the batch's first INSERT.
    expect(await store.reader.all('SELECT id, body FROM notes ORDER BY id')).toEqual([{ id: 'n1', body: 'one' }]);
  });

  it('runs read-only SQL through query() and refuses a statement that writes as INVALID_PARAMS', async () => {
    const store = await open(await server.database());
    expect(await store.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await expect(store.query("INSERT INTO sessions (id, title, created_at, updated_at) VALUES ('x', 'x', 'n', 'n')")).rejects.toMatchObject({
      code: 'INVALID_PARAMS',
    });
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
