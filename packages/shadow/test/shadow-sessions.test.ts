/**
 * Shadow sessions on every engine (a SQLite file with an in-process primary, a fresh
 * PostgreSQL database with a peer), wired the way an application wires them (the
 * package's plugin into openNode): one suite, the same assertions on both.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { WriteError } from '@scribe/protocol';
import { createDefaultRegistry, type Migration } from '@scribe/store';
import {
  SHADOW_ERROR_CODES,
  plugin,
  SHADOW_WRITE_NAMES,
  ShadowSessionError,
  ShadowSessions,
  registerShadowWrites,
  shadowPlugin,
} from '@scribe/shadow';
import { TEST_ENGINES, useEngines, type Engine, type TestNode } from '../../../test/helpers/engines.js';

/**
 * The application's own tables: a real table, its shadow, and tables that do not fit;
 * a trigger refuses to delete pinned sessions' rows. The same tables on both engines;
 * the trigger in each engine's own DDL.
 */
const APP_TABLES = `
CREATE TABLE docs (path TEXT PRIMARY KEY, content TEXT NOT NULL);
CREATE TABLE files_shadow (session_id TEXT NOT NULL, path TEXT NOT NULL, content TEXT NOT NULL, flag INTEGER, PRIMARY KEY (session_id, path));
CREATE TABLE no_session (path TEXT, content TEXT);
CREATE TABLE wider (path TEXT, content TEXT, extra INTEGER);
CREATE TABLE nullable (path TEXT, content TEXT);
INSERT INTO docs (path, content) VALUES ('a.ts', 'A'), ('b.ts', 'B');
INSERT INTO wider VALUES ('x', 'X', 1);
INSERT INTO nullable VALUES ('n', NULL);`;
const APP_MIGRATION: Migration = {
  version: 1000,
  name: 'test app tables',
  up: {
    sqlite: `${APP_TABLES}
CREATE TRIGGER pinned_rows BEFORE DELETE ON files_shadow WHEN old.session_id LIKE 'pinned%'
  BEGIN SELECT RAISE(ABORT, 'pinned rows stay'); END;`,
    postgres: `${APP_TABLES}
CREATE FUNCTION pinned_rows() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN IF old.session_id LIKE 'pinned%' THEN RAISE EXCEPTION 'pinned rows stay'; END IF; RETURN old; END $$;
CREATE TRIGGER pinned_rows BEFORE DELETE ON files_shadow FOR EACH ROW EXECUTE FUNCTION pinned_rows();`,
  },
};

/**
 * The driver's own error each engine gives for the refusals the suite provokes: its
 * error class's name and its code (SQLite's result code, PostgreSQL's SQLSTATE).
 */
const DRIVER: Record<Engine, { name: string; remoteName: string; noSuchColumn: string; notNull: string; trigger: string }> = {
  sqlite: { name: 'SqliteError', remoteName: 'SqliteError', noSuchColumn: 'SQLITE_ERROR', notNull: 'SQLITE_CONSTRAINT_NOTNULL', trigger: 'SQLITE_CONSTRAINT_TRIGGER' },
  // node-postgres names its DatabaseError 'error'; the wire carries it as such.
  postgres: { name: 'error', remoteName: 'error', noSuchColumn: '42703', notNull: '23502', trigger: 'P0001' },
};

// What the API does, not durability: the faster server (fsync off).
const engines = useEngines({ durable: false });

