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

  describe('CreateFile', () => {
    it('records version 1 of a new path; a read returns the same row', async () => {
      const { q, clock } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      const f = await q.createFile({ id: 'f1', session_id: 's1', path: 'src/a.ts', content: 'one' });
      expect(f).toEqual({ id: 'f1', session_id: 's1', path: 'src/a.ts', content: 'one', version: 1, created_at: clock.iso, updated_at: clock.iso });
      expect(await q.getFile('f1')).toEqual(f);
    });

    it('without a version takes the next one per (session, path)', async () => {
      const { q } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      await q.createSession({ id: 's2', title: 'b' });
      expect((await q.createFile({ session_id: 's1', path: 'a', content: '1' })).version).toBe(1);
      expect((await q.createFile({ session_id: 's1', path: 'a', content: '2' })).version).toBe(2);
      expect((await q.createFile({ session_id: 's1', path: 'b', content: '1' })).version).toBe(1);
      expect((await q.createFile({ session_id: 's2', path: 'a', content: '1' })).version).toBe(1);
      expect((await q.createFile({ session_id: 's1', path: 'a', content: '7', version: 7 })).version).toBe(7);
      expect((await q.createFile({ session_id: 's1', path: 'a', content: '8' })).version).toBe(8);
    });

    it.each([
      ['an empty path', { session_id: 's1', path: '', content: '' }, 'params.path'],
      ['missing content', { session_id: 's1', path: 'a' }, 'params.content'],
      ['a negative version', { session_id: 's1', path: 'a', content: '', version: -1 }, 'params.version'],
      ['a version label that is not the reference\'s', { session_id: 's1', path: 'a', content: '', version: 'latest' }, 'params.version'],
      ['a fractional version', { session_id: 's1', path: 'a', content: '', version: 1.5 }, 'params.version'],
      ['an unknown key', { session_id: 's1', path: 'a', content: '', mode: 644 }, 'params.mode'],
    ])('refuses %s with INVALID_PARAMS naming the field, changing nothing', async (_, params, field) => {
      const { q, store } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      const before = await store.snapshot();
      expect(await rejection(q.write('CreateFile', params))).toMatchObject({ code: 'INVALID_PARAMS', field, method: 'CreateFile' });
      expect(await store.snapshot()).toEqual(before);
    });

    it('answers CONFLICT for a duplicate (session, path, version), a duplicate id and a missing session', async () => {
      const { q, store } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      await q.createFile({ id: 'f1', session_id: 's1', path: 'a', content: '', version: 3 });
      const before = await store.snapshot();
      expect(await rejection(q.createFile({ session_id: 's1', path: 'a', content: 'x', version: 3 }))).toMatchObject({ code: 'CONFLICT' });
      expect(await rejection(q.createFile({ id: 'f1', session_id: 's1', path: 'b', content: '' }))).toMatchObject({ code: 'CONFLICT' });
      expect(await rejection(q.createFile({ session_id: 'ghost', path: 'a', content: '' }))).toMatchObject({ code: 'CONFLICT' });
      expect(await store.snapshot()).toEqual(before);
    });
  });

  describe('UpdateFile', () => {
    it('replaces the content of that version in place: same id, same version, no new row', async () => {
      const { q, clock } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      const f = await q.createFile({ id: 'f1', session_id: 's1', path: 'a', content: 'old' });
      const later = clock.advance();
      const u = await q.updateFile({ id: 'f1', content: 'new' });
      expect(u).toEqual({ ...f, content: 'new', updated_at: later });
      expect(await q.listFiles('s1')).toEqual([u]);
    });

    it('with version, renumbers that row (as the reference can), also from a reference version label; CONFLICT on a taken version', async () => {
      const { q, store } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      await q.createFile({ id: 'f1', session_id: 's1', path: 'a', content: 'one' });
      await q.createFile({ id: 'f2', session_id: 's1', path: 'a', content: 'two' });
      expect(await q.updateFile({ id: 'f2', content: 'five', version: 5 })).toMatchObject({ id: 'f2', version: 5, content: 'five' });
      expect(await q.updateFile({ id: 'f2', content: 'seven', version: 'v7' })).toMatchObject({ version: 7 });
      expect(await q.updateFile({ id: 'f1', content: 'first', version: 'initial' })).toMatchObject({ version: 0 });
      expect((await q.listFiles('s1')).map((f) => `${f.id}@${f.version}`)).toEqual(['f1@0', 'f2@7']);
      const before = await store.snapshot();
      expect(await rejection(q.updateFile({ id: 'f1', content: 'x', version: 7 }))).toMatchObject({ code: 'CONFLICT', method: 'UpdateFile' });
      expect(await store.snapshot()).toEqual(before);
    });

    it('answers NOT_FOUND for a missing id and INVALID_PARAMS without content, changing nothing', async () => {
      const { q, store } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      await q.createFile({ id: 'f1', session_id: 's1', path: 'a', content: 'old' });
      const before = await store.snapshot();
      expect(await rejection(q.updateFile({ id: 'nope', content: 'x' }))).toMatchObject({ code: 'NOT_FOUND', method: 'UpdateFile' });
      expect(await rejection(q.write('UpdateFile', { id: 'f1' }))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.content' });
      expect(await rejection(q.write('UpdateFile', { id: 'f1', content: 'x', version: 1.5 }))).toMatchObject({ field: 'params.version' });
      expect(await store.snapshot()).toEqual(before);
    });
  });

  describe('DeleteFile and DeleteSessionFiles', () => {
    it('DeleteFile deletes one version and answers {deleted: 0} for a missing id', async () => {
      const { q } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      await q.createFile({ id: 'f1', session_id: 's1', path: 'a', content: '1' });
      await q.createFile({ id: 'f2', session_id: 's1', path: 'a', content: '2' });
      expect(await q.deleteFile({ id: 'f1' })).toEqual({ deleted: 1 });
      expect((await q.listFiles('s1')).map((f) => f.id)).toEqual(['f2']);
      expect(await q.deleteFile({ id: 'f1' })).toEqual({ deleted: 0 });
      expect(await rejection(q.write('DeleteFile', {}))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.id' });
    });

    it('DeleteSessionFiles deletes every version of one session and answers {deleted: 0} when there are none', async () => {
      const { q } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      await q.createSession({ id: 's2', title: 'b' });
      await q.createFile({ session_id: 's1', path: 'a', content: '' });
      await q.createFile({ session_id: 's1', path: 'a', content: '' });
      await q.createFile({ session_id: 's1', path: 'b', content: '' });
      await q.createFile({ id: 'keep', session_id: 's2', path: 'a', content: '' });
      expect(await q.deleteSessionFiles({ session_id: 's1' })).toEqual({ deleted: 3 });
      expect(await q.listFiles('s1')).toEqual([]);
      expect((await q.listFiles('s2')).map((f) => f.id)).toEqual(['keep']);
      expect(await q.deleteSessionFiles({ session_id: 'ghost' })).toEqual({ deleted: 0 });
      expect(await rejection(q.write('DeleteSessionFiles', { session_id: null }))).toMatchObject({ field: 'params.session_id' });
    });
  });

  describe('file reads', () => {
    it('getFile answers undefined for a missing id', async () => {
      const { q } = await harness();
      expect(await q.getFile('nope')).toBeUndefined();
    });

    it('listFiles: every version of one session, by path then version', async () => {
      const { q } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      await q.createSession({ id: 's2', title: 'b' });
      await q.createFile({ session_id: 's1', path: 'b', content: '', version: 2 });
      await q.createFile({ session_id: 's1', path: 'a', content: '' });
      await q.createFile({ session_id: 's1', path: 'b', content: '', version: 1 });
      await q.createFile({ session_id: 's2', path: 'a', content: '' });
      expect((await q.listFiles('s1')).map((f) => `${f.path}@${f.version}`)).toEqual(['a@1', 'b@1', 'b@2']);
    });

    it('listLatestFiles: the highest version of each path of one session, by path', async () => {
      const { q } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      await q.createSession({ id: 's2', title: 'b' });
      await q.createFile({ session_id: 's1', path: 'b', content: 'b1' });
      await q.createFile({ session_id: 's1', path: 'b', content: 'b2' });
      await q.createFile({ session_id: 's1', path: 'a', content: 'a5', version: 5 });
      await q.createFile({ session_id: 's1', path: 'a', content: 'a2', version: 2 });
      await q.createFile({ session_id: 's2', path: 'a', content: 'other', version: 9 });
      expect((await q.listLatestFiles('s1')).map((f) => `${f.path}@${f.version}:${f.content}`)).toEqual(['a@5:a5', 'b@2:b2']);
      expect(await q.listLatestFiles('nobody')).toEqual([]);
    });
  });
});
