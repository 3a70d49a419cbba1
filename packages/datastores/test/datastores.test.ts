import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WriteError } from '@scribe/protocol';
import { DATASTORE_MIGRATIONS, DATASTORES_PLUGIN_NAME, Datastores, plugin } from '@scribe/datastores';
import { definePlugin } from '@scribe/store';
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
    try {
      await p;
    } catch (e) {
      expect(e).toBeInstanceOf(WriteError);
      return e as WriteError;
    }
    throw new Error('expected a WriteError');
  }

  describe('datastores', () => {
    it('opens or creates by id, and gives a fresh random public id when none is given', async () => {
      const a = await ds.open('board', { kind: 'permanent' });
      const again = await ds.open('board', { kind: 'permanent' });
      expect([a.id, again.id, a.kind, a.primaryKey]).toEqual(['board', 'board', 'permanent', 'id']);
      const anon1 = await ds.open();
      const anon2 = await ds.open();
      expect(anon1.id).toMatch(/^[A-Za-z0-9_-]{16}$/);
      expect(anon1.id).not.toBe(anon2.id);
      expect(anon1.kind).toBe('temp');
      const clash = await error(ds.open('board', { kind: 'temp' }));
      expect([clash.code, clash.field]).toEqual(['CONFLICT', 'params.kind']);
    });

    it('upserts by the primary key, stamping a sequence that grows per datastore, last write wins', async () => {
      const board = await ds.open('board', { kind: 'permanent', primaryKey: 'name' });
      const other = await ds.open('other', { kind: 'permanent' });
      expect(await board.set({ name: 'a', v: 1 })).toMatchObject({ seq: 1, key: 'a', op: 'created' });
      expect(await board.set({ name: 'b', v: 1 })).toMatchObject({ seq: 2, key: 'b', op: 'created' });
      expect(await other.set({ id: 'x' })).toMatchObject({ seq: 1 });
      expect(await board.set({ name: 'a', v: 2 })).toMatchObject({ seq: 3, key: 'a', op: 'updated' });
      expect(await board.get('a')).toEqual({ name: 'a', v: 2 });
      expect(await board.snapshot()).toEqual([
        { key: 'b', seq: 2, data: { name: 'b', v: 1 } },
        { key: 'a', seq: 3, data: { name: 'a', v: 2 } },
      ]);
      expect(await board.delete('a')).toMatchObject({ seq: 4, key: 'a', op: 'deleted' });
      expect(await board.delete('a')).toBeNull();
      expect(await board.get('a')).toBeUndefined();
      expect(await board.seq()).toBe(4);
    });

    it('refuses a missing or non-string key with INVALID_PARAMS naming the field, changing nothing', async () => {
      const board = await ds.open('board', { kind: 'permanent' });
      for (const bad of [{ v: 1 }, { id: 7 }, { id: '' }, { id: null }]) {
        const e = await error(board.set(bad as Record<string, unknown>));
        expect([e.code, e.field, e.method]).toEqual(['INVALID_PARAMS', 'params.data.id', 'SetDatastoreRecord']);
      }
      expect(await board.snapshot()).toEqual([]);
      expect(await board.seq()).toBe(0);
    });

    it('answers NOT_FOUND for an unknown datastore, on writes and reads', async () => {
      const board = await ds.open('board', { kind: 'permanent' });
      await node.querier.write('PurgeExpiredDatastores', null);
      const unknown = await error(node.querier.write('SetDatastoreRecord', { datastore_id: 'nope', data: { id: 'a' } }));
      expect([unknown.code, unknown.field]).toEqual(['NOT_FOUND', 'params.datastore_id']);
      expect(await ds.get('nope')).toBeUndefined();
      const bad = await error(ds.open('no spaces'));
      expect([bad.code, bad.field]).toEqual(['INVALID_PARAMS', 'params.id']);
      expect(board.id).toBe('board');
    });

    it('keeps subscribers, reports them with each mutation, and drops a client from every datastore at once', async () => {
      const a = await ds.open('a', { kind: 'permanent' });
      const b = await ds.open('b', { kind: 'permanent' });
      await a.subscribe('alice');
      await a.subscribe('bob');
      await a.subscribe('alice');
      await b.subscribe('alice');
      expect(await a.subscribers()).toEqual(['alice', 'bob']);
      expect((await a.set({ id: 'k' })).subscribers).toEqual(['alice', 'bob']);
      expect(await ds.dropClient('alice')).toEqual({ datastores: ['a', 'b'], pools: [] });
      expect(await a.subscribers()).toEqual(['bob']);
      expect(await b.subscribers()).toEqual([]);
      expect((await a.unsubscribe('bob')).subscribers).toEqual([]);
    });

    it('expires temp datastores at open + TTL, however much they are used (seed 004): invisible at once, purged on demand', async () => {
      const temp = await ds.open('temp', { kind: 'temp', ttlMs: 60_000 });
      const keep = await ds.open('keep', { kind: 'permanent' });
      await temp.set({ id: 'a' });
      now = new Date(now.getTime() + 59_000);
      await temp.set({ id: 'b' }); // does not move the expiry: open + 60 s
      expect((await temp.snapshot()).map((r) => r.key)).toEqual(['a', 'b']);
      now = new Date(now.getTime() + 1_000); // open + 60 s exactly
      expect(await ds.get('temp')).toBeUndefined();
      expect((await error(temp.get('a'))).code).toBe('NOT_FOUND');
      expect((await error(temp.set({ id: 'c' }))).code).toBe('NOT_FOUND');
      expect(await ds.purgeExpired()).toBe(1);
      expect(await ds.purgeExpired()).toBe(0);
      expect(await node.querier.query('SELECT * FROM _datastore_records WHERE datastore_id = ?', ['temp'])).toEqual([]);
      expect(await keep.seq()).toBe(0);
      // The id is free again: opening it gives a new, empty datastore.
      const reborn = await ds.open('temp', { kind: 'temp' });
      expect(await reborn.snapshot()).toEqual([]);
    });

    it('slides the expiry with each mutation when opened with slidingTtl', async () => {
      const temp = await ds.open('sliding', { ttlMs: 60_000, slidingTtl: true });
      await temp.set({ id: 'a' });
      now = new Date(now.getTime() + 59_000);
      await temp.set({ id: 'b' }); // slides the expiry to +59 s + 60 s
      now = new Date(now.getTime() + 59_000);
      expect((await temp.snapshot()).map((r) => r.key)).toEqual(['a', 'b']);
      now = new Date(now.getTime() + 2_000);
      expect(await ds.get('sliding')).toBeUndefined();
      // A reopen does not turn sliding into fixed or back: the datastore keeps what it was created with.
      const fixed = await ds.open('fixed', { ttlMs: 60_000 });
      expect(await ds.open('fixed', { ttlMs: 60_000, slidingTtl: true })).toMatchObject({ id: 'fixed' });
      now = new Date(now.getTime() + 30_000);
      await fixed.set({ id: 'x' });
      now = new Date(now.getTime() + 30_000);
      expect(await ds.get('fixed')).toBeUndefined();
    });

    it('reopening returns the existing datastore whatever the defaults say; only a kind or key given and different is CONFLICT, saying which', async () => {
      const board = await ds.open('board', { kind: 'permanent', primaryKey: 'name' });
      await board.set({ name: 'a' });
      // No options: the existing permanent datastore keyed by name, not a clash with the defaults (temp, id).
      const again = await ds.open('board');
      expect([again.kind, again.primaryKey]).toEqual(['permanent', 'name']);
      expect(await again.get('a')).toEqual({ name: 'a' });
      expect(await ds.open('board', { kind: 'permanent', ttlMs: 5 })).toMatchObject({ kind: 'permanent', primaryKey: 'name' });
      const kind = await error(ds.open('board', { kind: 'temp' }));
      expect([kind.code, kind.field]).toEqual(['CONFLICT', 'params.kind']);
      expect(kind.message).toMatch(/"board" exists and its kind is permanent, not temp$/);
      const key = await error(ds.open('board', { primaryKey: 'id' }));
      expect([key.code, key.field]).toEqual(['CONFLICT', 'params.primary_key']);
      expect(key.message).toMatch(/its primary key is "name", not "id"$/);
      const both = await error(ds.open('board', { kind: 'temp', primaryKey: 'id' }));
      expect(both.message).toMatch(/its kind is permanent, not temp, and its primary key is "name", not "id"$/);
      expect(await board.seq()).toBe(1);
    });

    it('tells a watcher every mutation in order through the change feed', async () => {
      const board = await ds.open('board', { kind: 'permanent' });
      const ac = new AbortController();
      const seen: string[] = [];
      const watching = (async () => {
        for await (const e of board.watch({ since: 0, signal: ac.signal })) {
          seen.push(`${e.op}:${e.key}`);
          if (seen.length === 3) ac.abort();
        }
      })();
      await board.set({ id: 'a' });
      await board.set({ id: 'a', v: 2 });
      await board.delete('a');
      await watching;
      expect(seen).toEqual(['created:a', 'updated:a', 'deleted:a']);
    });
  });

  describe('migration 2 on a file made with migration 1', () => {
    it('keeps the sliding expiry of the temp datastores that existed (they were created sliding); permanent ones stay fixed', async () => {
      const v1 = definePlugin({ name: DATASTORES_PLUGIN_NAME, migrations: [DATASTORE_MIGRATIONS[0]!] });
      const at = await engines.location(engine, { plugins: [v1] });
      const old = await engines.openPeer(engine, at, { plugins: [v1] });
      await old.querier.exec(`INSERT INTO _datastores (id, kind, primary_key, ttl_ms, expires_at, seq, created_at, updated_at) VALUES
        ('was-temp', 'temp', 'id', 60000, '2026-11-24T10:01:00.000Z', 0, '2026-11-24T10:00:00.000Z', '2026-11-24T10:00:00.000Z'),
        ('was-permanent', 'permanent', 'id', NULL, NULL, 0, '2026-11-24T10:00:00.000Z', '2026-11-24T10:00:00.000Z')`);
      await old.close();
      const upgraded = await engines.openPeer(engine, at, { plugins: [plugin] });
      try {
        expect(await upgraded.querier.query('SELECT id, sliding FROM _datastores ORDER BY id')).toEqual([
          { id: 'was-permanent', sliding: 0 },
          { id: 'was-temp', sliding: 1 },
        ]);
        const stores = new Datastores({ querier: upgraded.querier, clock: () => now });
        const temp = (await stores.get('was-temp'))!;
        now = new Date(now.getTime() + 50_000);
        await temp.set({ id: 'a' }); // slides: expires 60 s after this
        now = new Date(now.getTime() + 50_000);
        expect(await stores.get('was-temp')).toBeDefined();
      } finally {
        await upgraded.close();
      }
    });
  });
});
