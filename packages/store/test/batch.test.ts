import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { WriteError } from '@scribe/protocol';
import { createDefaultRegistry, defineWrite, type BatchItemOutcome, type StoredChange } from '@scribe/store';
import { harness, item, rejection, snapshot, thrown } from './helpers.js';

const NOTES = { version: 1000, name: 'notes', up: 'CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)' };

function ids(outcomes: BatchItemOutcome[]): unknown[] {
  return outcomes.map((o) => (o.ok ? (o.result as { id?: unknown }).id : o.error.code));
}

describe('executeBatch: one savepoint per write', () => {
  it('rolls back only the failing write, which gets its own error, while its neighbours commit', async () => {
    const { store } = harness({ migrations: [NOTES] });
    const items = [
      item('CreateSession', { id: 's1', title: 'a' }),
      // Inserts 'half' and then fails on the second statement: the savepoint takes 'half' back too.
      item('ExecBatch', { statements: [{ sql: "INSERT INTO notes (body) VALUES ('half')" }, { sql: "INSERT INTO notes (body) VALUES ('dup')" }, { sql: "INSERT INTO notes (body) VALUES ('dup')" }] }),
      item('CreateSession', { id: 's1', title: 'duplicate' }),
      item('CreateSession', { title: 42 }),
      item('NoSuchWrite', {}),
      item('CreateSession', { id: 's2', title: 'b' }),
    ];
    const { outcomes, changes } = await store.executeBatch(items);
    expect(ids(outcomes)).toEqual(['s1', 'CONFLICT', 'CONFLICT', 'INVALID_PARAMS', 'METHOD_NOT_FOUND', 's2']);
    expect(outcomes[2]).toMatchObject({ ok: false, error: { method: 'CreateSession' }, duplicate: false });
    expect(outcomes[3]).toMatchObject({ ok: false, error: { field: 'params.title' } });
    expect(store.query('SELECT id, title FROM sessions ORDER BY id')).toEqual([
      { id: 's1', title: 'a' },
      { id: 's2', title: 'b' },
    ]);
    expect(store.query('SELECT * FROM notes')).toEqual([]);
    expect(changes.map((c) => c.key)).toEqual(['s1', 's2']);
    expect(changes.map((c) => c.request_id)).toEqual([items[0]!.meta.request_id, items[5]!.meta.request_id]);
  });
});

describe('executeBatch: request ids', () => {
  it('answers a request id seen in an earlier batch from its record, duplicate: true, executing nothing', async () => {
    const { store, clock } = harness();
    const first = await store.executeBatch([item('CreateSession', { title: 'once' }, 'rid-1')]);
    expect(first.outcomes[0]).toMatchObject({ ok: true, duplicate: false });
    clock.advance();
    const before = snapshot(store);
    // Even with different params: the request id decides.
    const again = await store.executeBatch([item('CreateSession', { title: 'twice' }, 'rid-1')]);
    expect(again.outcomes).toEqual([{ ok: true, result: (first.outcomes[0] as { result: unknown }).result, duplicate: true }]);
    expect(again.changes).toEqual([]);
    expect(snapshot(store)).toEqual(before);
  });

  it('answers a repeated non-retryable failure from its record, even when the params would now succeed', async () => {
    const { store } = harness();
    const first = await store.executeBatch([item('CreateSession', { title: 7 }, 'rid-bad')]);
    const firstError = (first.outcomes[0] as { error: WriteError }).error;
    expect(firstError).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.title' });
    const again = await store.executeBatch([item('CreateSession', { id: 'now-valid', title: 'fine' }, 'rid-bad')]);
    const outcome = again.outcomes[0]!;
    expect(outcome.ok).toBe(false);
    expect(outcome.duplicate).toBe(true);
    const err = (outcome as { error: WriteError }).error;
    expect(err).toBeInstanceOf(WriteError);
    expect(err).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.title', method: 'CreateSession', message: firstError.message, retryable: false });
    expect(await store.reads.getSession('now-valid')).toBeUndefined();
    expect(store.findRequest('rid-bad')).toMatchObject({ ok: false, method: 'CreateSession', result: { code: 'INVALID_PARAMS', field: 'params.title' } });
  });

  it('answers a request id repeated within one batch with the first outcome, duplicate: true, for successes and failures', async () => {
    const { store } = harness();
    const { outcomes, changes } = (await store.executeBatch([
      item('CreateSession', { title: 'a' }, 'same-ok'),
      item('CreateSession', { title: 'b' }, 'same-ok'),
      item('CreateSession', { id: 'x', parent_session_id: 'ghost', title: 'c' }, 'same-bad'),
      item('CreateSession', { id: 'x', title: 'd' }, 'same-bad'),
    ]));
    expect(outcomes[0]).toMatchObject({ ok: true, duplicate: false });
    expect(outcomes[1]).toEqual({ ...outcomes[0], duplicate: true });
    expect(outcomes[2]).toMatchObject({ ok: false, error: { code: 'CONFLICT' }, duplicate: false });
    expect(outcomes[3]).toEqual({ ...outcomes[2], duplicate: true });
    expect((await store.reads.listAllSessions()).map((s) => s.title)).toEqual(['a']);
    expect(changes).toHaveLength(1);
  });

  it('does not record a retryable failure, so a retry with the same request id runs', async () => {
    let busy = true;
    const registry = createDefaultRegistry().register(
      defineWrite({
        name: 'Flaky',
        description: 'Fails with BUSY once, then creates a session.',
        schema: z.strictObject({ id: z.string() }),
        async handler(ctx, p) {
          await ctx.tx.run("INSERT INTO sessions (id, title, created_at, updated_at) VALUES (?, 'flaky', ?, ?)", [p.id, ctx.now, ctx.now]);
          if (busy) {
            busy = false;
            throw new WriteError('BUSY', 'try again');
          }
          ctx.change('sessions', p.id, 'created');
          return { id: p.id };
        },
      }),
    );
    const { store } = harness({ registry });
    const first = await store.executeBatch([item('Flaky', { id: 'f' }, 'rid-flaky')]);
    expect(first.outcomes[0]).toMatchObject({ ok: false, error: { code: 'BUSY', method: 'Flaky', retryable: true } });
    expect(store.findRequest('rid-flaky')).toBeUndefined();
    expect(await store.reads.getSession('f')).toBeUndefined();
    const retry = await store.executeBatch([item('Flaky', { id: 'f' }, 'rid-flaky')]);
    expect(retry.outcomes[0]).toEqual({ ok: true, result: { id: 'f' }, duplicate: false });
    expect(store.findRequest('rid-flaky')).toMatchObject({ ok: true, result: { id: 'f' } });
  });
});

