import { describe, expect, it } from 'vitest';
import { WriteError } from '@scribe/protocol';
import { AGENT_WRITES, QUERIER_WRITES, READ_NAMES, StoreReads, createQuerier, directWriteFn, type WriteFn } from '@scribe/store';
import { harness, rejection } from './helpers.js';
import { TEST_ENGINES, useEngines } from '../../../test/helpers/engines.js';

// Shapes and codes, not durability: the faster server (fsync off).
const engines = useEngines({ durable: false });

// Over a WriteFn of the test's own: no store is written, the reads' source is incidental (SQLite).
describe.runIf(TEST_ENGINES.includes('sqlite'))('createQuerier over any WriteFn', () => {
  it('sends each typed write by its registered name with the params and options unchanged', async () => {
    const { store } = harness();
    const calls: Array<[string, unknown, unknown]> = [];
    const write: WriteFn = async (method, params, options) => {
      calls.push([method, params, options]);
      return { sent: method };
    };
    const q = createQuerier({ store, write });
    const opts = { timeoutMs: 30_000 };
    expect(await q.createMessage({ session_id: 's', role: 'user', parts: '[]' }, opts)).toEqual({ sent: 'CreateMessage' });
    await q.deactivateLowestSkill();
    await q.write('AppWrite', { a: 1 });
    await q.exec('UPDATE t SET x = ?', [1]);
    await q.exec('DELETE FROM t');
    await q.execBatch([{ sql: 'DELETE FROM t' }]);
    expect(calls).toEqual([
      ['CreateMessage', { session_id: 's', role: 'user', parts: '[]' }, opts],
      ['DeactivateLowestSkill', null, undefined],
      ['AppWrite', { a: 1 }, undefined],
      ['Exec', { sql: 'UPDATE t SET x = ?', params: [1] }, undefined],
      ['Exec', { sql: 'DELETE FROM t' }, undefined],
      ['ExecBatch', { statements: [{ sql: 'DELETE FROM t' }] }, undefined],
    ]);
  });

  it('has one typed method per built-in write, named by the write in camelCase', () => {
    const { store } = harness();
    const q = createQuerier({ store, write: async () => null });
    for (const w of AGENT_WRITES) {
      const method = w.name.charAt(0).toLowerCase() + w.name.slice(1);
      expect(QUERIER_WRITES[method as keyof typeof QUERIER_WRITES]).toBe(w.name);
      expect(store.registry.has(w.name)).toBe(true);
      expect(typeof Reflect.get(q, method)).toBe('function');
    }
    expect(Object.keys(QUERIER_WRITES)).toHaveLength(AGENT_WRITES.length);
  });

  it('passes a WriteFn rejection through as is', async () => {
    const { store } = harness();
    const q = createQuerier({ store, write: async () => Promise.reject(new WriteError('TIMEOUT', 'no answer')) });
    expect(await rejection(q.createSession({ title: 't' }))).toMatchObject({ code: 'TIMEOUT', retryable: true });
  });
});

