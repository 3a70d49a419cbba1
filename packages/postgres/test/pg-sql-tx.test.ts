import { Writable } from 'node:stream';
import pg from 'pg';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createPgPool } from '../src/pg-pool.js';
import { PgSqlTx } from '../src/pg-sql-tx.js';
import { runPostgresTests, usePostgres } from '../../../test/helpers/postgres-server.js';

// Without PostgreSQL binaries these cannot run; CI installs them (.ci/run), so there they must.
const run = runPostgresTests;
const server = usePostgres();
const pools: pg.Pool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.end()));
});

describe.runIf(run)('PgSqlTx over a real PostgreSQL server', () => {
  const pool = async (options: Partial<Parameters<typeof createPgPool>[0]> = {}): Promise<pg.Pool> => {
    const p = createPgPool({ url: await server.database(), ...options });
    pools.push(p);
    return p;
  };

  it('returns rows with the shapes SQLite gives: BIGINT/COUNT/SUM and numeric as numbers, booleans 0/1, JSON and times as text', async () => {
    const tx = new PgSqlTx(await pool());
    await tx.run('CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT NOT NULL, r DOUBLE PRECISION, ok INTEGER NOT NULL, body TEXT)');
    await tx.run('INSERT INTO t (id, n, r, ok, body) VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)', ['a', 9007199254740991, 1.5, 1, '{"x":1}', 'b', 2, null, 0, null]);
    const row = await tx.get(
      `SELECT COUNT(*) AS c, SUM(n) AS s, MAX(n) AS m, AVG(r) AS avg, 2.5::numeric AS num, EXISTS (SELECT 1 FROM t) AS e,
              '{"a": [1]}'::jsonb AS j, '2026-01-01T00:00:00Z'::timestamptz AS ts FROM t WHERE n < 10`,
    );
    expect(row).toEqual({ c: 1, s: 2, m: 2, avg: null, num: 2.5, e: 1, j: '{"a": [1]}', ts: expect.any(String) });
    expect(await tx.all('SELECT id, n, r, ok, body FROM t ORDER BY id')).toEqual([
      { id: 'a', n: 9007199254740991, r: 1.5, ok: 1, body: '{"x":1}' },
      { id: 'b', n: 2, r: null, ok: 0, body: null },
    ]);
    expect(await tx.get('SELECT id FROM t WHERE id = ?', ['none'])).toBeUndefined();
  });

  it('refuses a BIGINT a JavaScript number cannot hold exactly, instead of returning a wrong number', async () => {
    const tx = new PgSqlTx(await pool());
    await expect(tx.get('SELECT 9007199254740993::bigint AS n')).rejects.toThrow(/BIGINT within/);
    // The connection is still usable afterwards.
    expect(await tx.get('SELECT 1::bigint AS n')).toEqual({ n: 1 });
  });

  it('binds bigints, and named parameters in raw SQL', async () => {
    const tx = new PgSqlTx(await pool());
    expect(await tx.get('SELECT ?::bigint + 1 AS n', [41n])).toEqual({ n: 42 });
    expect(await tx.get('SELECT :a::text || @b::text || $c::text || :a::text AS s', { a: 'x', b: 'y', c: 'z' })).toEqual({ s: 'xyzx' });
    expect(await tx.get("SELECT '?' AS q, ?::text AS v -- ?", ['p'])).toEqual({ q: '?', v: 'p' });
  });

  it('reports the rows a write changed', async () => {
    const tx = new PgSqlTx(await pool());
    await tx.run('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    expect(await tx.run('INSERT INTO t (id, v) VALUES (1, ?), (2, ?), (3, ?)', ['a', 'b', 'c'])).toEqual({ changes: 3 });
    expect(await tx.run('UPDATE t SET v = ? WHERE id >= ?', ['z', 2])).toEqual({ changes: 2 });
    expect(await tx.run('DELETE FROM t WHERE id = ?', [9])).toEqual({ changes: 0 });
  });
});

describe.runIf(run)('the pool', () => {

  it('opens at most max connections, named by application_name; callers beyond wait for one', async () => {
    const url = await server.database();
    const p = createPgPool({ url, max: 2, applicationName: 'scribe-pool-test' });
    pools.push(p);
    const a = await p.connect();
    const b = await p.connect();
    const third = p.connect();
    expect(p.waitingCount).toBe(1);
    const admin = new PgSqlTx(a);
    const seen = await admin.get<{ n: number }>("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE application_name = 'scribe-pool-test'");
    expect(seen?.n).toBe(2);
    a.release();
    const c = await third;
    expect(p.totalCount).toBe(2);
    b.release();
    c.release();
  });

  it('passes TLS options through to the connection', async () => {
    // The test server has no TLS: a pool told to use it must fail for that reason.
    const p = createPgPool({ url: await server.database(), ssl: { rejectUnauthorized: true } });
    pools.push(p);
    await expect(p.query('SELECT 1')).rejects.toThrow(/does not support SSL/);
  });

  it('validates its options with messages that say what to change', () => {
    expect(() => createPgPool({ url: server.server().url, max: 0 })).toThrow("Expected 'max' to be an integer from 1 and up, got 0 (number)");
    expect(() => createPgPool({ url: '' })).toThrow(/Expected 'url'/);
  });

  it('logs a failed idle connection without the password and keeps serving', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const logger = pino({ level: 'debug' }, sink);
    // Trust authentication ignores the password, so a URL with one still connects.
    const url = (await server.database()).replace('scribe@', 'scribe:s3cret-pw@');
    const p = createPgPool({ url, max: 2, applicationName: 'scribe-idle-test', logger });
    pools.push(p);
    expect(await new PgSqlTx(p).get('SELECT 1 AS one')).toEqual({ one: 1 });
    const failed = new Promise<void>((resolve) => p.once('error', () => resolve()));
    const admin = new pg.Client({ connectionString: server.server().url });
    await admin.connect();
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'scribe-idle-test'");
    await admin.end();
    await failed;
    expect(await new PgSqlTx(p).get('SELECT 2 AS two')).toEqual({ two: 2 });
    const warned = lines.find((l) => l['level'] === 40);
    expect(warned).toMatchObject({ component: 'pg-pool', code: '57P01' });
    expect(String(warned?.['server'])).toContain('scribe:***@');
    expect(JSON.stringify(lines)).not.toContain('s3cret-pw');
  });
});