describe.each(TEST_ENGINES)('on %s', (engine) => {
  const driver = DRIVER[engine];
  let at: Awaited<ReturnType<typeof engines.location>>;
  let node: TestNode;
  let shadows: ShadowSessions;

  beforeEach(async () => {
    at = await engines.location(engine, { plugins: [plugin], migrations: [APP_MIGRATION] });
    node = await engines.openPeer(engine, at, { plugins: [plugin], migrations: [APP_MIGRATION] });
    shadows = new ShadowSessions(node.querier);
  });

  /**
   * Runs `writes` so that they overlap in the database. On PostgreSQL every peer writes
   * at once, but a write is short: a transaction of the test's own holds the seed table
   * locked until two backends wait on a lock (each open at its seed, or behind the other's
   * claim of the id), then lets them go. On SQLite one writer runs writes one after the
   * other whatever the timing: there is nothing to hold.
   */
  async function overlapping<T>(writes: () => Promise<T>): Promise<T> {
    if (!('url' in at)) return writes();
    const holder = new pg.Client({ connectionString: at.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE docs IN ACCESS EXCLUSIVE MODE');
      const running = writes();
      const deadline = Date.now() + 10_000;
      for (;;) {
        const { rows } = await holder.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        if (rows[0]!.n >= 2) break;
        if (Date.now() > deadline) throw new Error(`overlapping: ${rows[0]!.n} of 2 writes waiting after 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await holder.query('COMMIT');
      return await running;
    } finally {
      await holder.end();
    }
  }

  async function failure(p: Promise<unknown>): Promise<ShadowSessionError> {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(ShadowSessionError);
    return e as ShadowSessionError;
  }

  async function registryRows(): Promise<Array<{ session_id: string }>> {
    return node.querier.query('SELECT session_id FROM _shadow_sessions ORDER BY session_id');
  }

  describe('open', () => {
    it('starts empty without a seed and registers the session in the database', async () => {
      const s = await shadows.open('s1', { shadowTable: 'files_shadow' });
      expect(s).toMatchObject({ sessionId: 's1', shadowTable: 'files_shadow', seeded: 0, openedBy: node.instanceId });
      expect(await s.count()).toBe(0);
      expect(await shadows.list()).toEqual([
        { session_id: 's1', shadow_table: 'files_shadow', open_id: expect.any(String), opened_at: s.openedAt, opened_by: node.instanceId },
      ]);
      expect(Date.parse(s.openedAt)).toBeGreaterThan(0);
    });

    it("copies the seed table's rows into the shadow table, tagged with the session id", async () => {
      const s = await shadows.open('s1', { shadowTable: 'files_shadow', seedFromTable: 'docs' });
      expect(s.seeded).toBe(2);
      expect(await s.rows({}, { orderBy: 'path' })).toEqual([
        { session_id: 's1', path: 'a.ts', content: 'A', flag: null },
        { session_id: 's1', path: 'b.ts', content: 'B', flag: null },
      ]);
      // The real table is untouched.
      expect(await node.querier.query('SELECT COUNT(*) AS n FROM docs')).toEqual([{ n: 2 }]);
    });

    it('refuses an empty session id locally with EMPTY_SESSION_ID', async () => {
      const e = await failure(shadows.open('', { shadowTable: 'files_shadow' }));
      expect(e).toMatchObject({ code: 'EMPTY_SESSION_ID', sessionId: '' });
      expect(await registryRows()).toEqual([]);
    });

    it('refuses a session id that is open already with DUPLICATE_SESSION, carrying the CONFLICT WriteError', async () => {
      await shadows.open('s1', { shadowTable: 'files_shadow', seedFromTable: 'docs' });
      const e = await failure(shadows.open('s1', { shadowTable: 'files_shadow', seedFromTable: 'docs' }));
      expect(e).toMatchObject({ code: 'DUPLICATE_SESSION', sessionId: 's1' });
      expect(e.cause).toBeInstanceOf(WriteError);
      expect(e.cause).toMatchObject({ code: 'CONFLICT', method: SHADOW_WRITE_NAMES.open, field: 'params.session_id' });
      // The failed open seeded nothing more.
      expect(await node.querier.query('SELECT COUNT(*) AS n FROM files_shadow')).toEqual([{ n: 2 }]);
    });

    it('two processes opening one session id at once: one opens it, the other gets DUPLICATE_SESSION (CONFLICT on params.session_id), seeded once', async () => {
      const other = new ShadowSessions((await engines.openPeer(engine, at, { plugins: [plugin], migrations: [APP_MIGRATION] })).querier);
      const options = { shadowTable: 'files_shadow', seedFromTable: 'docs' };
      const [a, b] = await overlapping(() => Promise.allSettled([shadows.open('s1', options), other.open('s1', options)]));
      const opened = [a, b].filter((r) => r.status === 'fulfilled');
      const refused = [a, b].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      expect(opened).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expect(refused[0]).toBeInstanceOf(ShadowSessionError);
      expect(refused[0]).toMatchObject({ code: 'DUPLICATE_SESSION', sessionId: 's1' });
      expect((refused[0] as ShadowSessionError).cause).toMatchObject({ code: 'CONFLICT', method: SHADOW_WRITE_NAMES.open, field: 'params.session_id' });
      expect(await registryRows()).toEqual([{ session_id: 's1' }]);
      expect(await node.querier.query('SELECT COUNT(*) AS n FROM files_shadow')).toEqual([{ n: 2 }]);
    });

    it.each([
      ['shadowTable', { shadowTable: 'files shadow' }],
      ['shadowTable', { shadowTable: '"files_shadow"' }],
      ['shadowTable', { shadowTable: '1files' }],
      ['shadowTable', { shadowTable: 'files_shadow;DROP TABLE docs' }],
      ['shadowTable', { shadowTable: '' }],
      ['shadowTable', { shadowTable: '_scribe_requests' }],
      ['shadowTable', { shadowTable: '_shadow_sessions' }],
      ['seedFromTable', { shadowTable: 'files_shadow', seedFromTable: 'main.docs' }],
      ['seedFromTable', { shadowTable: 'files_shadow', seedFromTable: 'sqlite_master' }],
    ])('refuses a %s that is not a plain, unreserved identifier (%j) locally with INVALID_IDENTIFIER', async (option, options) => {
      const e = await failure(shadows.open('s1', options as { shadowTable: string }));
      expect(e.code).toBe('INVALID_IDENTIFIER');
      expect(e.message).toContain(option);
      expect(e.cause).toBeUndefined(); // nothing was sent
      expect(await registryRows()).toEqual([]);
    });

    it('refuses a shadow table that does not exist with TABLE_NOT_FOUND at open', async () => {
      const e = await failure(shadows.open('s1', { shadowTable: 'nope' }));
      expect(e).toMatchObject({ code: 'TABLE_NOT_FOUND', sessionId: 's1' });
      expect(e.message).toContain('shadow table nope does not exist');
      expect(e.cause).toMatchObject({ code: 'NOT_FOUND', field: 'params.shadow_table' });
      expect(await registryRows()).toEqual([]);
    });

    it('refuses a shadow table without a session_id column with MISSING_SESSION_ID_COLUMN at open', async () => {
      const e = await failure(shadows.open('s1', { shadowTable: 'no_session' }));
      expect(e).toMatchObject({ code: 'MISSING_SESSION_ID_COLUMN', sessionId: 's1' });
      expect(e.cause).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.shadow_table.session_id' });
      expect(await registryRows()).toEqual([]);
    });

    it('refuses a seed table that does not exist with TABLE_NOT_FOUND', async () => {
      const e = await failure(shadows.open('s1', { shadowTable: 'files_shadow', seedFromTable: 'ghost' }));
      expect(e).toMatchObject({ code: 'TABLE_NOT_FOUND' });
      expect(e.cause).toMatchObject({ code: 'NOT_FOUND', field: 'params.seed_from_table' });
    });

    it("passes the driver's error for a seed whose columns do not line up through as SEED_MISMATCH, structured, leaving nothing behind", async () => {
      const e = await failure(shadows.open('s1', { shadowTable: 'files_shadow', seedFromTable: 'wider' }));
      expect(e).toMatchObject({ code: 'SEED_MISMATCH', sessionId: 's1' });
      expect(e.message).toContain('the shadow table lacks extra');
      const cause = e.cause as WriteError;
      expect(cause).toBeInstanceOf(WriteError);
      expect(cause).toMatchObject({ code: 'INVALID_PARAMS', method: SHADOW_WRITE_NAMES.open, field: 'params.seed_from_table' });
      // On the primary the chain reaches the store's mapping of the driver error, then the driver error itself.
      expect(cause.cause).toBeInstanceOf(WriteError);
      expect((cause.cause as WriteError).cause).toMatchObject({ code: driver.noSuchColumn });
      expect(await registryRows()).toEqual([]);
      expect(await node.querier.query('SELECT COUNT(*) AS n FROM files_shadow')).toEqual([{ n: 0 }]);
    });

    it('reports a seed row the shadow table refuses (NOT NULL) as SEED_MISMATCH with the mapped driver code', async () => {
      const e = await failure(shadows.open('s1', { shadowTable: 'files_shadow', seedFromTable: 'nullable' }));
      expect(e.code).toBe('SEED_MISMATCH');
      expect(e.message).toContain(driver.notNull);
      expect(e.cause).toMatchObject({ code: 'INVALID_PARAMS' });
    });

    it('a write sent without the class (another language) gets INVALID_PARAMS naming the field, which maps to the same codes', async () => {
      const raw = await node.querier.write(SHADOW_WRITE_NAMES.open, { session_id: 's1', shadow_table: 'a b' }).catch((e: unknown) => e);
      expect(raw).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.shadow_table' });
      const empty = await node.querier.write(SHADOW_WRITE_NAMES.open, { session_id: '', shadow_table: 'files_shadow' }).catch((e: unknown) => e);
      expect(empty).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.session_id' });
    });
  });

  describe('a session', () => {
    it('scopes its reads and writes to its session id', async () => {
      const a = await shadows.open('a', { shadowTable: 'files_shadow', seedFromTable: 'docs' });
      const b = await shadows.open('b', { shadowTable: 'files_shadow', seedFromTable: 'docs' });
      expect(await a.insert({ path: 'c.ts', content: 'C', flag: true })).toBe(1);
      expect(await a.insert([{ path: 'd.ts', content: 'D' }, { path: 'e.ts', content: 'E', flag: null }])).toBe(2);
      expect(await a.update({ content: 'A2' }, { path: 'a.ts' })).toBe(1);
      expect(await a.delete({ path: 'b.ts' })).toBe(1);
      expect(await a.count()).toBe(4);
      expect(await a.count({ flag: true })).toBe(1);
      expect(await a.count({ flag: null })).toBe(3);
      expect(await a.rows({ path: 'a.ts' })).toEqual([{ session_id: 'a', path: 'a.ts', content: 'A2', flag: null }]);
      expect((await a.rows({}, { orderBy: 'path', limit: 2 })).map((r) => r.path)).toEqual(['a.ts', 'c.ts']);
      // b kept its own copy.
      expect(await b.rows({}, { orderBy: 'path' })).toEqual([
        { session_id: 'b', path: 'a.ts', content: 'A', flag: null },
        { session_id: 'b', path: 'b.ts', content: 'B', flag: null },
      ]);
      // An update without where touches every row of the session, and only those.
      expect(await b.update({ flag: 7 })).toBe(2);
      expect(await a.count({ flag: 7 })).toBe(0);
      expect(await b.delete()).toBe(2);
      expect(await a.count()).toBe(4);
    });

    it('refuses session_id and unknown columns with INVALID_ROW, bad column names with INVALID_IDENTIFIER', async () => {
      const s = await shadows.open('s1', { shadowTable: 'files_shadow' });
      expect(await failure(s.insert({ session_id: 'other', path: 'x', content: 'y' }))).toMatchObject({ code: 'INVALID_ROW' });
      const unknown = await failure(s.insert({ path: 'x', content: 'y', nope: 1 }));
      expect(unknown).toMatchObject({ code: 'INVALID_ROW' });
      expect(unknown.cause).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.rows.0.nope' });
      expect(await failure(s.update({ nope: 1 }))).toMatchObject({ code: 'INVALID_ROW' });
      expect(await failure(s.delete({ 'path; --': 'x' }))).toMatchObject({ code: 'INVALID_IDENTIFIER' });
      expect(await failure(s.rows({}, { orderBy: 'path desc' }))).toMatchObject({ code: 'INVALID_IDENTIFIER' });
      // A value the driver refuses (NOT NULL), with the store's mapped error as cause.
      const nul = await failure(s.insert({ path: 'x', content: null }));
      expect(nul).toMatchObject({ code: 'INVALID_ROW' });
      expect(nul.cause).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.rows.0' });
      expect(nul.driverError).toMatchObject({ name: driver.name, code: driver.notNull });
      expect(await s.count()).toBe(0);
    });

    it('close() deletes its rows and unregisters it; a second close is harmless; writes after it are SESSION_NOT_FOUND', async () => {
      const calls: unknown[] = [];
      const s = await shadows.open('s1', { shadowTable: 'files_shadow', seedFromTable: 'docs', onClose: (e) => calls.push(e) });
      const other = await shadows.open('s2', { shadowTable: 'files_shadow', seedFromTable: 'docs' });
      expect(await s.close()).toEqual({ closed: true, rows_deleted: 2 });
      expect(await s.close()).toEqual({ closed: true, rows_deleted: 2 });
      expect(await s.isOpen()).toBe(false);
      expect(await s.count()).toBe(0);
      expect(await other.count()).toBe(2);
      expect(calls).toEqual([]); // onClose is for failures only
      expect(await shadows.close('s1')).toEqual({ closed: false, rows_deleted: 0 });
      const e = await failure(s.insert({ path: 'x', content: 'y' }));
      expect(e).toMatchObject({ code: 'SESSION_NOT_FOUND', sessionId: 's1' });
      expect(e.cause).toMatchObject({ code: 'NOT_FOUND', method: SHADOW_WRITE_NAMES.insert });
      // The id can be opened again once closed.
      expect((await shadows.open('s1', { shadowTable: 'files_shadow' })).seeded).toBe(0);
    });

    it('calls onClose with the error only when close fails, and close rejects with CLOSE_FAILED', async () => {
      const calls: ShadowSessionError[] = [];
      const s = await shadows.open('pinned-1', { shadowTable: 'files_shadow', seedFromTable: 'docs', onClose: (e) => calls.push(e) });
      const e = await failure(s.close());
      expect(e).toMatchObject({ code: 'CLOSE_FAILED', sessionId: 'pinned-1' });
      expect(e.cause).toMatchObject({ code: 'CONFLICT', method: SHADOW_WRITE_NAMES.close });
      // Seed 000: the driver's own error stays reachable at the end of the cause chain (on the primary, with its text).
      expect(e.driverError).toMatchObject({ name: driver.name, code: driver.trigger, message: expect.stringContaining('pinned rows stay') });
      expect(calls).toEqual([e]);
      expect(await s.isOpen()).toBe(true);
      expect(await s.count()).toBe(2);
    });

    it('a retry of a failed close (same request id) gets the recorded error, with the driver code still reachable', async () => {
      const s = await shadows.open('pinned-2', { shadowTable: 'files_shadow', seedFromTable: 'docs' });
      const first = await failure(s.close({ requestId: 'close-pinned-2' }));
      expect(first.driverError).toMatchObject({ code: driver.trigger });
      const replay = await failure(shadows.close('pinned-2', { requestId: 'close-pinned-2' }));
      expect(replay).toMatchObject({ code: 'CLOSE_FAILED' });
      expect(replay.driverError).toMatchObject({ name: 'RemoteDriverError', remoteName: driver.remoteName, code: driver.trigger });
    });

    it('a session whose shadow table was dropped still closes', async () => {
      await node.querier.exec('CREATE TABLE temp_shadow (session_id TEXT, v TEXT)');
      const s = await shadows.open('s1', { shadowTable: 'temp_shadow' });
      await s.insert({ v: 'x' });
      await node.querier.exec('DROP TABLE temp_shadow');
      expect(await failure(s.insert({ v: 'y' }))).toMatchObject({ code: 'TABLE_NOT_FOUND' });
      expect(await s.close()).toEqual({ closed: true, rows_deleted: 0 });
    });

    it('get() attaches to a session opened elsewhere (by id, from the registry)', async () => {
      await shadows.open('s1', { shadowTable: 'files_shadow', seedFromTable: 'docs' });
      const again = new ShadowSessions(node.querier);
      const s = await again.get('s1');
      expect(s).toMatchObject({ sessionId: 's1', shadowTable: 'files_shadow' });
      expect(await s!.count()).toBe(2);
      expect(await again.get('nope')).toBeUndefined();
      expect(await s!.close()).toEqual({ closed: true, rows_deleted: 2 });
    });
  });

  describe('reap', () => {
    it('closes the sessions opened before now − olderThan and no others', async () => {
      const old = await shadows.open('old', { shadowTable: 'files_shadow', seedFromTable: 'docs' });
      // The next open must get a later opened_at (the primary's clock, millisecond resolution).
      const t = Date.now();
      while (Date.now() <= Date.parse(old.openedAt) || Date.now() <= t) await Promise.resolve();
      const young = await shadows.open('young', { shadowTable: 'files_shadow', seedFromTable: 'docs' });
      expect(Date.parse(young.openedAt)).toBeGreaterThan(Date.parse(old.openedAt));
      const fixedNow = Date.parse(young.openedAt) + 1_000;
      const reaper = new ShadowSessions(node.querier, { clock: () => fixedNow });
      expect(await reaper.reap(60_000)).toEqual({ swept: [], errors: [] });
      // Cutoff = old.openedAt exactly: old is reaped, young is not.
      expect(await reaper.reap(fixedNow - Date.parse(old.openedAt))).toEqual({ swept: ['old'], errors: [] });
      expect(await old.isOpen()).toBe(false);
      expect(await young.count()).toBe(2);
      expect(await reaper.reap(0)).toEqual({ swept: ['young'], errors: [] });
      expect(await shadows.list()).toEqual([]);
      expect(await node.querier.query('SELECT COUNT(*) AS n FROM files_shadow')).toEqual([{ n: 0 }]);
    });

    it('olderThan 0 reaps every session; one failure does not stop the sweep, and each error names its session', async () => {
      const onClose: string[] = [];
      for (const id of ['a', 'pinned-x', 'b', 'pinned-y', 'c']) {
        await shadows.open(id, { shadowTable: 'files_shadow', seedFromTable: 'docs', onClose: (e) => onClose.push(e.sessionId) });
      }
      const r = await shadows.reap(0);
      expect(r.swept.sort()).toEqual(['a', 'b', 'c']);
      expect(r.errors.map((e) => [e.code, e.sessionId])).toEqual([
        ['CLOSE_FAILED', 'pinned-x'],
        ['CLOSE_FAILED', 'pinned-y'],
      ]);
      for (const e of r.errors) {
        expect(e).toBeInstanceOf(ShadowSessionError);
        expect(e.message).toContain(e.sessionId);
      }
      // Seed 000: onClose is not called for a reap-initiated cleanup (the ReapResult carries those errors).
      expect(onClose).toEqual([]);
      expect((await shadows.list()).map((s) => s.session_id)).toEqual(['pinned-x', 'pinned-y']);
      // The session's own close still reports its failure to onClose, once.
      expect(await failure(shadows.close('pinned-x'))).toMatchObject({ code: 'CLOSE_FAILED', sessionId: 'pinned-x' });
      expect(onClose).toEqual(['pinned-x']);
    });

    it('a reap that closes a session never calls its onClose, and its later close() is a no-op', async () => {
      const calls: ShadowSessionError[] = [];
      const s = await shadows.open('r1', { shadowTable: 'files_shadow', seedFromTable: 'docs', onClose: (e) => calls.push(e) });
      expect(await shadows.reap(0)).toEqual({ swept: ['r1'], errors: [] });
      expect(await s.close()).toEqual({ closed: false, rows_deleted: 0 });
      expect(calls).toEqual([]);
    });

    it('handles many sessions at once, opened and reaped concurrently', async () => {
      const ids = Array.from({ length: 120 }, (_, i) => `many-${String(i).padStart(3, '0')}`);
      await Promise.all(ids.map((id) => shadows.open(id, { shadowTable: 'files_shadow', seedFromTable: 'docs' })));
      expect(await node.querier.query('SELECT COUNT(*) AS n FROM files_shadow')).toEqual([{ n: 240 }]);
      // Two reapers racing: every session is swept exactly once between them.
      const [r1, r2] = await Promise.all([shadows.reap(0), new ShadowSessions(node.querier).reap(0)]);
      expect([...r1.swept, ...r2.swept].sort()).toEqual(ids);
      expect([...r1.errors, ...r2.errors]).toEqual([]);
      expect(await node.querier.query('SELECT COUNT(*) AS n FROM files_shadow')).toEqual([{ n: 0 }]);
    });

    it('never closes a later open of a reused session id (reap closes the open it saw)', async () => {
      const first = await shadows.open('s1', { shadowTable: 'files_shadow' });
      await first.close();
      const second = await shadows.open('s1', { shadowTable: 'files_shadow' });
      // A stale handle of the first open closes nothing of the second.
      expect(await first.close()).toEqual({ closed: true, rows_deleted: 0 }); // cached result of the first close
      const staleAttach = await node.querier.write(SHADOW_WRITE_NAMES.close, { session_id: 's1', open_id: 'not-this-one' });
      expect(staleAttach).toEqual({ closed: false, rows_deleted: 0 });
      expect(await second.isOpen()).toBe(true);
    });

    it("the plugin's own reaper sweeps abandoned sessions in the background (on the primary; on PostgreSQL in the peer holding the maintenance lease)", async () => {
      // A node of its own whose reaper runs every 50 ms with reapAfterMs 0: every session it finds is abandoned.
      const reaping = await engines.openTestNode(engine, { plugins: [shadowPlugin({ reapAfterMs: 0, intervalMs: 50 })], migrations: [APP_MIGRATION] });
      const mine = new ShadowSessions(reaping.querier);
      const s = await mine.open('left-behind', { shadowTable: 'files_shadow', seedFromTable: 'docs' });
      expect(s.seeded).toBe(2);
      await expect.poll(() => mine.list(), { timeout: 10_000, interval: 50 }).toEqual([]);
      expect(await s.isOpen()).toBe(false);
      expect(await reaping.querier.query('SELECT COUNT(*) AS n FROM files_shadow')).toEqual([{ n: 0 }]);
    });

    it('validates its argument', async () => {
      await expect(shadows.reap(-1)).rejects.toThrow(/Expected 'olderThanMs' to be a number of milliseconds from 0 and up, got -1 \(number\)/);
      await expect(shadows.reap(Number.NaN)).rejects.toThrow(TypeError);
    });
  });

  describe('the package surface', () => {
    it('lists its error codes as data', () => {
      expect(SHADOW_ERROR_CODES).toEqual([
        'EMPTY_SESSION_ID',
        'DUPLICATE_SESSION',
        'INVALID_IDENTIFIER',
        'TABLE_NOT_FOUND',
        'MISSING_SESSION_ID_COLUMN',
        'SEED_MISMATCH',
        'SESSION_NOT_FOUND',
        'INVALID_ROW',
        'CLOSE_FAILED',
      ]);
    });

    it('refuses to register its writes twice and to build over something that is not a Querier', () => {
      const registry = registerShadowWrites(createDefaultRegistry());
      expect(registry.names()).toEqual(expect.arrayContaining(Object.values(SHADOW_WRITE_NAMES)));
      expect(() => registerShadowWrites(registry)).toThrow(TypeError);
      expect(() => new ShadowSessions({} as never)).toThrow(/Expected 'querier'/);
      expect(() => new ShadowSessions(node.querier, { reapConcurrency: 0 })).toThrow(/Expected 'reapConcurrency' to be an integer from 1 and up, got 0/);
    });
  });
});