describe.each(TEST_ENGINES)('on %s', (engine) => {
  describe('createQuerier', () => {
    it('has one async read per StoreReads method, answering what the store answers', async () => {
      const store = await engines.openTestStore(engine);
      const { q } = store;
      await q.createSession({ id: 's1', title: 't' });
      const names = Object.getOwnPropertyNames(StoreReads.prototype).filter((n) => n !== 'constructor');
      expect([...READ_NAMES].sort()).toEqual(names.sort());
      for (const name of READ_NAMES) expect(typeof q[name]).toBe('function');
      const pending = q.getSessionByID('s1');
      expect(pending).toBeInstanceOf(Promise);
      expect(await pending).toEqual(await store.reads.getSessionByID('s1'));
    });
  });

  describe('directWriteFn', () => {
    it('runs writes on the store with a fresh request id and source "local", recorded for idempotency', async () => {
      const store = await engines.openTestStore(engine);
      const { q } = store;
      const s = await q.createSession({ id: 's1', title: 't' });
      const [change] = await store.changesSince(0);
      expect(change).toMatchObject({ entity: 'sessions', key: 's1', source_instance_id: 'local' });
      const record = await store.findRequest(change!.request_id);
      expect(record).toMatchObject({ ok: true, method: 'CreateSession', source_instance_id: 'local', result: s });
    });

    it('reuses a given request id so a retried write applies once', async () => {
      const store = await engines.openTestStore(engine);
      const write = directWriteFn(store);
      const a = await write('CreateSession', { title: 'once' }, { requestId: 'fixed' });
      const b = await write('CreateSession', { title: 'once' }, { requestId: 'fixed' });
      expect(b).toEqual(a);
      expect(await store.reads.listAllSessions()).toHaveLength(1);
    });

    it('rejects with the write error', async () => {
      const { q } = await engines.openTestStore(engine);
      expect(await rejection(q.write('Nope', {}))).toMatchObject({ code: 'METHOD_NOT_FOUND', method: 'Nope' });
    });
  });

  describe('Querier.query (local read-only SQL)', () => {
    it('runs a read with positional or named params', async () => {
      const { q } = await engines.openTestStore(engine);
      await q.createSession({ id: 'a', title: 'alpha' });
      await q.createSession({ id: 'b', title: 'beta' });
      expect(await q.query('SELECT id FROM sessions WHERE title = ?', ['beta'])).toEqual([{ id: 'b' }]);
      expect(await q.query<{ n: number }>('SELECT COUNT(*) AS n FROM sessions WHERE id <> :id', { id: 'a' })).toEqual([{ n: 1 }]);
      expect(await q.query('SELECT id FROM sessions ORDER BY id')).toEqual([{ id: 'a' }, { id: 'b' }]);
    });

    it('refuses statements that write, with INVALID_PARAMS, and runs nothing', async () => {
      const { q } = await engines.openTestStore(engine);
      await q.createSession({ id: 'a', title: 'alpha' });
      await expect(q.query("UPDATE sessions SET title = 'x'")).rejects.toMatchObject({ code: 'INVALID_PARAMS', field: 'sql' });
      await expect(q.query('DELETE FROM sessions')).rejects.toBeInstanceOf(WriteError);
      expect((await q.getSession('a'))!.title).toBe('alpha');
    });

    it.each([
      ['an INSERT', "INSERT INTO sessions (id, title, created_at, updated_at) VALUES ('x', 'x', 'x', 'x')", 'sql'],
      ['a DELETE', 'DELETE FROM sessions', 'sql'],
      ['a CREATE', 'CREATE TABLE t (x INTEGER)', 'sql'],
      ['BEGIN', 'BEGIN', 'sql'],
      ['COMMIT', 'COMMIT', 'sql'],
      ['SAVEPOINT', 'SAVEPOINT s', 'sql'],
      ['a read, then a write', 'SELECT 1; DELETE FROM sessions', undefined],
      ['a read, then COMMIT and a write', "SELECT 1; COMMIT; INSERT INTO sessions (id, title, created_at, updated_at) VALUES ('x', 'x', 'x', 'x')", undefined],
      ['a session setting behind a comment', '/* hi */ SET search_path = nowhere', undefined],
    ])('refuses %s with INVALID_PARAMS, runs none of it, and leaves every connection as it was', async (_, sql, field) => {
      const { q } = await engines.openTestStore(engine);
      await q.createSession({ id: 's1', title: 'a' });
      const err = await rejection(q.query(sql));
      expect(err).toMatchObject({ code: 'INVALID_PARAMS', method: 'query' });
      // A statement refused as one that writes names the field; SQL the engine cannot compile as one statement need not.
      if (field !== undefined) expect(err.field).toBe(field);
      expect(await q.listAllSessions()).toHaveLength(1);
      // Reads on every connection of the store (more at once than it keeps) and a write still work as before.
      const reads = await Promise.all(Array.from({ length: 8 }, () => q.query('SELECT id FROM sessions ORDER BY id')));
      for (const rows of reads) expect(rows).toEqual([{ id: 's1' }]);
      expect(await q.createSession({ id: 's2', title: 'b' })).toMatchObject({ id: 's2' });
    });

    it('maps bad SQL to a WriteError without driver text', async () => {
      const { q } = await engines.openTestStore(engine);
      const e = await rejection(q.query('SELECT * FROM nowhere'));
      expect(e.code).toBe('INVALID_PARAMS');
      expect(e.message).not.toMatch(/nowhere/);
    });
  });
});
