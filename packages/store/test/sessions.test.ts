import { describe, expect, it } from 'vitest';
import { item, rejection } from './helpers.js';
import { TEST_ENGINES, useEngines, type TestStoreOptions } from '../../../test/helpers/engines.js';

// Shapes and codes, not durability: the faster server (fsync off).
const engines = useEngines({ durable: false });

describe.each(TEST_ENGINES)('on %s', (engine) => {
  const harness = async (options: TestStoreOptions = {}) => {
    const store = await engines.openTestStore(engine, options);
    return { ...store, store };
  };

  describe('CreateSession', () => {
    it('creates a session with zero counters and store-set timestamps; a read returns the same row', async () => {
      const { q, clock } = await harness();
      const s = await q.createSession({ id: 's1', title: 'first' });
      expect(s).toEqual({
        id: 's1',
        parent_session_id: null,
        title: 'first',
        message_count: 0,
        prompt_tokens: 0,
        completion_tokens: 0,
        cost: 0,
        summary_message_id: null,
        created_at: clock.iso,
        updated_at: clock.iso,
      });
      expect(await q.getSession('s1')).toEqual(s);
    });

    it('creates a child session with the given counters', async () => {
      const { q } = await harness();
      await q.createSession({ id: 'parent', title: 'p' });
      const child = await q.createSession({ id: 'child', parent_session_id: 'parent', title: 'c', prompt_tokens: 3, completion_tokens: 4, cost: 0.5 });
      expect(child).toMatchObject({ parent_session_id: 'parent', prompt_tokens: 3, completion_tokens: 4, cost: 0.5 });
      expect(await q.getSession('child')).toEqual(child);
    });

    it.each([
      ['missing title', {}, 'params.title'],
      ['title of the wrong type', { title: 5 }, 'params.title'],
      ['negative cost', { title: 't', cost: -1 }, 'params.cost'],
      ['fractional token count', { title: 't', prompt_tokens: 1.5 }, 'params.prompt_tokens'],
      ['an unknown key', { title: 't', owner: 'me' }, 'params.owner'],
    ])('refuses %s with INVALID_PARAMS naming the field, changing nothing', async (_, params, field) => {
      const { q, store } = await harness();
      await q.createSession({ id: 'keep', title: 'k' });
      const before = await store.snapshot();
      expect(await rejection(q.write('CreateSession', params))).toMatchObject({ code: 'INVALID_PARAMS', field, method: 'CreateSession' });
      expect(await store.snapshot()).toEqual(before);
    });

    it('answers CONFLICT for a duplicate id and for a parent that does not exist, changing nothing', async () => {
      const { q, store } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      const before = await store.snapshot();
      expect(await rejection(q.createSession({ id: 's1', title: 'b' }))).toMatchObject({ code: 'CONFLICT' });
      expect(await rejection(q.createSession({ id: 's2', title: 'b', parent_session_id: 'ghost' }))).toMatchObject({ code: 'CONFLICT' });
      expect(await store.snapshot()).toEqual(before);
    });
  });

  describe('UpdateSession', () => {
    it('updates only the given fields and updated_at', async () => {
      const { q, clock } = await harness();
      const s = await q.createSession({ id: 's1', title: 'a', cost: 1 });
      const later = clock.advance();
      const u = await q.updateSession({ id: 's1', title: 'b', completion_tokens: 9, summary_message_id: 'm9' });
      expect(u).toEqual({ ...s, title: 'b', completion_tokens: 9, summary_message_id: 'm9', updated_at: later });
      expect(await q.getSession('s1')).toEqual(u);
    });

    it('answers NOT_FOUND for a missing id and INVALID_PARAMS for bad fields, changing nothing', async () => {
      const { q, store } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      const before = await store.snapshot();
      expect(await rejection(q.updateSession({ id: 'nope', title: 'x' }))).toMatchObject({ code: 'NOT_FOUND', method: 'UpdateSession' });
      expect(await rejection(q.write('UpdateSession', { id: 's1', cost: 'free' }))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.cost' });
      expect(await rejection(q.write('UpdateSession', { id: 's1', message_count: 3 }))).toMatchObject({
        code: 'INVALID_PARAMS',
        field: 'params.message_count',
      });
      expect(await rejection(q.write('UpdateSession', { title: 'x' }))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.id' });
      expect(await store.snapshot()).toEqual(before);
    });
  });

  describe('DeleteSession', () => {
    it("removes the session's messages, files and scores and orphans its children", async () => {
      const { q, store } = await harness();
      await q.createSession({ id: 's1', title: 'doomed' });
      await q.createSession({ id: 'other', title: 'kept' });
      await q.createSession({ id: 'child', title: 'c', parent_session_id: 's1' });
      await q.createMessage({ id: 'm1', session_id: 's1', role: 'user', parts: '[]' });
      await q.createMessage({ id: 'm2', session_id: 's1', role: 'assistant', parts: '[]' });
      await q.createMessage({ id: 'm3', session_id: 'other', role: 'user', parts: '[]' });
      await q.createFile({ id: 'f1', session_id: 's1', path: 'a', content: '' });
      await q.insertSessionScore({ id: 'sc1', session_id: 's1', reward: 1 });
      const seqBefore = await store.latestChangeSeq();

      expect(await q.deleteSession({ id: 's1' })).toEqual({ deleted: 1, messages: 2, files: 1, scores: 1 });

      expect(await q.getSession('s1')).toBeUndefined();
      expect(await q.listMessages('s1')).toEqual([]);
      expect(await q.listFiles('s1')).toEqual([]);
      expect(await q.listSessionScoresBySession('s1')).toEqual([]);
      expect((await q.getSession('child'))?.parent_session_id).toBeNull();
      expect((await q.listMessages('other')).map((m) => m.id)).toEqual(['m3']);
      const events = (await store.changesSince(seqBefore)).map((c) => `${c.entity}:${c.key}:${c.op}`);
      expect(events.sort()).toEqual(
        ['files:f1:deleted', 'messages:m1:deleted', 'messages:m2:deleted', 'session_scores:sc1:deleted', 'sessions:child:updated', 'sessions:s1:deleted'].sort(),
      );
      // All of them belong to the one write.
      expect(new Set((await store.changesSince(seqBefore)).map((c) => c.request_id)).size).toBe(1);
    });

    it('is one transaction: when the session row cannot go, its messages, files and scores stay', async () => {
      const { q, store } = await harness({
        migrations: [
          {
            version: 1000,
            name: 'pin session s1',
            up: {
              sqlite: `CREATE TRIGGER pin BEFORE DELETE ON sessions WHEN old.id = 's1' BEGIN SELECT RAISE(ABORT, 'pinned'); END;`,
              postgres: `CREATE FUNCTION pin_s1() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF old.id = 's1' THEN RAISE EXCEPTION 'pinned'; END IF; RETURN old; END $$;
                CREATE TRIGGER pin BEFORE DELETE ON sessions FOR EACH ROW EXECUTE FUNCTION pin_s1();`,
            },
          },
        ],
      });
      await q.createSession({ id: 's1', title: 'pinned' });
      await q.createMessage({ id: 'm1', session_id: 's1', role: 'user', parts: '[]' });
      await q.createFile({ id: 'f1', session_id: 's1', path: 'a', content: '' });
      await q.insertSessionScore({ id: 'sc1', session_id: 's1' });
      const before = await store.snapshot();
      const err = await rejection(q.deleteSession({ id: 's1' }));
      expect(err).toMatchObject({ code: 'CONFLICT', method: 'DeleteSession' });
      expect(await store.snapshot()).toEqual(before);
    });

    it('answers zero counts for a missing id', async () => {
      const { q } = await harness();
      expect(await q.deleteSession({ id: 'nope' })).toEqual({ deleted: 0, messages: 0, files: 0, scores: 0 });
    });
  });

  describe('DeleteSessionMessages', () => {
    it('deletes every message of the session and zeroes message_count, leaving other sessions alone', async () => {
      const { q, clock } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      await q.createSession({ id: 's2', title: 'b' });
      for (const id of ['m1', 'm2', 'm3']) await q.createMessage({ id, session_id: 's1', role: 'user', parts: '[]' });
      await q.createMessage({ id: 'x', session_id: 's2', role: 'user', parts: '[]' });
      const later = clock.advance();
      expect(await q.deleteSessionMessages({ session_id: 's1' })).toEqual({ deleted: 3 });
      expect(await q.getSession('s1')).toMatchObject({ message_count: 0, updated_at: later });
      expect(await q.listMessages('s1')).toEqual([]);
      expect(await q.getSession('s2')).toMatchObject({ message_count: 1 });
    });

    it('answers {deleted: 0} for a missing session and INVALID_PARAMS without session_id', async () => {
      const { q } = await harness();
      expect(await q.deleteSessionMessages({ session_id: 'nope' })).toEqual({ deleted: 0 });
      expect(await rejection(q.write('DeleteSessionMessages', { id: 's1' }))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.session_id' });
    });
  });

  describe('session reads', () => {
    it('getSession answers undefined for a missing id', async () => {
      const { q } = await harness();
      expect(await q.getSession('nope')).toBeUndefined();
    });

    it('listAllSessions: every session, newest first, and by insertion among equal timestamps (newest first)', async () => {
      const { q, clock } = await harness();
      await q.createSession({ id: 'old', title: 'a' });
      clock.advance();
      await q.createSession({ id: 'mid-1', title: 'b' });
      await q.createSession({ id: 'mid-2', title: 'c' });
      clock.advance();
      await q.createSession({ id: 'new', title: 'd' });
      expect((await q.listAllSessions()).map((s) => s.id)).toEqual(['new', 'mid-2', 'mid-1', 'old']);
    });

    it('listChildSessions: the children of one parent, oldest first', async () => {
      const { q, clock } = await harness();
      await q.createSession({ id: 'p', title: 'p' });
      await q.createSession({ id: 'other', title: 'o' });
      await q.createSession({ id: 'c1', title: 'c', parent_session_id: 'p' });
      clock.advance();
      await q.createSession({ id: 'c2', title: 'c', parent_session_id: 'p' });
      await q.createSession({ id: 'x', title: 'x', parent_session_id: 'other' });
      expect((await q.listChildSessions('p')).map((s) => s.id)).toEqual(['c1', 'c2']);
      expect(await q.listChildSessions('nobody')).toEqual([]);
    });
  });

  describe('session writes through executeBatch', () => {
    it('a CreateSession that fails leaves no change event behind', async () => {
      const { store } = await harness();
      const { outcomes, changes } = await store.executeBatch([item('CreateSession', { title: 'ok' }), item('CreateSession', { parent_session_id: 'ghost', title: 'x' })]);
      expect(outcomes.map((o) => o.ok)).toEqual([true, false]);
      expect(changes).toHaveLength(1);
      expect(await store.changesSince(0)).toEqual(changes);
    });
  });
});
