import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { WriteError } from '@scribe/protocol';
import { Store } from '@scribe/store';
import { harness, item, rejection, snapshot } from './helpers.js';
import { TEST_ENGINES, useEngines } from '../../../test/helpers/engines.js';
import { waitFor } from '../../../test/helpers/node-process.js';

// What a batch answers and records, not durability: the faster server (fsync off).
const engines = useEngines({ durable: false });

describe.each(TEST_ENGINES)('Store.executeBatch on %s', (engine) => {
  it('a failing write amid successful ones rolls back only itself and gets its own error', async () => {
    const store = await engines.openTestStore(engine);
    const result = (await store.executeBatch([
      item('CreateSession', { id: 's1', title: 'one' }),
      item('CreateMessage', { id: 'm1', session_id: 's1', role: 'user', parts: '[]' }),
      item('CreateMessage', { id: 'm2', session_id: 'missing', role: 'user', parts: '[]' }),
      item('CreateSession', { id: 's1', title: 'duplicate id' }),
      item('CreateSession', { title: 7 }),
      item('NoSuchWrite', {}),
      item('CreateMessage', { id: 'm3', session_id: 's1', role: 'assistant', parts: '[]' }),
    ]));
    expect(result.outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual([
      'ok', 'ok', 'CONFLICT', 'CONFLICT', 'INVALID_PARAMS', 'METHOD_NOT_FOUND', 'ok',
    ]);
    const failed = result.outcomes.filter((o) => !o.ok);
    for (const o of failed) expect(o.ok === false && o.error).toBeInstanceOf(WriteError);
    expect(result.outcomes[5]).toMatchObject({ ok: false, error: { method: 'NoSuchWrite' } });
    expect(result.outcomes[4]).toMatchObject({ ok: false, error: { field: 'params.title' } });
    expect((await store.reads.listMessages('s1')).map((m) => m.id)).toEqual(['m1', 'm3']);
    expect(await store.reads.getSession('s1')).toMatchObject({ title: 'one', message_count: 2 });
    expect(await store.reads.getMessage('m2')).toBeUndefined();
  });

  it('with `validated`, takes the params as already parsed (no second parse) but still refuses an unknown write', async () => {
    const store = await engines.openTestStore(engine);
    // `extra` would be refused by the strict schema: accepted here, the parse was skipped.
    const result = (await store.executeBatch(
      [item('CreateSession', { id: 's1', title: 'trusted', extra: 1 }), item('NoSuchWrite', {})],
      { validated: true },
    ));
    expect(result.outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['ok', 'METHOD_NOT_FOUND']);
    expect(await store.reads.getSession('s1')).toMatchObject({ title: 'trusted' });
    const parsed = await store.executeBatch([item('CreateSession', { id: 's2', title: 'checked', extra: 1 })]);
    expect(parsed.outcomes[0]).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMS', field: 'params.extra' } });
  });

  it('records every non-retryable outcome with its request id in the same transaction', async () => {
    const store = await engines.openTestStore(engine);
    const { clock } = store;
    await store.executeBatch([item('CreateSession', { id: 's1', title: 'x' }, 'r-ok'), item('UpdateSession', { id: 'nope' }, 'r-fail')]);
    expect(await store.findRequest('r-ok')).toEqual({
      request_id: 'r-ok',
      source_instance_id: 'test',
      method: 'CreateSession',
      ok: true,
      result: await store.reads.getSession('s1'),
      committed_at: clock.iso,
    });
    expect(await store.findRequest('r-fail')).toMatchObject({
      ok: false,
      method: 'UpdateSession',
      result: { code: 'NOT_FOUND', message: expect.stringMatching(/^UpdateSession: /) },
    });
    expect(await store.findRequest('never-sent')).toBeUndefined();
  });

  it('a repeated request id returns the first outcome (success or failure) and executes nothing', async () => {
    const store = await engines.openTestStore(engine);
    const { clock } = store;
    const first = (await store.executeBatch([
      item('CreateSession', { id: 's1', title: 'first' }, 'r1'),
      item('CreateMessage', { session_id: 'missing', role: 'user', parts: '[]' }, 'r2'),
    ]));
    clock.advance();
    const before = await store.snapshot();
    const again = (await store.executeBatch([
      item('CreateSession', { id: 's1', title: 'first' }, 'r1'),
      // The same request id with different params still answers from the record: a retry never re-executes.
      item('CreateMessage', { session_id: 's1', role: 'user', parts: '[]' }, 'r2'),
    ]));
    expect(await store.snapshot()).toEqual(before);
    expect(again.changes).toEqual([]);
    expect(again.outcomes[0]).toEqual({ ok: true, result: (first.outcomes[0] as { result: unknown }).result, duplicate: true });
    const o = again.outcomes[1]!;
    expect(o.ok).toBe(false);
    expect(o.duplicate).toBe(true);
    if (!o.ok) {
      expect(o.error).toBeInstanceOf(WriteError);
      expect(o.error).toMatchObject({ code: 'CONFLICT', method: 'CreateMessage', retryable: false });
      expect(o.error.message).toBe((first.outcomes[1] as { error: WriteError }).error.message);
    }
  });

  it('a request id repeated inside one batch runs once; the repeat gets the same outcome marked duplicate', async () => {
    const store = await engines.openTestStore(engine);
    const r = (await store.executeBatch([
      item('CreateSession', { title: 'a' }, 'same'),
      item('CreateSession', { title: 'b' }, 'same'),
      item('DeleteSession', { id: 'x' }, 'other'),
      item('DeleteSession', { id: 'x' }, 'other'),
    ]));
    expect(await store.reads.listAllSessions()).toHaveLength(1);
    expect(r.outcomes[0]).toMatchObject({ ok: true, duplicate: false });
    expect(r.outcomes[1]).toEqual({ ...r.outcomes[0], duplicate: true });
    expect(r.outcomes[3]).toEqual({ ok: true, result: { deleted: 0, messages: 0, files: 0, scores: 0 }, duplicate: true });
  });

  it('change events get gap-free increasing seq among committed writes, failed writes add none', async () => {
    const store = await engines.openTestStore(engine);
    const { clock } = store;
    const a = (await store.executeBatch([
      item('CreateSession', { id: 's1', title: 'one' }, 'r1'),
      item('CreateMessage', { id: 'm1', session_id: 'missing', role: 'user', parts: '[]' }, 'r2'),
      item('CreateMessage', { id: 'm2', session_id: 's1', role: 'user', parts: '[]' }, 'r3'),
    ]));
    expect(a.changes).toEqual([
      { seq: 1, entity: 'sessions', key: 's1', op: 'created', request_id: 'r1', source_instance_id: 'test', at: clock.iso },
      { seq: 2, entity: 'messages', key: 'm2', op: 'created', request_id: 'r3', source_instance_id: 'test', at: clock.iso },
      { seq: 3, entity: 'sessions', key: 's1', op: 'updated', request_id: 'r3', source_instance_id: 'test', at: clock.iso },
    ]);
    const b = await store.executeBatch([item('DeleteSession', { id: 's1' }, 'r4')]);
    expect(b.changes.map((c) => [c.seq, c.entity, c.key, c.op])).toEqual([
      [4, 'messages', 'm2', 'deleted'],
      [5, 'sessions', 's1', 'deleted'],
    ]);
    expect(await store.changesSince(0)).toEqual([...a.changes, ...b.changes]);
    expect((await store.changesSince(3)).map((c) => c.seq)).toEqual([4, 5]);
    expect((await store.changesSince(0, 2)).map((c) => c.seq)).toEqual([1, 2]);
  });

  it('when COMMIT fails it rolls everything back and throws a retryable error', async () => {
    // A deferred foreign key is checked only at COMMIT: a real way to make COMMIT itself fail.
    const deferred = 'CREATE TABLE notes (id TEXT PRIMARY KEY, session_id TEXT REFERENCES sessions (id) DEFERRABLE INITIALLY DEFERRED)';
    const store = await engines.openTestStore(engine, { migrations: [{ version: 1001, name: 'deferred fk', up: { sqlite: deferred, postgres: deferred } }] });
    const before = await store.snapshot();
    const e = await rejection(store.executeBatch([
        item('CreateSession', { id: 'ok', title: 'fine' }, 'c1'),
        item('Exec', { sql: "INSERT INTO notes (id, session_id) VALUES ('n', 'no-such-session')" }, 'c2'),
      ]));
    expect(e.retryable).toBe(true);
    expect(['BUSY', 'INTERNAL']).toContain(e.code);
    expect(await store.snapshot()).toEqual(before);
    expect(await store.findRequest('c1')).toBeUndefined();
    expect(await store.reads.getSession('ok')).toBeUndefined();
    // The store is usable afterwards.
    expect((await store.executeWrite(item('CreateSession', { id: 'after', title: 'x' })))).toMatchObject({ id: 'after' });
  });

  it('executeWrite returns the result or throws the write error', async () => {
    const store = await engines.openTestStore(engine);
    expect((await store.executeWrite(item('CreateSession', { id: 's', title: 't' })))).toMatchObject({ id: 's', title: 't' });
    expect(await rejection(store.executeWrite(item('UpdateSession', { id: 'missing', title: 'x' })))).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('an empty batch commits nothing and returns nothing', async () => {
    const store = await engines.openTestStore(engine);
    expect((await store.executeBatch([]))).toEqual({ outcomes: [], changes: [] });
  });

  it('prunes idempotency records to the newest requestRetention', async () => {
    const store = await engines.openTestStore(engine, { requestRetention: 10 });
    const items = Array.from({ length: 1200 }, (_, i) => item('InsertSkill', { title: `s${i}`, content: '' }, `keep-${i}`));
    await store.executeBatch(items.slice(0, 600));
    await store.executeBatch(items.slice(600));
    const left = async (): Promise<number> => (await store.query<{ n: number }>('SELECT COUNT(*) AS n FROM _scribe_requests'))[0]!.n;
    // On PostgreSQL the prune runs after the batch that crossed 1000 writes, beside the next
    // ones (not inside them): wait (bounded) until it has committed. On SQLite it already has.
    if (engine === 'postgres') await waitFor(async () => (await left()) <= 10 + 600, 20_000, 'the prune of the request log');
    expect(await left()).toBeLessThanOrEqual(10 + 600);
    expect(await store.findRequest('keep-0')).toBeUndefined();
    expect(await store.findRequest('keep-1199')).toMatchObject({ ok: true });
  });

  it('refuses writes after close with SHUTTING_DOWN; close is idempotent', async () => {
    const store = await engines.openTestStore(engine);
    await store.close();
    await store.close();
    expect(await rejection(store.executeBatch([item('CreateSession', { title: 'x' })]))).toMatchObject({ code: 'SHUTTING_DOWN' });
  });
});

describe.runIf(TEST_ENGINES.includes('sqlite'))('Store.executeBatch on sqlite only', () => {
  // SQLite-only: the file's write lock (BEGIN IMMEDIATE) has no counterpart on PostgreSQL, where peers write concurrently.
  it('when BEGIN IMMEDIATE cannot get the write lock it throws a retryable BUSY and applies nothing', async () => {
    const { store, path } = harness({ busyTimeoutMs: 0 });
    await store.executeWrite(item('CreateSession', { id: 'before', title: 'x' }));
    const before = snapshot(store);
    const holder = new Database(path, { timeout: 0 });
    holder.exec("BEGIN IMMEDIATE; INSERT INTO projects (id, name, path, created_at, updated_at) VALUES ('h', 'h', '/h', 'x', 'x')");
    try {
      const e = await rejection(store.executeBatch([item('CreateSession', { id: 'during', title: 'x' }, 'locked-1'), item('CreateSession', { title: 'y' })]));
      expect(e).toMatchObject({ code: 'BUSY', retryable: true });
      expect(e.isRetryable()).toBe(true);
      expect(e.message).toMatch(/nothing was applied/);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect(snapshot(store)).toEqual(before);
    expect(store.findRequest('locked-1')).toBeUndefined();
    // The same request succeeds on retry once the lock is gone.
    expect((await store.executeWrite(item('CreateSession', { id: 'during', title: 'x' }, 'locked-1')))).toMatchObject({ id: 'during' });
  });

});

// SQLite-only: Store.open's own options and pragmas (PgStore.open's are tested in packages/postgres/test/pg-store.test.ts).
describe.runIf(TEST_ENGINES.includes('sqlite'))('Store.open options', () => {
  it.each([
    [{ busyTimeoutMs: -1 }, /busyTimeoutMs/],
    [{ busyTimeoutMs: 1.5 }, /busyTimeoutMs/],
    [{ requestRetention: 0 }, /requestRetention/],
    [{ synchronous: 'SOMETIMES' }, /synchronous/],
    [{ clock: 'now' }, /clock/],
  ])('refuses %o with a TypeError that names the option', async (bad, message) => {
    const { dir } = harness();
    expect(() => Store.open({ path: `${dir}/x.db`, ...(bad as object) })).toThrow(message);
  });

  it('applies the durability pragmas on a read-write open', async () => {
    const { store } = harness({ synchronous: 'NORMAL', busyTimeoutMs: 1234 });
    expect(store.query('SELECT * FROM pragma_journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    expect(store.query('SELECT * FROM pragma_foreign_keys')).toEqual([{ foreign_keys: 1 }]);
    expect(store.query('SELECT * FROM pragma_synchronous')).toEqual([{ synchronous: 1 }]);
    expect(store.query('SELECT * FROM pragma_busy_timeout')).toEqual([{ timeout: 1234 }]);
    const { store: full } = harness();
    expect(full.query('SELECT * FROM pragma_synchronous')).toEqual([{ synchronous: 2 }]);
  });
});

// SQLite-only: it reopens the file; PostgreSQL prunes after batches (the retention suite in batch.test.ts runs on both).
describe.runIf(TEST_ENGINES.includes('sqlite'))('retention across restarts', () => {
  it('prunes on open, so a primary restarted after every few writes stays within retention', async () => {
    const { path, store } = harness({ requestRetention: 5 });
    await store.executeBatch(Array.from({ length: 20 }, (_, i) => item('InsertSkill', { title: `s${i}`, content: '' }, `restart-${i}`)));
    store.close();
    const reopened = Store.open({ path, requestRetention: 5 });
    try {
      expect(reopened.query<{ n: number }>('SELECT COUNT(*) AS n FROM _scribe_requests')[0]!.n).toBe(5);
      expect(reopened.findRequest('restart-19')).toMatchObject({ ok: true });
      expect(reopened.findRequest('restart-14')).toBeUndefined();
    } finally {
      reopened.close();
    }
  });
});
