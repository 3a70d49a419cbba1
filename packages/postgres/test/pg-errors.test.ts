import { chownSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { WriteError } from '@scribe/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { mapPgError } from '../src/pg-errors.js';
import { createPgPool } from '../src/pg-pool.js';
import { runPostgresTests, startPostgresServer, usePostgres } from '../../../test/helpers/postgres-server.js';
import { canMountTmpfs, mountTmpfs } from '../../../test/helpers/small-filesystem.js';

const server = usePostgres();
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
});

async function client(url: string, applicationName?: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, ...(applicationName === undefined ? {} : { application_name: applicationName }) });
  c.on('error', () => undefined); // a terminated connection also emits 'error'; the query's rejection is what is tested
  await c.connect();
  closers.push(() => c.end());
  return c;
}

/** The error `promise` rejects with, mapped as a write's. */
async function mapped(promise: Promise<unknown>, method: string | null = 'CreateThing'): Promise<WriteError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the operation should have failed').toBeDefined();
  return mapPgError(error, method);
}

async function schema(): Promise<{ url: string; c: pg.Client }> {
  const url = await server.database();
  const c = await client(url);
  await c.query(`CREATE TABLE parent (id TEXT PRIMARY KEY, n INTEGER NOT NULL CHECK (n >= 0), path TEXT UNIQUE);
                 CREATE TABLE child (id TEXT PRIMARY KEY, parent_id TEXT NOT NULL REFERENCES parent (id));
                 INSERT INTO parent (id, n, path) VALUES ('p1', 1, '/secret/path/of/a/user');`);
  return { url, c };
}

