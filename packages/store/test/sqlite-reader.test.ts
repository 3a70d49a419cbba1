import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  READ_NAMES,
  SqliteReader,
  StoreReads,
  createQuerier,
  type QuerierReadSource,
  type QueryParams,
  type SqliteStatementSource,
} from '@scribe/store';
import { harness } from './helpers.js';

/** An in-memory connection whose `prepare` calls are counted, closed when the test finishes. */
function countingDb(): { db: Database.Database; prepared: string[] } {
  const db = new Database(':memory:');
  onTestFinished(() => {
    db.close();
  });
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t (name) VALUES ('a'), ('b')");
  const prepared: string[] = [];
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    prepared.push(sql);
    return prepare(sql);
  }) as typeof db.prepare;
  return { db, prepared };
}

describe('SqliteReader', () => {
  it('answers get and all with positional and named values; get answers undefined when there is no row', async () => {
    const { db } = countingDb();
    const r = new SqliteReader(db);
    expect(r.dialect).toBe('sqlite');
    expect(await r.get('SELECT name FROM t WHERE id = ?', [2])).toEqual({ name: 'b' });
    expect(await r.get('SELECT name FROM t WHERE id = :id', { id: 1 })).toEqual({ name: 'a' });
    expect(await r.get('SELECT name FROM t WHERE id = ?', [99])).toBeUndefined();
    expect(await r.all('SELECT id, name FROM t ORDER BY id')).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ]);
  });

  it('prepares each SQL text once', async () => {
    const { db, prepared } = countingDb();
    const r = new SqliteReader(db);
    for (let i = 0; i < 3; i++) await r.all('SELECT * FROM t');
    await r.get('SELECT * FROM t WHERE id = ?', [1]);
    expect(prepared).toEqual(['SELECT * FROM t', 'SELECT * FROM t WHERE id = ?']);
  });

  it('with statementCacheSize 0 prepares every call; refuses a size that is not a whole number', async () => {
    const { db, prepared } = countingDb();
    const r = new SqliteReader(db, { statementCacheSize: 0 });
    await r.all('SELECT * FROM t');
    await r.all('SELECT * FROM t');
    expect(prepared).toHaveLength(2);
    expect(() => new SqliteReader(db, { statementCacheSize: -1 })).toThrow(
      "Expected 'statementCacheSize' to be an integer from 0 and up, got -1 (number)",
    );
  });

  it('over a connection\'s statement source, uses its cache and asks its guard before every read', async () => {
    const { db, prepared } = countingDb();
    const cache = new Map<string, Database.Statement>();
    let busy = false;
    const source: SqliteStatementSource = {
      statement(sql) {
        let s = cache.get(sql);
        if (s === undefined) cache.set(sql, (s = db.prepare(sql)));
        return s;
      },
      assertFree(what) {
        if (busy) throw new Error(`${what}: the connection is busy`);
      },
    };
    const r = new SqliteReader(source);
    expect(await r.get('SELECT name FROM t WHERE id = ?', [1])).toEqual({ name: 'a' });
    expect([...cache.keys()]).toEqual(['SELECT name FROM t WHERE id = ?']);
    busy = true;
    await expect(r.get('SELECT name FROM t WHERE id = ?', [1])).rejects.toThrow('read: the connection is busy');
    await expect(r.all('SELECT * FROM t')).rejects.toThrow('read: the connection is busy');
    expect(prepared).toHaveLength(1);
  });

  it('reports a bad statement as a rejected promise, never a synchronous throw', async () => {
    const { db } = countingDb();
    const r = new SqliteReader(db);
    let p: Promise<unknown> | undefined;
    expect(() => {
      p = r.all('SELECT * FROM nowhere');
    }).not.toThrow();
    await expect(p).rejects.toThrow(/no such table/);
    await expect(r.get('SELECT ?', [])).rejects.toThrow(RangeError);
  });
});

describe('createQuerier over a read source that is not a Store', () => {
  it('binds the reads of its StoreReads and awaits its query, as the PostgreSQL engine will supply them', async () => {
    const { store, q: writer, path } = harness();
    await writer.createSession({ id: 's1', title: 'from the writer' });
    const db = new Database(path, { readonly: true });
    onTestFinished(() => {
      db.close();
    });
    const queries: string[] = [];
    const source: QuerierReadSource = {
      reads: new StoreReads(new SqliteReader(db)),
      query: async <T>(sql: string, params?: QueryParams) => {
        queries.push(sql);
        return db.prepare(sql).all(...((params ?? []) as unknown[])) as T[];
      },
    };
    const q = createQuerier({ store: source, write: async () => null });
    expect(READ_NAMES.every((n) => typeof q[n] === 'function')).toBe(true);
    expect(await q.getSessionByID('s1')).toEqual(await store.reads.getSessionByID('s1'));
    expect(await q.query('SELECT title FROM sessions WHERE id = ?', ['s1'])).toEqual([{ title: 'from the writer' }]);
    expect(queries).toEqual(['SELECT title FROM sessions WHERE id = ?']);
    await expect(q.listSessionScores(1.5)).rejects.toMatchObject({ code: 'INVALID_PARAMS', field: 'limit' });
  });
});
