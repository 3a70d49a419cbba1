// The write definitions whose SQL had SQLite-only parts, run as they are (one
// definition) on a real PostgreSQL server through PgSqlTx: the shadow writes' dialect
// branches (catalogue, null-safe equality, the seed's typed parameter), DeleteMessage's
// CASE in place of MAX(a, b), and AppendSegmentTrace's RETURNING in place of the last
// insert rowid. Each test runs inside one transaction that is rolled back.
import type { ChangeOp, WriteMeta } from '@scribe/protocol';
import { WriteError } from '@scribe/protocol';
import { PgSqlTx, createPgPool } from '@scribe/postgres';
import { createDefaultRegistry, type AnyWriteDefinition, type WriteContext } from '@scribe/store';
import { registerShadowWrites } from '@scribe/shadow';
import { registerSegmentWrites } from '@scribe/segments';
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { runPostgresTests, usePostgres } from './helpers/postgres-server.js';

const server = usePostgres();
const pools: pg.Pool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.end()));
});

const registry = registerSegmentWrites(registerShadowWrites(createDefaultRegistry()));
const meta: WriteMeta = { source_instance_id: 'pg-test', request_id: 'r-1', timestamp: '2026-01-01T00:00:00.000Z' };

/** A transaction on a fresh database with `ddl` applied; `write` runs one registered write in it as the batch executor would. */
async function onPostgres(ddl: string) {
  const pool = createPgPool({ url: await server.database() });
  pools.push(pool);
  const client = await pool.connect();
  await client.query('BEGIN');
  await client.query(ddl);
  const tx = new PgSqlTx(client);
  const changes: Array<[string, string, ChangeOp]> = [];
  let n = 0;
  const write = async (method: string, params: unknown): Promise<any> => {
    const definition = registry.get(method) as AnyWriteDefinition;
    const ctx: WriteContext = {
      tx,
      now: new Date(Date.UTC(2026, 0, 1, 0, 0, ++n)).toISOString(),
      meta,
      change: (entity, key, op) => void changes.push([entity, key, op]),
    };
    await client.query('SAVEPOINT w');
    try {
      const result: unknown = await definition.handler(ctx, registry.validate(method, params));
      await client.query('RELEASE w');
      return result;
    } catch (e) {
      await client.query('ROLLBACK TO w');
      throw e;
    }
  };
  const done = async (): Promise<void> => {
    await client.query('ROLLBACK');
    client.release();
  };
  return { tx, write, changes, done };
}

