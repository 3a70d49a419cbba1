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

  describe('CreateProject', () => {
    it('creates a project with defaults and store-set timestamps; a read returns the same row', async () => {
      const { q, clock } = await harness();
      const created = await q.createProject({ id: 'p1', name: 'scribe', path: '/src/scribe' });
      expect(created).toEqual({
        id: 'p1',
        name: 'scribe',
        path: '/src/scribe',
        status: 'active',
        initialized: false,
        acp_pid: null,
        acp_port: null,
        last_opened: null,
        created_at: clock.iso,
        updated_at: clock.iso,
      });
      expect(await q.getProject('p1')).toEqual(created);
    });

    it('takes every optional field and generates an id when none is given', async () => {
      const { q } = await harness();
      const created = await q.createProject({
        name: 'x',
        path: '/x',
        status: 'paused',
        initialized: true,
        acp_pid: 4242,
        acp_port: 8080,
        last_opened: '2024-12-31T23:59:59.000Z',
      });
      expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(created).toMatchObject({ status: 'paused', initialized: true, acp_pid: 4242, acp_port: 8080, last_opened: '2024-12-31T23:59:59.000Z' });
      expect(await q.getProject(created.id)).toEqual(created);
    });

    it.each([
      ['missing name', { path: '/a' }, 'params.name'],
      ['empty name', { name: '', path: '/a' }, 'params.name'],
      ['path of the wrong type', { name: 'a', path: 7 }, 'params.path'],
      ['initialized not a boolean, 0 or 1', { name: 'a', path: '/a', initialized: 2 }, 'params.initialized'],
      ['last_opened a negative number', { name: 'a', path: '/a', last_opened: -1 }, 'params.last_opened'],
      ['port out of range', { name: 'a', path: '/a', acp_port: 70000 }, 'params.acp_port'],
      ['last_opened not RFC 3339', { name: 'a', path: '/a', last_opened: 'yesterday' }, 'params.last_opened'],
      ['an unknown key', { name: 'a', path: '/a', colour: 'red' }, 'params.colour'],
    ])('refuses %s with INVALID_PARAMS naming the field, changing nothing', async (_, params, field) => {
      const { q, store } = await harness();
      await q.createProject({ id: 'keep', name: 'k', path: '/k' });
      const before = await store.snapshot();
      const err = await rejection(q.write('CreateProject', params));
      expect(err).toMatchObject({ code: 'INVALID_PARAMS', field, method: 'CreateProject' });
      expect(await store.snapshot()).toEqual(before);
    });

    it('answers CONFLICT for a duplicate id and for a duplicate path, changing nothing', async () => {
      const { q, store } = await harness();
      await q.createProject({ id: 'p1', name: 'a', path: '/a' });
      const before = await store.snapshot();
      expect(await rejection(q.createProject({ id: 'p1', name: 'b', path: '/b' }))).toMatchObject({ code: 'CONFLICT' });
      expect(await rejection(q.createProject({ id: 'p2', name: 'b', path: '/a' }))).toMatchObject({ code: 'CONFLICT' });
      expect(await store.snapshot()).toEqual(before);
    });
  });

  describe('UpdateProjectStatus', () => {
    it('sets the status and updated_at, keeping created_at', async () => {
      const { q, clock } = await harness();
      const created = await q.createProject({ id: 'p1', name: 'a', path: '/a' });
      const later = clock.advance();
      const updated = await q.updateProjectStatus({ id: 'p1', status: 'archived' });
      expect(updated).toEqual({ ...created, status: 'archived', updated_at: later });
      expect(await q.getProject('p1')).toEqual(updated);
    });

    it('sets acp_pid and acp_port when given, clears them with null, and leaves them when absent', async () => {
      const { q } = await harness();
      await q.createProject({ id: 'p1', name: 'a', path: '/a' });
      expect(await q.updateProjectStatus({ id: 'p1', status: 'running', acp_pid: 4242, acp_port: 8765 })).toMatchObject({
        status: 'running',
        acp_pid: 4242,
        acp_port: 8765,
      });
      expect(await q.updateProjectStatus({ id: 'p1', status: 'busy' })).toMatchObject({ status: 'busy', acp_pid: 4242, acp_port: 8765 });
      expect(await q.updateProjectStatus({ id: 'p1', status: 'stopped', acp_pid: null, acp_port: null })).toMatchObject({
        status: 'stopped',
        acp_pid: null,
        acp_port: null,
      });
      expect(await rejection(q.updateProjectStatus({ id: 'p1', status: 'x', acp_port: 70_000 }))).toMatchObject({ field: 'params.acp_port' });
    });

    it('answers NOT_FOUND for a missing id and INVALID_PARAMS for an empty status', async () => {
      const { q, store } = await harness();
      await q.createProject({ id: 'p1', name: 'a', path: '/a' });
      const before = await store.snapshot();
      expect(await rejection(q.updateProjectStatus({ id: 'nope', status: 'x' }))).toMatchObject({ code: 'NOT_FOUND', method: 'UpdateProjectStatus' });
      expect(await rejection(q.updateProjectStatus({ id: 'p1', status: '' }))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.status' });
      expect(await rejection(q.write('UpdateProjectStatus', { status: 'x' }))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.id' });
      expect(await rejection(q.write('UpdateProjectStatus', { id: 'p1', status: 'x', extra: 1 }))).toMatchObject({ field: 'params.extra' });
      expect(await store.snapshot()).toEqual(before);
    });
  });

  describe('UpdateProjectLastOpened', () => {
    it('defaults last_opened to the write time, or takes the given time (RFC 3339 or Unix seconds), or null', async () => {
      const { q, clock } = await harness();
      await q.createProject({ id: 'p1', name: 'a', path: '/a' });
      const t1 = clock.advance();
      const opened = await q.updateProjectLastOpened({ id: 'p1' });
      expect(opened).toMatchObject({ last_opened: t1, updated_at: t1 });
      const t2 = clock.advance();
      const given = await q.updateProjectLastOpened({ id: 'p1', last_opened: '2030-01-01T00:00:00.000Z' });
      expect(given).toMatchObject({ last_opened: '2030-01-01T00:00:00.000Z', updated_at: t2 });
      expect(await q.getProject('p1')).toEqual(given);
      // Unix seconds (the reference's int64 time) and null (the reference's NULL: never opened).
      expect(await q.updateProjectLastOpened({ id: 'p1', last_opened: 1_764_331_200 })).toMatchObject({ last_opened: '2025-11-28T12:00:00.000Z' });
      expect(await q.updateProjectLastOpened({ id: 'p1', last_opened: null })).toMatchObject({ last_opened: null });
    });

    it('answers NOT_FOUND for a missing id and INVALID_PARAMS for a time that is not RFC 3339', async () => {
      const { q, store } = await harness();
      await q.createProject({ id: 'p1', name: 'a', path: '/a' });
      const before = await store.snapshot();
      expect(await rejection(q.updateProjectLastOpened({ id: 'nope' }))).toMatchObject({ code: 'NOT_FOUND' });
      expect(await rejection(q.updateProjectLastOpened({ id: 'p1', last_opened: '01/02/2025' }))).toMatchObject({
        code: 'INVALID_PARAMS',
        field: 'params.last_opened',
      });
      expect(await rejection(q.write('UpdateProjectLastOpened', { id: 'p1', last_opened: 1.5 }))).toMatchObject({ field: 'params.last_opened' });
      expect(await store.snapshot()).toEqual(before);
    });
  });

  describe('MarkProjectInitialized', () => {
    it('sets initialized and records the ACP pid and port', async () => {
      const { q, clock } = await harness();
      const created = await q.createProject({ id: 'p1', name: 'a', path: '/a' });
      const later = clock.advance();
      const marked = await q.markProjectInitialized({ id: 'p1', acp_pid: 123, acp_port: 4000 });
      expect(marked).toEqual({ ...created, initialized: true, acp_pid: 123, acp_port: 4000, updated_at: later });
      expect(await q.getProject('p1')).toEqual(marked);
    });

    it('leaves pid and port alone when they are not given, and clears them when given null', async () => {
      const { q } = await harness();
      await q.createProject({ id: 'p1', name: 'a', path: '/a', acp_pid: 1, acp_port: 2 });
      expect(await q.markProjectInitialized({ id: 'p1' })).toMatchObject({ initialized: true, acp_pid: 1, acp_port: 2 });
      expect(await q.markProjectInitialized({ id: 'p1', acp_pid: null, acp_port: null })).toMatchObject({ acp_pid: null, acp_port: null });
    });

    it('answers NOT_FOUND for a missing id and INVALID_PARAMS for a bad pid', async () => {
      const { q, store } = await harness();
      await q.createProject({ id: 'p1', name: 'a', path: '/a' });
      const before = await store.snapshot();
      expect(await rejection(q.markProjectInitialized({ id: 'nope' }))).toMatchObject({ code: 'NOT_FOUND' });
      expect(await rejection(q.markProjectInitialized({ id: 'p1', acp_pid: -1 }))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.acp_pid' });
      expect(await rejection(q.write('MarkProjectInitialized', { id: 'p1', acp_pid: 'x' }))).toMatchObject({ field: 'params.acp_pid' });
      expect(await store.snapshot()).toEqual(before);
    });
  });

  describe('DeleteProject', () => {
    it('deletes a project and answers {deleted: 0} for a missing id', async () => {
      const { q } = await harness();
      await q.createProject({ id: 'p1', name: 'a', path: '/a' });
      expect(await q.deleteProject({ id: 'p1' })).toEqual({ deleted: 1 });
      expect(await q.getProject('p1')).toBeUndefined();
      expect(await q.deleteProject({ id: 'p1' })).toEqual({ deleted: 0 });
    });

    it('refuses a missing or empty id with INVALID_PARAMS', async () => {
      const { q } = await harness();
      expect(await rejection(q.write('DeleteProject', {}))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.id' });
      expect(await rejection(q.write('DeleteProject', { id: '' }))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.id' });
    });
  });

  describe('project reads', () => {
    it('getProject and getProjectByPath answer undefined when absent and the row when present', async () => {
      const { q } = await harness();
      expect(await q.getProject('nope')).toBeUndefined();
      expect(await q.getProjectByPath('/nope')).toBeUndefined();
      const p = await q.createProject({ id: 'p1', name: 'a', path: '/a' });
      expect(await q.getProjectByPath('/a')).toEqual(p);
    });

    it('listProjects: most recently opened first, never-opened last (newest first among them)', async () => {
      const { q, clock } = await harness();
      await q.createProject({ id: 'never-old', name: 'a', path: '/a' });
      clock.advance();
      await q.createProject({ id: 'never-new', name: 'b', path: '/b' });
      clock.advance();
      await q.createProject({ id: 'opened-early', name: 'c', path: '/c', last_opened: '2020-01-01T00:00:00.000Z' });
      await q.createProject({ id: 'opened-late', name: 'd', path: '/d', last_opened: '2021-01-01T00:00:00.000Z' });
      expect((await q.listProjects()).map((p) => p.id)).toEqual(['opened-late', 'opened-early', 'never-new', 'never-old']);
    });
  });
});