describe.runIf(runPostgresTests)('PostgreSQL errors from a real server, as WriteErrors', () => {
  it('maps constraint violations to the codes SQLite gives for them, without the server text', async () => {
    const { c } = await schema();
    const unique = await mapped(c.query("INSERT INTO parent (id, n, path) VALUES ('p2', 1, '/secret/path/of/a/user')"));
    expect(unique).toMatchObject({ code: 'CONFLICT', method: 'CreateThing', message: 'CreateThing: a row with this unique key already exists' });
    expect(unique.isRetryable()).toBe(false);
    expect(unique.message).not.toContain('/secret');
    expect((unique.cause as { code?: string }).code).toBe('23505');
    expect(await mapped(c.query("INSERT INTO parent (id, n) VALUES ('p1', 1)"))).toMatchObject({ code: 'CONFLICT' });
    expect(await mapped(c.query("INSERT INTO child (id, parent_id) VALUES ('c', 'nope')"))).toMatchObject({
      code: 'CONFLICT',
      message: 'CreateThing: a referenced row does not exist (or a row still refers to this one)',
    });
    expect(await mapped(c.query("INSERT INTO parent (id, n) VALUES ('p3', -1)"))).toMatchObject({ code: 'CONFLICT', message: 'CreateThing: a value breaks a check constraint' });
    expect(await mapped(c.query("INSERT INTO parent (id) VALUES ('p4')"))).toMatchObject({ code: 'INVALID_PARAMS', message: 'CreateThing: a required value is missing' });
    expect(await mapped(c.query("DO $$ BEGIN RAISE EXCEPTION 'no'; END $$"))).toMatchObject({ code: 'CONFLICT', message: 'CreateThing: a trigger refused the change' });
  });

  it('maps bad values and bad SQL to INVALID_PARAMS, as SQLite does', async () => {
    const { c } = await schema();
    expect(await mapped(c.query("SELECT 'x'::integer"))).toMatchObject({ code: 'INVALID_PARAMS' });
    expect(await mapped(c.query('SELECT * FROM no_such_table'))).toMatchObject({ code: 'INVALID_PARAMS', message: 'CreateThing: the statement is not valid SQL for this schema' });
    expect(await mapped(c.query('SELEC 1'))).toMatchObject({ code: 'INVALID_PARAMS' });
  });

  it('maps a serialization failure to BUSY, which is retryable', async () => {
    const { url } = await schema();
    const a = await client(url);
    const b = await client(url);
    await a.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
    await b.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
    // Each reads what the other writes: a read/write dependency cycle.
    await a.query("SELECT n FROM parent WHERE id = 'p1'");
    await b.query("SELECT n FROM parent WHERE id = 'p1'");
    await a.query("UPDATE parent SET n = n + 1 WHERE id = 'p1'");
    await a.query('COMMIT');
    const e = await mapped(b.query("UPDATE parent SET n = n + 1 WHERE id = 'p1'"));
    expect((e.cause as { code?: string }).code).toBe('40001');
    expect(e.code).toBe('BUSY');
    expect(e.isRetryable()).toBe(true);
    await b.query('ROLLBACK');
  });

  it('maps a deadlock to BUSY, which is retryable', async () => {
    const { url, c } = await schema();
    await c.query("INSERT INTO parent (id, n) VALUES ('p2', 1)");
    const a = await client(url);
    const b = await client(url);
    for (const x of [a, b]) await x.query("SET deadlock_timeout = '20ms'");
    await a.query('BEGIN');
    await b.query('BEGIN');
    await a.query("UPDATE parent SET n = 2 WHERE id = 'p1'");
    await b.query("UPDATE parent SET n = 2 WHERE id = 'p2'");
    const first = a.query("UPDATE parent SET n = 3 WHERE id = 'p2'").then(
      () => undefined,
      (e: unknown) => e,
    );
    const second = b.query("UPDATE parent SET n = 3 WHERE id = 'p1'").then(
      () => undefined,
      (e: unknown) => e,
    );
    const errors = (await Promise.all([first, second])).filter((e) => e !== undefined);
    expect(errors).toHaveLength(1);
    const e = mapPgError(errors[0], 'CreateThing');
    expect((e.cause as { code?: string }).code).toBe('40P01');
    expect(e).toMatchObject({ code: 'BUSY' });
    expect(e.isRetryable()).toBe(true);
    await a.query('ROLLBACK');
    await b.query('ROLLBACK');
  });

  it('maps a write on a read-only connection to NOT_PRIMARY and a canceled statement to TIMEOUT', async () => {
    const { c } = await schema();
    await c.query('SET default_transaction_read_only = on');
    expect(await mapped(c.query("INSERT INTO parent (id, n) VALUES ('r', 1)"))).toMatchObject({ code: 'NOT_PRIMARY' });
    await c.query("SET statement_timeout = '10ms'");
    expect(await mapped(c.query('SELECT pg_sleep(5)'))).toMatchObject({ code: 'TIMEOUT' });
  });

  it('maps an administrator ending the connection to SHUTTING_DOWN, then the dead client to UNREACHABLE', async () => {
    const { url, c } = await schema();
    const victim = await client(url, 'scribe-victim');
    // Settled at once, so the rejection is handled while the loop below runs.
    const pending = victim.query('SELECT pg_sleep(30)').then(
      () => Promise.resolve(),
      (e: unknown) => e,
    );
    // Wait (bounded) until the victim's query is running, then end its backend.
    for (let i = 0; i < 200; i++) {
      const r = await c.query("SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE application_name = 'scribe-victim' AND state = 'active'");
      if ((r.rows[0] as { n: number }).n === 1) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'scribe-victim'");
    const e = mapPgError(await pending, 'CreateThing');
    expect((e.cause as { code?: string }).code).toBe('57P01');
    expect(e).toMatchObject({ code: 'SHUTTING_DOWN' });
    expect(e.isRetryable()).toBe(true);
    expect(await mapped(victim.query('SELECT 1'))).toMatchObject({ code: 'UNREACHABLE' });
  });

  it('maps a server that is not there, or that stops under a client, to UNREACHABLE', async () => {
    // A TCP port nobody listens on: ECONNREFUSED.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const refused = new pg.Client({ connectionString: `postgresql://scribe@127.0.0.1:${port}/x` });
    expect(await mapped(refused.connect())).toMatchObject({ code: 'UNREACHABLE', message: 'CreateThing: the server could not be reached' });
    // A server of our own, stopped (fast shutdown) while a pool has a connection open.
    const own = await startPostgresServer({ durable: false });
    closers.push(() => own.stop());
    const pool = createPgPool({ url: own.url, max: 1 });
    pool.on('error', () => undefined);
    closers.push(() => pool.end());
    const held = await pool.connect();
    held.on('error', () => undefined);
    await own.stop();
    const e = await mapped(held.query('SELECT 1'));
    expect(['UNREACHABLE', 'SHUTTING_DOWN']).toContain(e.code);
    held.release(true);
    // The socket is gone now: a new connection cannot be made.
    expect(await mapped(pool.query('SELECT 1'))).toMatchObject({ code: 'UNREACHABLE' });
  });
});

describe.runIf(runPostgresTests)('a full disk on a real server', () => {
  // Needs root to mount a small tmpfs for a tablespace (as test/faults.test.ts does for SQLite).
  it.runIf(canMountTmpfs)('maps disk_full (53100) to STORAGE_FULL, not retryable, without the server path in the message', async () => {
    const { url, c } = await schema();
    const dir = join(server.server().socketDir, `small-${Date.now()}`);
    mkdirSync(dir);
    const unmount = mountTmpfs(dir, '1m');
    closers.push(async () => unmount());
    const owner = server.server().owner;
    if (owner !== undefined) chownSync(dir, owner.uid, owner.gid);
    const space = `small_${Date.now()}`;
    await c.query(`CREATE TABLESPACE ${space} LOCATION '${dir}'`);
    closers.push(() => c.query(`DROP TABLESPACE ${space}`));
    const db = await client(url);
    await db.query(`CREATE TABLE big (t TEXT) TABLESPACE ${space}`);
    closers.push(() => db.query('DROP TABLE big'));
    // Stored out of line and uncompressed, so each row takes its full size on the small disk.
    await db.query('ALTER TABLE big ALTER COLUMN t SET STORAGE EXTERNAL');
    let error: unknown;
    for (let i = 0; i < 100 && error === undefined; i++) {
      error = await db.query("INSERT INTO big (t) VALUES (repeat('x', 200000))").then(
        () => undefined,
        (e: unknown) => e,
      );
    }
    expect((error as { code?: string }).code).toBe('53100');
    expect((error as Error).message).toMatch(/could not extend file "pg_tblspc\//); // the server's text names a file…
    const e = mapPgError(error, 'CreateThing');
    expect(e).toMatchObject({ code: 'STORAGE_FULL', message: "CreateThing: the server's disk is full; nothing was applied" });
    expect(e.isRetryable()).toBe(false);
    expect(e.message).not.toContain('pg_tblspc'); // …the mapped message does not
  });
});

describe('the mapping table, for states a test server cannot be made to raise', () => {
  const withState = (code: string): Error => Object.assign(new Error('server text naming /var/lib/postgresql/data'), { code });

  it.each([
    ['53100', 'STORAGE_FULL', false], // also provoked for real above where a tmpfs can be mounted
    ['58030', 'STORAGE_IO', false],
    ['57P03', 'UNREACHABLE', true],
    ['08006', 'UNREACHABLE', true],
    ['08001', 'UNREACHABLE', true],
    ['53300', 'OVERLOADED', true],
    ['40003', 'UNREACHABLE', true],
    ['42501', 'INTERNAL', false],
    ['28P01', 'INTERNAL', false],
    ['XX000', 'INTERNAL', false],
    ['F0000', 'INTERNAL', false],
  ] as const)('SQLSTATE %s is %s (retryable: %s), with no server text', (state, code, retryable) => {
    const e = mapPgError(withState(state), null);
    expect(e.code).toBe(code);
    expect(e.isRetryable()).toBe(retryable);
    expect(e.message).not.toContain('/var/lib');
  });

  it('keeps a WriteError, giving it the method, and maps binding errors to INVALID_PARAMS', () => {
    const original = new WriteError('CONFLICT', 'x');
    expect(mapPgError(original, 'M')).toMatchObject({ code: 'CONFLICT', method: 'M' });
    expect(mapPgError(new RangeError('Expected 2 value(s)'), 'M')).toMatchObject({ code: 'INVALID_PARAMS' });
    expect(mapPgError(new Error('something else'), 'M')).toMatchObject({ code: 'INTERNAL', message: 'M: the write failed inside the store' });
  });
});
