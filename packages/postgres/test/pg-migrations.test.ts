import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { WriteError } from '@scribe/protocol';
import datastores from '@scribe/datastores';
import segments from '@scribe/segments';
import shadow from '@scribe/shadow';
import { APPLICATION_NAMESPACE, BUILTIN_MIGRATIONS, BUILTIN_NAMESPACE, SCHEMA_VERSION, Store, migrationLabel, orderMigrations, type Migration } from '@scribe/store';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATION_LOCK_KEY, applyPgMigrations, checkPgMigrations, pgAppliedMigrations } from '../src/pg-migrations.js';
import { createPgPool } from '../src/pg-pool.js';
import { mapPgError } from '../src/pg-errors.js';
import { PgSqlTx } from '../src/pg-sql-tx.js';
import { runPostgresTests, usePostgres } from '../../../test/helpers/postgres-server.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

const server = usePostgres();
const RACE_CHILD = fileURLToPath(new URL('./fixtures/migrate-race.mjs', import.meta.url));
const PLUGINS = [shadow, segments, datastores];
const ALL = orderMigrations([{ name: BUILTIN_NAMESPACE, migrations: BUILTIN_MIGRATIONS }, ...PLUGINS]);

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function freshPool(): Promise<pg.Pool> {
  const pool = createPgPool({ url: await server.database(), max: 4 });
  cleanups.push(() => pool.end());
  return pool;
}

/** The same schema made by SQLite (a Store with the three plugins), for comparison. */
function sqliteFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'scribe-pg-parity-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'parity.db');
  Store.open({ path: file, plugins: PLUGINS }).close();
  return file;
}

type Kind = 'integer' | 'real' | 'text';
const SQLITE_KIND: Record<string, Kind> = { INTEGER: 'integer', REAL: 'real', TEXT: 'text' };
const PG_KIND: Record<string, Kind> = { bigint: 'integer', integer: 'integer', 'double precision': 'real', text: 'text' };

