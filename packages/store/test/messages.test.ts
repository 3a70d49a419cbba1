import { describe, expect, it } from 'vitest';
import { rejection } from './helpers.js';
import { TEST_ENGINES, useEngines, type TestStoreOptions } from '../../../test/helpers/engines.js';

// Shapes and codes, not durability: the faster server (fsync off).
const engines = useEngines({ durable: false });

describe.each(TEST_ENGINES)('on %s', (engine) => {
  const harness = async (options: TestStoreOptions = {}) => {
    const store = await engines.openTestStore(engine, options);
    return { ...store, store };
  };

  describe('CreateMessage', () => {
    it("adds a message, bumps the session's message_count and updated_at; a read returns the same row", async () => {
      const { q, clock } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      const later = clock.advance();
      const m = await q.createMessage({ id: 'm1', session_id: 's1', role: 'user', parts: '[{"type":"text","text":"hi"}]' });
      expect(m).toEqual({
        id: 'm1',
        session_id: 's1',
        role: 'user',
        parts: '[{"type":"text","text":"hi"}]',
        model: null,
        finished_at: null,
        created_at: later,
        updated_at: later,
      });
      expect(await q.getMessage('m1')).toEqual(m);
      expect(await q.getSession('s1')).toMatchObject({ message_count: 1, updated_at: later });
      await q.createMessage({ session_id: 's1', role: 'assistant', parts: '[]', model: 'gpt', finished_at: '2025-01-01T00:00:00Z' });
      expect(await q.getSession('s1')).toMatchObject({ message_count: 2 });
    });

    it('returns the optional fields exactly as a read returns them', async () => {
      const { q } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      const m = await q.createMessage({ session_id: 's1', role: 'assistant', parts: '[]', model: 'm-1', finished_at: '2025-01-01T00:00:00.000Z' });
      expect(await q.getMessage(m.id)).toEqual(m);
    });

    it.each([
      ['missing role', { session_id: 's1', parts: '[]' }, 'params.role'],
      ['parts that are not a string', { session_id: 's1', role: 'user', parts: [{ type: 'text' }] }, 'params.parts'],
      ['missing session_id', { role: 'user', parts: '[]' }, 'params.session_id'],
      ['finished_at not RFC 3339', { session_id: 's1', role: 'user', parts: '[]', finished_at: 'now' }, 'params.finished_at'],
      ['an unknown key', { session_id: 's1', role: 'user', parts: '[]', tokens: 3 }, 'params.tokens'],
    ])('refuses %s with INVALID_PARAMS naming the field, changing nothing', async (_, params, field) => {
      const { q, store } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      const before = await store.snapshot();
      expect(await rejection(q.write('CreateMessage', params))).toMatchObject({ code: 'INVALID_PARAMS', field, method: 'CreateMessage' });
      expect(await store.snapshot()).toEqual(before);
    });

    it('answers CONFLICT for a missing session and for a duplicate id, and the count stays true', async () => {
      const { q, store } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      await q.createMessage({ id: 'm1', session_id: 's1', role: 'user', parts: '[]' });
      const before = await store.snapshot();
      expect(await rejection(q.createMessage({ session_id: 'ghost', role: 'user', parts: '[]' }))).toMatchObject({ code: 'CONFLICT' });
      expect(await rejection(q.createMessage({ id: 'm1', session_id: 's1', role: 'user', parts: '[]' }))).toMatchObject({ code: 'CONFLICT' });
      expect(await store.snapshot()).toEqual(before);
      expect(await q.getSession('s1')).toMatchObject({ message_count: 1 });
    });
  });

  describe('UpdateMessage', () => {
    it('updates parts, model and finished_at in place', async () => {
      const { q, clock } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      const m = await q.createMessage({ id: 'm1', session_id: 's1', role: 'assistant', parts: '[]' });
      const later = clock.advance();
      const u = await q.updateMessage({ id: 'm1', parts: '[1]', model: 'x', finished_at: later });
      expect(u).toEqual({ ...m, parts: '[1]', model: 'x', finished_at: later, updated_at: later });
      expect(await q.getMessage('m1')).toEqual(u);
      expect(await q.getSession('s1')).toMatchObject({ message_count: 1 });
    });

    it('answers NOT_FOUND for a missing id and INVALID_PARAMS for bad fields, changing nothing', async () => {
      const { q, store } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      await q.createMessage({ id: 'm1', session_id: 's1', role: 'user', parts: '[]' });
      const before = await store.snapshot();
      expect(await rejection(q.updateMessage({ id: 'nope', parts: '[]' }))).toMatchObject({ code: 'NOT_FOUND', method: 'UpdateMessage' });
      expect(await rejection(q.write('UpdateMessage', { id: 'm1', parts: 1 }))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.parts' });
      expect(await rejection(q.write('UpdateMessage', { id: 'm1', role: 'system' }))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.role' });
      expect(await store.snapshot()).toEqual(before);
    });
  });

  describe('DeleteMessage', () => {
    it("deletes a message and decrements its session's message_count", async () => {
      const { q, clock } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      await q.createMessage({ id: 'm1', session_id: 's1', role: 'user', parts: '[]' });
      await q.createMessage({ id: 'm2', session_id: 's1', role: 'user', parts: '[]' });
      const later = clock.advance();
      expect(await q.deleteMessage({ id: 'm1' })).toEqual({ deleted: 1 });
      expect(await q.getMessage('m1')).toBeUndefined();
      expect(await q.getSession('s1')).toMatchObject({ message_count: 1, updated_at: later });
    });

    it('answers {deleted: 0} for a missing id and leaves the count alone', async () => {
      const { q, store } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      await q.createMessage({ id: 'm1', session_id: 's1', role: 'user', parts: '[]' });
      const before = await store.snapshot();
      expect(await q.deleteMessage({ id: 'nope' })).toEqual({ deleted: 0 });
      expect(await store.snapshot()).toEqual(before);
      expect(await rejection(q.write('DeleteMessage', { id: 7 }))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.id' });
    });
  });

  describe('message reads', () => {
    it('getMessage answers undefined for a missing id', async () => {
      const { q } = await harness();
      expect(await q.getMessage('nope')).toBeUndefined();
    });

    it('listMessages: one session, in creation order (also among equal timestamps)', async () => {
      const { q, clock } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      await q.createSession({ id: 's2', title: 'b' });
      // Ids chosen to sort against creation order, so id order cannot pass for creation order.
      await q.createMessage({ id: 'z', session_id: 's1', role: 'user', parts: '[]' });
      await q.createMessage({ id: 'y', session_id: 's1', role: 'assistant', parts: '[]' });
      await q.createMessage({ id: 'other', session_id: 's2', role: 'user', parts: '[]' });
      clock.advance();
      await q.createMessage({ id: 'a', session_id: 's1', role: 'user', parts: '[]' });
      expect((await q.listMessages('s1')).map((m) => m.id)).toEqual(['z', 'y', 'a']);
      expect(await q.listMessages('nobody')).toEqual([]);
    });
  });
});
