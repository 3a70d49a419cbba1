/**
 * Shadow sessions across real processes: a primary and secondaries, each a child
 * process running test/fixtures/agent-storage-node.mjs, driven over IPC.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AgentNode, agentCluster, failure } from './helpers/agent-node.js';
import { waitFor, type ChildError } from './helpers/node-process.js';

const cluster = () => agentCluster('shadow-cluster');

/**
 * The driver's error at the end of the cause chain: on the primary better-sqlite3's
 * own SqliteError with its text; on a secondary the RemoteDriverError rebuilt from
 * the wire, with the same code and none of the driver's text.
 */
function expectDriverError(e: ChildError, role: 'primary' | 'secondary', code: string, driverText: RegExp): void {
  expect(e.chain?.at(-1), 'the end of the cause chain').toMatchObject({ code });
  if (role === 'primary') {
    expect(e.driver).toMatchObject({ name: 'SqliteError', code });
    expect(e.driver?.message).toMatch(driverText);
  } else {
    expect(e.driver).toMatchObject({ name: 'RemoteDriverError', remoteName: 'SqliteError', code });
    expect(e.driver?.message).not.toMatch(driverText);
  }
}

describe.each(['primary', 'secondary'] as const)('every operation and every error, called from the %s', (role) => {
  const c = cluster();
  let caller: AgentNode;
  let other: AgentNode;

  beforeAll(async () => {
    const p = await c.spawn('p');
    const s = await c.spawn('s');
    expect([p.ready.role, s.ready.role]).toEqual(['primary', 'secondary']);
    [caller, other] = role === 'primary' ? [p, s] : [s, p];
  });

  it('opens (seeded and empty), scopes reads and writes, closes; the other process sees the same rows', async () => {
    const seeded = await caller.open('seeded', { shadowTable: 'docs_shadow', seedFromTable: 'docs' });
    expect(seeded).toMatchObject({ sessionId: 'seeded', seeded: 2, openedBy: caller.ready.instanceId });
    const empty = await caller.open('empty', { shadowTable: 'docs_shadow' });
    expect(empty.seeded).toBe(0);
    expect(await caller.session('empty', 'count')).toBe(0);
    expect(await caller.session('seeded', 'insert', [{ path: 'c.ts', content: 'C', flag: true }])).toBe(1);
    expect(await caller.session('seeded', 'update', { content: 'A2' }, { path: 'a.ts' })).toBe(1);
    expect(await caller.session('seeded', 'delete', { path: 'b.ts' })).toBe(1);
    const rows = [
      { session_id: 'seeded', path: 'a.ts', content: 'A2', flag: null },
      { session_id: 'seeded', path: 'c.ts', content: 'C', flag: 1 },
    ];
    expect(await caller.session('seeded', 'rows', {}, { orderBy: 'path' })).toEqual(rows);
    // Read-your-writes in the caller, and the other process reads the same committed rows.
    expect(await other.session('seeded', 'rows', {}, { orderBy: 'path' })).toEqual(rows);
    expect(await caller.session('empty', 'count')).toBe(0);
    expect((await other.shadows<Array<{ session_id: string; opened_by: string }>>('list')).map((r) => [r.session_id, r.opened_by])).toEqual([
      ['seeded', caller.ready.instanceId],
      ['empty', caller.ready.instanceId],
    ]);
    expect(await caller.session('seeded', 'close')).toEqual({ closed: true, rows_deleted: 2 });
    expect(await caller.shadows('close', 'empty')).toEqual({ closed: true, rows_deleted: 0 });
    expect(await other.shadows('get', 'seeded')).toBeNull();
    expect(await other.query('SELECT COUNT(*) AS n FROM docs_shadow')).toEqual([{ n: 0 }]);
    expect(await caller.send('onCloseCalls')).toEqual([]);
  });

  it('EMPTY_SESSION_ID and INVALID_IDENTIFIER are refused before sending', async () => {
    expect(await failure(caller.open('', { shadowTable: 'docs_shadow' }))).toMatchObject({ name: 'ShadowSessionError', code: 'EMPTY_SESSION_ID' });
    for (const bad of [{ shadowTable: 'docs shadow' }, { shadowTable: '"docs_shadow"' }, { shadowTable: 'docs_shadow', seedFromTable: 'docs;--' }]) {
      const e = await failure(caller.open('x', bad));
      expect(e).toMatchObject({ name: 'ShadowSessionError', code: 'INVALID_IDENTIFIER', sessionId: 'x' });
      expect(e.cause).toBeUndefined();
    }
  });

  it('DUPLICATE_SESSION for an id another process holds open (CONFLICT on the wire)', async () => {
    await other.open('dup', { shadowTable: 'docs_shadow' });
    const e = await failure(caller.open('dup', { shadowTable: 'docs_shadow', seedFromTable: 'docs' }));
    expect(e).toMatchObject({ name: 'ShadowSessionError', code: 'DUPLICATE_SESSION', sessionId: 'dup' });
    expect(e.cause).toMatchObject({ name: 'WriteError', code: 'CONFLICT', method: 'OpenShadowSession', field: 'params.session_id' });
    expect(await other.session('dup', 'count')).toBe(0);
    await other.session('dup', 'close');
  });

  it('TABLE_NOT_FOUND, MISSING_SESSION_ID_COLUMN and SEED_MISMATCH are decided at open by the primary, leaving nothing behind', async () => {
    expect(await failure(caller.open('t1', { shadowTable: 'ghost' }))).toMatchObject({
      code: 'TABLE_NOT_FOUND',
      cause: { code: 'NOT_FOUND', field: 'params.shadow_table' },
    });
    expect(await failure(caller.open('t1', { shadowTable: 'docs_shadow', seedFromTable: 'ghost' }))).toMatchObject({
      code: 'TABLE_NOT_FOUND',
      cause: { code: 'NOT_FOUND', field: 'params.seed_from_table' },
    });
    expect(await failure(caller.open('t1', { shadowTable: 'no_session' }))).toMatchObject({
      code: 'MISSING_SESSION_ID_COLUMN',
      cause: { code: 'INVALID_PARAMS', field: 'params.shadow_table.session_id' },
    });
    const mismatch = await failure(caller.open('t1', { shadowTable: 'docs_shadow', seedFromTable: 'wider' }));
    expect(mismatch).toMatchObject({
      name: 'ShadowSessionError',
      code: 'SEED_MISMATCH',
      sessionId: 't1',
      cause: { name: 'WriteError', code: 'INVALID_PARAMS', method: 'OpenShadowSession', field: 'params.seed_from_table' },
    });
    expect(mismatch.message).toContain('SQLITE_ERROR');
    // Seed 000: the driver's error stays reachable at the end of the cause chain on every node.
    expectDriverError(mismatch, role, 'SQLITE_ERROR', /no column named extra/);
    expect(await other.shadows('list')).toEqual([]);
    expect(await other.query('SELECT COUNT(*) AS n FROM docs_shadow')).toEqual([{ n: 0 }]);
  });

  it('SESSION_NOT_FOUND after close, INVALID_ROW for columns the table lacks', async () => {
    await caller.open('rows', { shadowTable: 'docs_shadow' });
    expect(await failure(caller.session('rows', 'insert', { path: 'x', content: 'y', nope: 1 }))).toMatchObject({
      code: 'INVALID_ROW',
      cause: { code: 'INVALID_PARAMS', field: 'params.rows.0.nope' },
    });
    expect(await failure(caller.session('rows', 'insert', { session_id: 'other', path: 'x', content: 'y' }))).toMatchObject({ code: 'INVALID_ROW' });
    // Closed by the other process: this process's handle now gets SESSION_NOT_FOUND.
    await other.shadows('close', 'rows');
    expect(await failure(caller.session('rows', 'insert', { path: 'x', content: 'y' }))).toMatchObject({
      code: 'SESSION_NOT_FOUND',
      cause: { code: 'NOT_FOUND', method: 'InsertShadowRows' },
    });
    expect(await caller.session('rows', 'close')).toEqual({ closed: false, rows_deleted: 0 });
  });

  it('CLOSE_FAILED calls onClose; reap goes on past failures and each error names its session', async () => {
    await caller.open('pinned-a', { shadowTable: 'docs_shadow', seedFromTable: 'docs' });
    const e = await failure(caller.session('pinned-a', 'close'));
    expect(e).toMatchObject({ code: 'CLOSE_FAILED', sessionId: 'pinned-a', cause: { code: 'CONFLICT', method: 'CloseShadowSession' } });
    expectDriverError(e, role, 'SQLITE_CONSTRAINT_TRIGGER', /pinned rows stay/);
    expect(await caller.send('onCloseCalls')).toEqual([expect.objectContaining({ code: 'CLOSE_FAILED', sessionId: 'pinned-a' })]);
    await caller.open('r1', { shadowTable: 'docs_shadow', seedFromTable: 'docs' });
    await other.open('r2', { shadowTable: 'docs_shadow', seedFromTable: 'docs' });
    expect(await caller.shadows('reap', 3_600_000)).toEqual({ swept: [], errors: [] });
    const r = await caller.shadows<{ swept: string[]; errors: ChildError[] }>('reap', 0);
    expect(r.swept.sort()).toEqual(['r1', 'r2']);
    expect(r.errors).toEqual([expect.objectContaining({ name: 'ShadowSessionError', code: 'CLOSE_FAILED', sessionId: 'pinned-a' })]);
    expect(r.errors[0]!.message).toContain('pinned-a');
    expectDriverError(r.errors[0]!, role, 'SQLITE_CONSTRAINT_TRIGGER', /pinned rows stay/);
    expect((await other.shadows<Array<{ session_id: string }>>('list')).map((s) => s.session_id)).toEqual(['pinned-a']);
    // Seed 000: the reap's failure is in its result only; onClose still holds just the session's own failed close.
    expect(await caller.send('onCloseCalls')).toHaveLength(1);
  });
});