describe.runIf(runPostgresTests)('migrations on PostgreSQL', () => {
  it('applies every scribe migration and the three plugins once, recording the same identities as SQLite; a second run applies nothing', async () => {
    const pool = await freshPool();
    const applied = await applyPgMigrations(pool, ALL, { now: () => '2026-01-01T00:00:00.000Z' });
    expect(applied.map(migrationLabel)).toEqual(ALL.map(migrationLabel));
    expect(await applyPgMigrations(pool, ALL)).toEqual([]);
    const db = new Database(sqliteFile(), { readonly: true });
    const onSqlite = db.prepare('SELECT plugin, version, name FROM _scribe_migrations ORDER BY plugin, version').all();
    db.close();
    expect(await pgAppliedMigrations(new PgSqlTx(pool))).toEqual(onSqlite);
  });

  it('gives every table the same columns as on SQLite, of the same kinds, plus rowid where reads order by insertion', async () => {
    const pool = await freshPool();
    await applyPgMigrations(pool, ALL);
    const db = new Database(sqliteFile(), { readonly: true });
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>).map(
      (t) => t.name,
    );
    const pgColumns = (await new PgSqlTx(pool).all<{ table_name: string; column_name: string; data_type: string; collation_name: string | null; is_nullable: string }>(
      "SELECT table_name, column_name, data_type, collation_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
    ));
    const pgTables = [...new Set(pgColumns.map((c) => c.table_name))].sort();
    expect(pgTables).toEqual([...tables, '_scribe_change_counter'].sort());
    const withRowid = new Set<string>();
    for (const table of tables) {
      const onSqlite = db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string; type: string; notnull: number; pk: number }>;
      const onPg = pgColumns.filter((c) => c.table_name === table);
      if (onPg.some((c) => c.column_name === 'rowid')) withRowid.add(table);
      const mine = onPg.filter((c) => c.column_name !== 'rowid');
      expect(mine.map((c) => c.column_name), table).toEqual(onSqlite.map((c) => c.name));
      for (const [i, col] of onSqlite.entries()) {
        const other = mine[i]!;
        expect(PG_KIND[other.data_type], `${table}.${col.name}`).toBe(SQLITE_KIND[col.type]);
        // NOT NULL as on SQLite (a primary key column is NOT NULL on PostgreSQL regardless).
        if (col.pk === 0) expect(other.is_nullable === 'NO', `${table}.${col.name} NOT NULL`).toBe(col.notnull === 1);
        if (other.data_type === 'text') expect(other.collation_name, `${table}.${col.name} collation`).toBe('C');
      }
    }
    db.close();
    expect([...withRowid].sort()).toEqual(['_scribe_requests', 'files', 'messages', 'projects', 'prompt_templates', 'session_scores', 'sessions', 'skill_library']);
    // _scribe_changes.seq has no default: the engine assigns it from the counter.
    const seq = await new PgSqlTx(pool).get<{ d: string | null }>(
      "SELECT column_default AS d FROM information_schema.columns WHERE table_name = '_scribe_changes' AND column_name = 'seq'",
    );
    expect(seq).toEqual({ d: null });
    expect(await new PgSqlTx(pool).all('SELECT id, seq FROM _scribe_change_counter')).toEqual([{ id: 1, seq: 0 }]);
  });

  it('keeps the same CHECKs and keys, and the UCB trigger gives the same statistics as on SQLite', async () => {
    const pool = await freshPool();
    await applyPgMigrations(pool, ALL);
    const tx = new PgSqlTx(pool);
    const t = '2026-01-01T00:00:00.000Z';
    const statements: Array<[string, Array<string | number | null>]> = [
      ['INSERT INTO prompt_templates (id, name, section, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', ['tpl', 'n', 's', 'c', t, t]],
      ['INSERT INTO sessions (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)', ['s1', 'x', t, t]],
      ['INSERT INTO session_scores (id, session_id, template_id, reward, created_at) VALUES (?, ?, ?, ?, ?)', ['sc1', 's1', 'tpl', 0.5, '2026-01-01T00:00:01.000Z']],
      ['INSERT INTO session_scores (id, session_id, template_id, reward, created_at) VALUES (?, ?, ?, ?, ?)', ['sc2', 's1', 'tpl', null, '2026-01-01T00:00:02.000Z']],
      ['INSERT INTO session_scores (id, session_id, template_id, reward, created_at) VALUES (?, ?, ?, ?, ?)', ['sc3', 's1', 'tpl', 1, '2026-01-01T00:00:03.000Z']],
      ['INSERT INTO session_scores (id, session_id, template_id, reward, created_at) VALUES (?, ?, ?, ?, ?)', ['sc4', 's1', null, 1, '2026-01-01T00:00:04.000Z']],
    ];
    const file = sqliteFile();
    const db = new Database(file);
    for (const [sql, params] of statements) {
      await tx.run(sql, params);
      db.prepare(sql).run(...params);
    }
    const read = 'SELECT template_id, times_used, total_reward, avg_reward, ucb_score, last_used_at, updated_at FROM prompt_ucb_stats ORDER BY template_id';
    const expected = db.prepare(read).all();
    expect(expected).toHaveLength(1);
    expect(await tx.all(read)).toEqual(expected);
    db.close();

    const code = async (sql: string, params: Array<string | number>): Promise<string> =>
      tx.run(sql, params).then(
        () => 'applied',
        (e: unknown) => mapPgError(e, null).code,
      );
    expect(await code('INSERT INTO projects (id, name, path, initialized, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', ['p', 'n', '/p', 2, t, t])).toBe('CONFLICT');
    expect(await code("INSERT INTO _datastores (id, kind, primary_key, created_at, updated_at) VALUES (?, 'forever', 'k', ?, ?)", ['d', t, t])).toBe('CONFLICT');
    expect(await code('INSERT INTO messages (id, session_id, role, parts, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', ['m', 'nope', 'user', '[]', t, t])).toBe('CONFLICT');
    expect(await code('INSERT INTO _segment_traces (session_id, segment_id, entry, recorded_at) VALUES (?, ?, ?, ?)', ['s', 'nope', '{}', t])).toBe('CONFLICT');
  });

  it('refuses a database with a newer version than the code knows (SCHEMA_MISMATCH) and applies nothing', async () => {
    const pool = await freshPool();
    await applyPgMigrations(pool, ALL);
    await pool.query("INSERT INTO _scribe_migrations (plugin, version, name, applied_at) VALUES ('scribe', 99, 'from the future', 'x')");
    const withApp = orderMigrations([
      { name: BUILTIN_NAMESPACE, migrations: BUILTIN_MIGRATIONS },
      { name: APPLICATION_NAMESPACE, migrations: [{ version: 1000, name: 'app', up: { postgres: 'CREATE TABLE app (id BIGINT)' } }] },
    ]);
    const error = await applyPgMigrations(pool, withApp).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WriteError);
    expect(error).toMatchObject({ code: 'SCHEMA_MISMATCH', message: expect.stringContaining(`scribe schema version 99 but this code knows scribe versions up to ${SCHEMA_VERSION}`) });
    await expect(checkPgMigrations(new PgSqlTx(pool), withApp)).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH' });
    expect((await pool.query("SELECT to_regclass('app')::text AS t")).rows[0]).toEqual({ t: null });
    // A process that knows only some namespaces (not the plugins') is not refused for theirs.
    await pool.query("DELETE FROM _scribe_migrations WHERE version = 99");
    expect((await checkPgMigrations(new PgSqlTx(pool), orderMigrations([{ name: BUILTIN_NAMESPACE, migrations: BUILTIN_MIGRATIONS }]))).length).toBe(ALL.length);
  });

  it('refuses, before applying anything, a pending migration that has SQL for SQLite only', async () => {
    const pool = await freshPool();
    const sqliteOnly: Migration = { version: 1000, name: 'sqlite only', up: 'CREATE TABLE notes (id INTEGER PRIMARY KEY) WITHOUT ROWID' };
    const known = orderMigrations([
      { name: BUILTIN_NAMESPACE, migrations: BUILTIN_MIGRATIONS },
      { name: APPLICATION_NAMESPACE, migrations: [sqliteOnly] },
    ]);
    await expect(applyPgMigrations(pool, known)).rejects.toThrow(
      "Expected every pending migration to have a step for PostgreSQL, but application@1000 (sqlite only) has none; give it `up: { sqlite: …, postgres: … }` (a plain SQL string or function is SQLite's)",
    );
    expect(await pgAppliedMigrations(new PgSqlTx(pool))).toEqual([]);
  });

  it('rolls back a failing migration with its record, keeps the ones before it, and names it', async () => {
    const pool = await freshPool();
    const known = orderMigrations([
      {
        name: APPLICATION_NAMESPACE,
        migrations: [
          { version: 1000, name: 'good', up: { postgres: 'CREATE TABLE good (id BIGINT)' } },
          { version: 1001, name: 'bad', up: { postgres: 'CREATE TABLE half (id BIGINT); SELECT * FROM no_such_table' } },
        ],
      },
    ]);
    const error = (await applyPgMigrations(pool, known).catch((e: unknown) => e)) as Error;
    expect(error.message).toBe('migrate: apply application@1001 (bad)');
    expect((error.cause as { code?: string }).code).toBe('42P01');
    expect((await pgAppliedMigrations(new PgSqlTx(pool))).map(migrationLabel)).toEqual(['application@1000']);
    expect((await pool.query("SELECT to_regclass('half')::text AS t")).rows[0]).toEqual({ t: null });
    // The lock was released: the next run proceeds (and fails the same way, applying nothing more).
    await expect(applyPgMigrations(pool, known)).rejects.toThrow('migrate: apply application@1001 (bad)');
  });

  it('waits for another process holding the migration lock, or gives up after lockTimeoutMs with a message saying so', async () => {
    const url = await server.database();
    const pool = createPgPool({ url, max: 2 });
    cleanups.push(() => pool.end());
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    cleanups.push(() => holder.end());
    await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    await expect(applyPgMigrations(pool, ALL, { lockTimeoutMs: 50 })).rejects.toThrow(
      'migrate: another process held the migration lock for more than 50 ms (lockTimeoutMs)',
    );
    expect(await pgAppliedMigrations(new PgSqlTx(pool))).toEqual([]);
    // Without a bound it waits, and runs once the holder lets go.
    const waiting = applyPgMigrations(pool, ALL);
    const holderPid = ((await holder.query('SELECT pg_backend_pid() AS p')).rows[0] as { p: number }).p;
    // Bounded wait until the waiter is blocked on the holder's lock.
    for (let i = 0; i < 500; i++) {
      const r = await holder.query('SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))', [holderPid]);
      if ((r.rows[0] as { n: number }).n === 1) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
    expect((await waiting).map(migrationLabel)).toEqual(ALL.map(migrationLabel));
    await expect(applyPgMigrations(pool, ALL, { lockTimeoutMs: 0 })).rejects.toThrow("Expected 'lockTimeoutMs' to be an integer from 1 and up, got 0 (number)");
  });

  it('several processes racing to migrate one fresh database: each migration is applied exactly once', async () => {
    const url = await server.database();
    const count = 4;
    const children = Array.from({ length: count }, () => {
      const child = spawn(process.execPath, [RACE_CHILD, url], { stdio: ['pipe', 'pipe', 'pipe'] });
      cleanups.push(() => {
        if (child.exitCode === null) child.kill('SIGKILL');
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const ready = new Promise<void>((resolve, reject) => {
        child.stdout.on('data', () => out.includes('ready\n') && resolve());
        child.once('exit', (code) => reject(new Error(`child exited ${code} before it was ready: ${err}`)));
      });
      const done = new Promise<{ pid: number; applied: Array<{ plugin: string; version: number }> }>((resolve, reject) => {
        child.once('exit', (code) => {
          if (code !== 0) return reject(new Error(`child exited ${code}: ${err}`));
          resolve(JSON.parse(out.split('\n').filter((l) => l.startsWith('{'))[0]!) as { pid: number; applied: Array<{ plugin: string; version: number }> });
        });
      });
      return { child, ready, done };
    });
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.child.stdin.write('go\n');
    const results = await Promise.all(children.map((c) => c.done));

    const labels = results.flatMap((r) => r.applied.map(migrationLabel));
    const expected = [...ALL.map(migrationLabel), 'application@1000'];
    expect(labels.sort()).toEqual([...expected].sort()); // every migration once across all processes
    const pool = createPgPool({ url, max: 1 });
    cleanups.push(() => pool.end());
    const tx = new PgSqlTx(pool);
    expect((await tx.all('SELECT pid FROM race_runs')).length).toBe(1);
    expect((await pgAppliedMigrations(tx)).map(migrationLabel).sort()).toEqual([...expected].sort());
    const applier = results.find((r) => r.applied.length > 0)!;
    expect(await tx.all('SELECT pid FROM race_runs')).toEqual([{ pid: applier.pid }]);
  }, 60_000);
});
