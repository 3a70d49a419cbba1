/**
 * Merge pools (seed 004's passive sync) on every engine (a SQLite file with an
 * in-process primary, a fresh PostgreSQL database with a peer): merges as JSON Merge Patches, one seq per merge that changes something,
 * deltas that let a client converge, expiry, subscribers, the change feed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WriteError } from '@scribe/protocol';
import { Datastores, applyMergePatch, plugin } from '@scribe/datastores';
import { TEST_ENGINES, useEngines, type TestNode } from '../../../test/helpers/engines.js';

// What the API does, not durability: the faster server (fsync off).
const engines = useEngines({ durable: false });

describe.each(TEST_ENGINES)('on %s', (engine) => {
  let node: TestNode;
  let now: Date;
  let ds: Datastores;

  beforeEach(async () => {
    node = await engines.openTestNode(engine, { plugins: [plugin] });
    now = new Date('2026-11-24T10:00:00.000Z');
    ds = new Datastores({ querier: node.querier, changes: node.changes.bind(node), clock: () => now });
  });

  afterEach(async () => {
    await node.close();
  });

  async function error(p: Promise<unknown>): Promise<WriteError> {
    const e = await p.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(WriteError);
    return e as WriteError;
  }

  describe('applyMergePatch (RFC 7386)', () => {
    it.each([
      [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
      [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
      [{ a: 'b' }, { a: null }, {}],
      [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
      [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
      [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
      [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
      [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
      [['a', 'b'], ['c', 'd'], ['c', 'd']],
      [{ a: 'b' }, ['c'], ['c']],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: 'b', c: null }, { a: 'b' }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ])('%j patched with %j is %j', (target, patch, result) => {
      expect(applyMergePatch(target, patch)).toEqual(result);
    });
  });

  describe('merge pools', () => {
    it('merges patches field by field, one seq per merge that changes something, and reports the changes', async () => {
      const pool = await ds.openPool('cursor-pool');
      expect([pool.id, pool.kind]).toEqual(['cursor-pool', 'temp']);
      expect(await pool.merge({ alice: { x: 1, y: 2 }, title: 'draft' }, { clientId: 'alice' })).toEqual({
        pool_id: 'cursor-pool',
        seq: 1,
        changed: [
          { field: 'alice', op: 'created' },
          { field: 'title', op: 'created' },
        ],
        subscribers: [],
      });
      // A nested merge changes one member; an equal value changes nothing; null removes.
      expect(await pool.merge({ alice: { y: 5 }, title: 'draft' })).toMatchObject({ seq: 2, changed: [{ field: 'alice', op: 'updated' }] });
      expect(await pool.merge({ title: 'draft' })).toMatchObject({ seq: 2, changed: [] });
      expect(await pool.merge({ gone: null })).toMatchObject({ seq: 2, changed: [] });
      expect(await pool.merge({ title: null, bob: [1, 2] })).toMatchObject({
        seq: 3,
        changed: [
          { field: 'title', op: 'deleted' },
          { field: 'bob', op: 'created' },
        ],
      });
      expect(await pool.state()).toEqual({ seq: 3, state: { alice: { x: 1, y: 5 }, bob: [1, 2] } });
      expect(await pool.seq()).toBe(3);
      const [row] = await node.querier.query<{ updated_by: string | null }>("SELECT updated_by FROM _merge_pool_fields WHERE field = 'alice'");
      expect(row?.updated_by).toBeNull(); // the last merge of alice named no client
    });

    it('changesSince gives what a client at an older seq needs to converge, removals included', async () => {
      const pool = await ds.openPool('p');
      await pool.merge({ a: 1, b: 1, c: 1 });
      const client = await pool.state();
      expect(client).toEqual({ seq: 1, state: { a: 1, b: 1, c: 1 } });
      await pool.merge({ a: 2 });
      await pool.merge({ b: null, d: { x: 1 } });
      await pool.merge({ d: { y: 2 } });
      const delta = await pool.changesSince(client.seq);
      expect(delta).toEqual({ seq: 4, set: { a: 2, d: { x: 1, y: 2 } }, deleted: ['b'] });
      const applied: Record<string, unknown> = { ...client.state, ...delta.set };
      for (const f of delta.deleted) delete applied[f];
      expect(applied).toEqual((await pool.state()).state);
      expect(await pool.changesSince(delta.seq)).toEqual({ seq: 4, set: {}, deleted: [] });
      await expect(pool.changesSince(-1)).rejects.toThrow(/Expected 'since' to be an integer from 0 and up/);
    });

    it('reopening returns the pool; a different kind is CONFLICT saying which; an unknown pool is NOT_FOUND', async () => {
      const pool = await ds.openPool('p', { kind: 'permanent' });
      await pool.merge({ a: 1 });
      expect((await (await ds.openPool('p')).state()).state).toEqual({ a: 1 });
      const clash = await error(ds.openPool('p', { kind: 'temp' }));
      expect([clash.code, clash.field]).toEqual(['CONFLICT', 'params.kind']);
      expect(clash.message).toMatch(/merge pool "p" exists and its kind is permanent, not temp/);
      const unknown = await error(node.querier.write('MergeIntoPool', { pool_id: 'nope', patch: { a: 1 } }));
      expect([unknown.code, unknown.field]).toEqual(['NOT_FOUND', 'params.pool_id']);
      expect(await ds.getPool('nope')).toBeUndefined();
      const anon = await ds.openPool();
      expect(anon.id).toMatch(/^[A-Za-z0-9_-]{16}$/);
      expect([(await error(ds.openPool('has space'))).field]).toEqual(['params.id']);
      // Bad patches change nothing.
      const notObject = await error(node.querier.write('MergeIntoPool', { pool_id: 'p', patch: [1] }));
      expect([notObject.code, notObject.field]).toEqual(['INVALID_PARAMS', 'params.patch']);
      const emptyName = await error(node.querier.write('MergeIntoPool', { pool_id: 'p', patch: { '': 1 } }));
      expect(emptyName.code).toBe('INVALID_PARAMS');
      await expect(pool.merge(null as unknown as Record<string, unknown>)).rejects.toThrow(TypeError);
      expect(await pool.state()).toEqual({ seq: 1, state: { a: 1 } });
    });

    it('expire at open + TTL (or slide with slidingTtl), are invisible once expired, and are purged with the datastores', async () => {
      const fixed = await ds.openPool('fixed', { ttlMs: 60_000 });
      const sliding = await ds.openPool('sliding', { ttlMs: 60_000, slidingTtl: true });
      const board = await ds.open('board', { ttlMs: 60_000 });
      now = new Date(now.getTime() + 50_000);
      await fixed.merge({ a: 1 });
      await sliding.merge({ a: 1 });
      now = new Date(now.getTime() + 10_000);
      expect(await ds.getPool('fixed')).toBeUndefined();
      expect((await error(fixed.state())).code).toBe('NOT_FOUND');
      expect((await error(fixed.merge({ b: 1 }))).code).toBe('NOT_FOUND');
      expect((await sliding.state()).state).toEqual({ a: 1 });
      expect(board.id).toBe('board');
      expect(await node.querier.write('PurgeExpiredDatastores', { at: now.toISOString() })).toEqual({ purged: 2, datastores: 1, pools: 1 });
      expect(await node.querier.query("SELECT COUNT(*) AS n FROM _merge_pool_fields WHERE pool_id = 'fixed'")).toEqual([{ n: 0 }]);
      now = new Date(now.getTime() + 50_000);
      expect(await ds.purgeExpired()).toBe(1);
      expect(await ds.getPool('sliding')).toBeUndefined();
      // The id is free again.
      expect(await (await ds.openPool('fixed')).state()).toEqual({ seq: 0, state: {} });
    });

    it('keeps subscribers, reports them with every merge, and dropClient leaves pools and datastores at once', async () => {
      const pool = await ds.openPool('p');
      const board = await ds.open('board');
      await pool.subscribe('alice');
      await pool.subscribe('bob');
      await pool.subscribe('alice');
      await board.subscribe('alice');
      expect(await pool.subscribers()).toEqual(['alice', 'bob']);
      expect((await pool.merge({ a: 1 })).subscribers).toEqual(['alice', 'bob']);
      expect(await ds.dropClient('alice')).toEqual({ datastores: ['board'], pools: ['p'] });
      expect(await pool.subscribers()).toEqual(['bob']);
      expect((await pool.unsubscribe('bob')).subscribers).toEqual([]);
    });

    it('tells a watcher every field change in order through the change feed', async () => {
      const pool = await ds.openPool('p');
      const ac = new AbortController();
      const seen: string[] = [];
      const watching = (async () => {
        for await (const e of pool.watch({ since: 0, signal: ac.signal })) {
          seen.push(`${e.op}:${e.field}`);
          if (seen.length === 4) ac.abort();
        }
      })();
      await pool.merge({ a: 1, b: 1 });
      await pool.merge({ a: 2 });
      await pool.merge({ b: null });
      await watching;
      expect(seen).toEqual(['created:a', 'created:b', 'updated:a', 'deleted:b']);
    });
  });
});