describe('abandoned sessions', () => {
  const c = cluster();

  it('sessions of a secondary killed with SIGKILL are reaped from another process', async () => {
    await c.spawn('p');
    const survivor = await c.spawn('survivor');
    const doomed = await c.spawn('doomed');
    for (const id of ['k1', 'k2', 'k3']) await doomed.open(id, { shadowTable: 'docs_shadow', seedFromTable: 'docs' });
    await doomed.kill();
    const left = await survivor.shadows<Array<{ session_id: string; opened_by: string }>>('list');
    expect(left.map((s) => [s.session_id, s.opened_by])).toEqual([
      ['k1', 'doomed'],
      ['k2', 'doomed'],
      ['k3', 'doomed'],
    ]);
    expect(await survivor.query('SELECT COUNT(*) AS n FROM docs_shadow')).toEqual([{ n: 6 }]);
    const r = await survivor.shadows<{ swept: string[]; errors: unknown[] }>('reap', 0);
    expect(r).toEqual({ swept: ['k1', 'k2', 'k3'], errors: [] });
    expect(await survivor.shadows('list')).toEqual([]);
    expect(await survivor.query('SELECT COUNT(*) AS n FROM docs_shadow')).toEqual([{ n: 0 }]);
  });

});

describe('sessions opened before a failover', () => {
  const c = cluster();

  it('are reaped once a secondary has taken over from a primary killed with SIGKILL', async () => {
    const p = await c.spawn('fo-p');
    const a = await c.spawn('fo-a');
    const b = await c.spawn('fo-b');
    await p.open('f1', { shadowTable: 'docs_shadow', seedFromTable: 'docs' });
    await a.open('f2', { shadowTable: 'docs_shadow', seedFromTable: 'docs' });
    await b.open('f3', { shadowTable: 'docs_shadow' });
    await p.kill();
    const promoted: AgentNode = await waitFor(async () => {
      for (const n of [a, b]) if ((await n.send<{ role: string }>('info')).role === 'primary') return n;
      return undefined;
    }, 15_000, 'a secondary to take over');
    const follower = promoted === a ? b : a;
    // The follower's write is retried against the new primary by its forwarder if it has not switched yet.
    const r = await follower.shadows<{ swept: string[]; errors: unknown[] }>('reap', 0);
    expect(r).toEqual({ swept: ['f1', 'f2', 'f3'], errors: [] });
    expect(await promoted.shadows('list')).toEqual([]);
    expect(await promoted.query('SELECT COUNT(*) AS n FROM docs_shadow')).toEqual([{ n: 0 }]);
  });
});