describe('executeBatch: the change log', () => {
  it('gives committed changes strictly increasing, gap-free seq across batches with failed writes', async () => {
    const { store, clock } = harness();
    const all: StoredChange[] = [];
    all.push(...(await store.executeBatch([item('CreateSession', { id: 's1', title: 'a' }), item('CreateSession', { id: 's1', title: 'dup' }), item('CreateSession', { id: 's2', title: 'b' })])).changes);
    clock.advance();
    all.push(...(await store.executeBatch([item('CreateMessage', { session_id: 'ghost', role: 'u', parts: '[]' }), item('CreateMessage', { id: 'm1', session_id: 's1', role: 'u', parts: '[]' })])).changes);
    all.push(...(await store.executeBatch([item('UpdateSession', { id: 'ghost' })])).changes);
    all.push(...(await store.executeBatch([item('DeleteSession', { id: 's2' })])).changes);
    expect(all.map((c) => c.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(all.map((c) => `${c.entity}:${c.key}:${c.op}`)).toEqual(['sessions:s1:created', 'sessions:s2:created', 'messages:m1:created', 'sessions:s1:updated', 'sessions:s2:deleted']);
    expect(store.changesSince(0)).toEqual(all);
    expect(store.latestChangeSeq()).toBe(5);
    expect(store.changesSince(3).map((c) => c.seq)).toEqual([4, 5]);
  });
});

describe('executeBatch: a batch that cannot begin', () => {
  it('throws a retryable BUSY WriteError and applies nothing while another connection holds the write lock', async () => {
    const { store, path } = harness({ busyTimeoutMs: 0 });
    const other = new Database(path);
    onTestFinished(() => void other.close());
    other.exec('BEGIN IMMEDIATE');
    const before = snapshot(store);
    const err = await rejection(store.executeBatch([item('CreateSession', { id: 's1', title: 'a' }, 'rid-busy')]));
    expect(err).toMatchObject({ code: 'BUSY', retryable: true });
    expect(err.message).not.toMatch(/SQLITE|scribe\.db/);
    other.exec('ROLLBACK');
    expect(snapshot(store)).toEqual(before);
    expect(store.findRequest('rid-busy')).toBeUndefined();
    // The same request goes through once the lock is free, as a first execution.
    expect((await store.executeBatch([item('CreateSession', { id: 's1', title: 'a' }, 'rid-busy')])).outcomes[0]).toMatchObject({ ok: true, duplicate: false });
  });

  it('throws SHUTTING_DOWN on a closed store', async () => {
    const { store } = harness();
    store.close();
    expect(await rejection(store.executeBatch([item('CreateSession', { title: 'a' })]))).toMatchObject({ code: 'SHUTTING_DOWN' });
  });
});

describe('retention', () => {
  it('prunes request records and change events beyond their retention, keeping the newest', async () => {
    const { store } = harness({ requestRetention: 3, changeRetention: 5 });
    const first = await store.executeBatch([item('CreateSession', { id: 'first', title: 'x' }, 'rid-first')]);
    expect(first.changes[0]!.seq).toBe(1);
    // The store prunes every 1000 writes; this batch crosses that.
    const items = Array.from({ length: 999 }, (_, i) => item('CreateSession', { id: `s${i}`, title: 'x' }, `rid-${i}`));
    const { changes } = await store.executeBatch(items);
    expect(store.query('SELECT request_id FROM _scribe_requests ORDER BY rowid')).toEqual(['rid-996', 'rid-997', 'rid-998'].map((request_id) => ({ request_id })));
    expect(store.latestChangeSeq()).toBe(1000);
    expect(store.oldestChangeSeq()).toBe(996);
    expect(store.changesSince(0)).toEqual(changes.slice(-5));
    // A pruned request id is no longer known: the idempotency window is the retention.
    expect(store.findRequest('rid-first')).toBeUndefined();
    // seq keeps growing past the pruned rows.
    expect((await store.executeBatch([item('CreateSession', { title: 'y' })])).changes[0]!.seq).toBe(1001);
  });

  it('refuses a retention that is not a positive integer', async () => {
    expect(() => harness({ requestRetention: 0 })).toThrow(/requestRetention/);
    expect(() => harness({ changeRetention: 1.5 })).toThrow(/changeRetention/);
  });
});