describe.runIf(runPostgresTests)('portable write definitions on a real PostgreSQL server', () => {
  it('shadow sessions: open seeded from a table, insert, update and delete matching null with null, close', async () => {
    const pg = await onPostgres(`
      CREATE TABLE _shadow_sessions (session_id TEXT PRIMARY KEY, shadow_table TEXT NOT NULL, open_id TEXT NOT NULL UNIQUE,
                                     opened_at TEXT NOT NULL, opened_by TEXT NOT NULL);
      CREATE TABLE docs (id TEXT PRIMARY KEY, title TEXT, n INTEGER);
      CREATE TABLE docs_shadow (session_id TEXT NOT NULL, id TEXT NOT NULL, title TEXT, n INTEGER, PRIMARY KEY (session_id, id));
      INSERT INTO docs (id, title, n) VALUES ('a', 'alpha', 1), ('b', NULL, 2);`);
    try {
      // The table named in another case is found through information_schema, as SQLite finds it with NOCASE.
      const opened = await pg.write('OpenShadowSession', { session_id: 's1', shadow_table: 'DOCS_SHADOW', seed_from_table: 'docs' });
      expect(opened).toMatchObject({ session_id: 's1', shadow_table: 'docs_shadow', seeded: 2, opened_by: 'pg-test' });
      expect(await pg.write('InsertShadowRows', { session_id: 's1', rows: [{ id: 'c', title: null, n: 3 }] })).toEqual({ inserted: 1 });
      // title IS NOT DISTINCT FROM NULL: the two rows whose title is null, not zero rows.
      expect(await pg.write('UpdateShadowRows', { session_id: 's1', set: { title: 'untitled' }, where: { title: null } })).toEqual({ changed: 2 });
      expect(await pg.write('DeleteShadowRows', { session_id: 's1', where: { n: 1 } })).toEqual({ deleted: 1 });
      expect(await pg.tx.all('SELECT id, title, n FROM docs_shadow ORDER BY id')).toEqual([
        { id: 'b', title: 'untitled', n: 2 },
        { id: 'c', title: 'untitled', n: 3 },
      ]);
      // A column the shadow table lacks is refused from PostgreSQL's catalogue, naming it.
      const e = await pg.write('InsertShadowRows', { session_id: 's1', rows: [{ id: 'd', nope: 1 }] }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(WriteError);
      expect(e).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.rows.0.nope' });
      expect(await pg.write('CloseShadowSession', { session_id: 's1' })).toEqual({ closed: true, rows_deleted: 2 });
      expect(await pg.tx.all('SELECT * FROM _shadow_sessions')).toEqual([]);
      expect(pg.changes).toEqual([
        ['shadow_sessions', 's1', 'created'],
        ['shadow_sessions', 's1', 'deleted'],
      ]);
    } finally {
      await pg.done();
    }
  });

  it('DeleteMessage keeps message_count at 0 or more with CASE, and AppendSegmentTrace answers the id from RETURNING', async () => {
    const pg = await onPostgres(`
      CREATE TABLE sessions (id TEXT PRIMARY KEY, parent_session_id TEXT, title TEXT NOT NULL, message_count INTEGER NOT NULL DEFAULT 0,
                             prompt_tokens INTEGER NOT NULL DEFAULT 0, completion_tokens INTEGER NOT NULL DEFAULT 0,
                             cost DOUBLE PRECISION NOT NULL DEFAULT 0, summary_message_id TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
      CREATE TABLE messages (id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions (id), role TEXT NOT NULL, parts TEXT NOT NULL,
                             model TEXT, finished_at TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
      CREATE TABLE _segments (segment_id TEXT PRIMARY KEY, session_id TEXT NOT NULL, entry_count INTEGER NOT NULL, touched INTEGER NOT NULL,
                              created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
      CREATE TABLE _segment_entries (segment_id TEXT NOT NULL, position INTEGER NOT NULL, entry TEXT NOT NULL, appended_at TEXT NOT NULL,
                                     PRIMARY KEY (segment_id, position));
      CREATE TABLE _segment_traces (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, session_id TEXT NOT NULL, segment_id TEXT NOT NULL,
                                    entry TEXT NOT NULL, recorded_at TEXT NOT NULL);`);
    try {
      await pg.write('CreateSession', { id: 's', title: 'pg' });
      await pg.write('CreateMessage', { id: 'm1', session_id: 's', role: 'user', parts: '[]' });
      expect(await pg.tx.get('SELECT message_count FROM sessions')).toEqual({ message_count: 1 });
      expect(await pg.write('DeleteMessage', { id: 'm1' })).toEqual({ deleted: 1 });
      await pg.tx.run('UPDATE sessions SET message_count = 0');
      await pg.write('CreateMessage', { id: 'm2', session_id: 's', role: 'user', parts: '[]' });
      await pg.tx.run('UPDATE sessions SET message_count = 0');
      // A count already at 0 stays 0 (SQLite's MAX(message_count - 1, 0)).
      expect(await pg.write('DeleteMessage', { id: 'm2' })).toEqual({ deleted: 1 });
      expect(await pg.tx.get('SELECT message_count FROM sessions')).toEqual({ message_count: 0 });

      await pg.write('CreateSegment', { session_id: 's', segment_id: 'g', entries: ['1'] });
      const first = await pg.write('AppendSegmentTrace', { session_id: 's', segment_id: 'g', entry: '{"t":1}' });
      const second = await pg.write('AppendSegmentTrace', { session_id: 's', segment_id: 'g', entry: '{"t":2}' });
      expect(typeof first.id).toBe('number');
      expect(second.id).toBe(first.id + 1);
      expect(await pg.tx.all('SELECT id, entry FROM _segment_traces ORDER BY id')).toEqual([
        { id: first.id, entry: '{"t":1}' },
        { id: second.id, entry: '{"t":2}' },
      ]);
    } finally {
      await pg.done();
    }
  });
});