describe('many sessions at once from several processes', () => {
  const c = cluster();

  it('two secondaries opening overlapping ids concurrently: each id is opened exactly once, the loser gets DUPLICATE_SESSION', async () => {
    const p = await c.spawn('m-p');
    const a = await c.spawn('m-a');
    const b = await c.spawn('m-b');
    const shared = Array.from({ length: 40 }, (_, i) => `shared-${String(i).padStart(2, '0')}`);
    const onlyA = Array.from({ length: 30 }, (_, i) => `a-${i}`);
    const onlyB = Array.from({ length: 30 }, (_, i) => `b-${i}`);
    type Outcome = Array<{ id: string; ok: boolean; error?: ChildError }>;
    const [ra, rb] = await Promise.all([
      a.send<Outcome>('openMany', { ids: [...shared, ...onlyA], shadowTable: 'docs_shadow', seedFromTable: 'docs' }),
      b.send<Outcome>('openMany', { ids: [...onlyB, ...shared], shadowTable: 'docs_shadow', seedFromTable: 'docs' }),
    ]);
    const winners = new Map<string, string>();
    for (const [who, outcomes] of [['a', ra], ['b', rb]] as const) {
      for (const o of outcomes) {
        if (o.ok) {
          expect(winners.has(o.id), o.id).toBe(false);
          winners.set(o.id, who);
        } else {
          expect(shared).toContain(o.id);
          expect(o.error).toMatchObject({ code: 'DUPLICATE_SESSION', sessionId: o.id });
        }
      }
    }
    expect([...winners.keys()].sort()).toEqual([...shared, ...onlyA, ...onlyB].sort());
    // Every open session was seeded exactly once.
    expect(await p.query('SELECT COUNT(*) AS n FROM docs_shadow')).toEqual([{ n: 2 * winners.size }]);
    const list = await p.shadows<Array<{ session_id: string; opened_by: string }>>('list');
    for (const s of list) expect(s.opened_by).toBe(winners.get(s.session_id) === 'a' ? 'm-a' : 'm-b');
    // Both secondaries reap at the same time: every session is swept once, by one of them.
    const [xa, xb] = await Promise.all([
      a.shadows<{ swept: string[]; errors: unknown[] }>('reap', 0),
      b.shadows<{ swept: string[]; errors: unknown[] }>('reap', 0),
    ]);
    expect([...xa.swept, ...xb.swept].sort()).toEqual([...winners.keys()].sort());
    expect([...xa.errors, ...xb.errors]).toEqual([]);
    expect(await p.query('SELECT COUNT(*) AS n FROM docs_shadow')).toEqual([{ n: 0 }]);
  });
});
