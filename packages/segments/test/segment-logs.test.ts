/**
 * Segment logs on every engine (a SQLite file with an in-process primary, a fresh
 * PostgreSQL database with a peer), wired the way an application wires them (the package's plugin into openNode).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WriteError } from '@scribe/protocol';
import { createDefaultRegistry } from '@scribe/store';
import {
  SEGMENT_ERROR_CODES,
  plugin,
  SEGMENT_WRITE_NAMES,
  SegmentLogError,
  SegmentLogs,
  registerSegmentWrites,
} from '@scribe/segments';
import { TEST_ENGINES, useEngines, writeBehindTheBack, type TestNode } from '../../../test/helpers/engines.js';

// What the API does, not durability: the faster server (fsync off).
const engines = useEngines({ durable: false });

describe.each(TEST_ENGINES)('on %s', (engine) => {
  let at: Awaited<ReturnType<typeof engines.location>>;
  let node: TestNode;
  let logs: SegmentLogs;

  beforeEach(async () => {
    at = await engines.location(engine, { plugins: [plugin] });
    node = await engines.openPeer(engine, at, { plugins: [plugin] });
    logs = new SegmentLogs(node.querier);
  });

  afterEach(async () => {
    await node.close();
  });

  async function failure(p: Promise<unknown>): Promise<SegmentLogError> {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(SegmentLogError);
    return e as SegmentLogError;
  }

  describe('writing and reading a segment', () => {
    it('createSegment with entries, append, readAll, readEntryCount and exists', async () => {
      expect(await logs.exists('s1', 'seg-a')).toBe(false);
      expect(await logs.createSegment('s1', 'seg-a', [{ role: 'user' }, 'two'])).toEqual({ session_id: 's1', segment_id: 'seg-a', entry_count: 2 });
      expect(await logs.append('s1', 'seg-a', [3, null, { deep: { x: true } }])).toEqual({ position: 2, entry_count: 3 });
      expect(await logs.append('s1', 'seg-a', null)).toEqual({ position: 3, entry_count: 4 });
      expect(await logs.readAll('s1', 'seg-a')).toEqual([{ role: 'user' }, 'two', [3, null, { deep: { x: true } }], null]);
      expect(await logs.readEntryCount('s1', 'seg-a')).toBe(4);
      expect(await logs.exists('s1', 'seg-a')).toBe(true);
      expect(await logs.exists('s2', 'seg-a')).toBe(false);
    });

    it('createSegment without entries makes an empty segment', async () => {
      await logs.createSegment('s1', 'empty');
      expect(await logs.readAll('s1', 'empty')).toEqual([]);
      expect(await logs.readEntryCount('s1', 'empty')).toBe(0);
    });

    it('keeps the order of many concurrent appends, losing none', async () => {
      await logs.createSegment('s1', 'seg');
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => logs.append('s1', 'seg', { i })));
      expect(results.map((r) => r.position).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
      const all = await logs.readAll<{ i: number }>('s1', 'seg');
      expect(all).toHaveLength(200);
      // Each entry sits at the position its append was told.
      for (const [i, r] of results.entries()) expect(all[r.position]).toEqual({ i });
    });

    it('truncate keeps the first length entries; length past the count is INVALID_LENGTH', async () => {
      await logs.createSegment('s1', 'seg', ['a', 'b', 'c', 'd']);
      expect(await logs.truncate('s1', 'seg', 2)).toEqual({ entry_count: 2, removed: 2 });
      expect(await logs.readAll('s1', 'seg')).toEqual(['a', 'b']);
      expect(await logs.append('s1', 'seg', 'c2')).toEqual({ position: 2, entry_count: 3 });
      expect(await logs.truncate('s1', 'seg', 3)).toEqual({ entry_count: 3, removed: 0 });
      const e = await failure(logs.truncate('s1', 'seg', 4));
      expect(e).toMatchObject({ code: 'INVALID_LENGTH', sessionId: 's1', segmentId: 'seg' });
      expect(e.message).toContain('it has 3');
      expect(e.cause).toMatchObject({ code: 'INVALID_PARAMS', method: SEGMENT_WRITE_NAMES.truncate, field: 'params.length' });
      expect(await failure(logs.truncate('s1', 'seg', -1))).toMatchObject({ code: 'INVALID_LENGTH' });
      expect(await failure(logs.truncate('s1', 'seg', 1.5))).toMatchObject({ code: 'INVALID_LENGTH' });
      expect(await logs.truncate('s1', 'seg', 0)).toEqual({ entry_count: 0, removed: 3 });
      expect(await logs.readAll('s1', 'seg')).toEqual([]);
    });

    it('readEntryCount lets a writer see that another writer extended the log; expectedCount refuses a stale append', async () => {
      await logs.createSegment('s1', 'seg', ['a']);
      const seen = await logs.readEntryCount('s1', 'seg');
      await new SegmentLogs(node.querier).append('s1', 'seg', 'from another writer');
      expect(await logs.readEntryCount('s1', 'seg')).toBe(seen + 1);
      const e = await failure(logs.append('s1', 'seg', 'mine', { expectedCount: seen }));
      expect(e).toMatchObject({ code: 'COUNT_MISMATCH', segmentId: 'seg' });
      expect(e.cause).toMatchObject({ code: 'CONFLICT', field: 'params.expected_count' });
      expect(await logs.append('s1', 'seg', 'mine', { expectedCount: seen + 1 })).toEqual({ position: 2, entry_count: 3 });
    });

    it('appendTrace keeps debug traces apart from the log', async () => {
      await logs.createSegment('s1', 'seg', ['a']);
      const before = await logs.listSegments('s1');
      await logs.createSegment('s1', 'later');
      expect(await logs.appendTrace('s1', 'seg', { step: 'tool', ms: 12 })).toEqual({ id: expect.any(Number) });
      await logs.appendTrace('s1', 'seg', 'second');
      expect(await logs.readAll('s1', 'seg')).toEqual(['a']);
      expect(await logs.readEntryCount('s1', 'seg')).toBe(1);
      const traces = await logs.readTraces('s1', 'seg');
      expect(traces.map((t) => t.entry)).toEqual([{ step: 'tool', ms: 12 }, 'second']);
      expect(Date.parse(traces[0]!.recordedAt)).toBeGreaterThan(0);
      // A trace does not make a segment "recent", and truncate leaves traces.
      expect(await logs.listSegments('s1')).toEqual(['later', ...before]);
      await logs.truncate('s1', 'seg', 0);
      expect(await logs.readTraces('s1', 'seg')).toHaveLength(2);
      expect(await failure(logs.appendTrace('s1', 'nope', 'x'))).toMatchObject({ code: 'NOT_FOUND' });
    });
  });

  describe('listing', () => {
    it('listSessions and listSegments are most recently written first; lookupSessionOf finds the owner', async () => {
      await logs.createSegment('s1', 'a1');
      await logs.createSegment('s2', 'b1');
      await logs.createSegment('s1', 'a2');
      expect(await logs.listSessions()).toEqual(['s1', 's2']);
      expect(await logs.listSegments('s1')).toEqual(['a2', 'a1']);
      await logs.append('s1', 'a1', 'x');
      expect(await logs.listSegments('s1')).toEqual(['a1', 'a2']);
      await logs.append('s2', 'b1', 'y');
      expect(await logs.listSessions()).toEqual(['s2', 's1']);
      await logs.truncate('s1', 'a2', 0);
      expect(await logs.listSessions()).toEqual(['s1', 's2']);
      expect(await logs.listSegments('s1')).toEqual(['a2', 'a1']);
      expect(await logs.listSegments('nobody')).toEqual([]);
      expect(await logs.lookupSessionOf('b1')).toBe('s2');
      // Seed 003: an unknown segment is the reference's None, an answer rather than an error.
      expect(await logs.lookupSessionOf('zz')).toBeUndefined();
    });
  });

  describe('createSegment with replace (seed 003: create_segment rewrites, the default truncate relies on it)', () => {
    it('rewrites an existing segment of the same session to exactly the new entries, in one write; traces stay', async () => {
      await logs.createSegment('s1', 'seg', ['a', 'b', 'c']);
      await logs.appendTrace('s1', 'seg', { t: 1 });
      expect(await logs.createSegment('s1', 'seg', ['x', { y: 2 }], { replace: true })).toEqual({ session_id: 's1', segment_id: 'seg', entry_count: 2 });
      expect(await logs.readAll('s1', 'seg')).toEqual(['x', { y: 2 }]);
      expect(await logs.readEntryCount('s1', 'seg')).toBe(2);
      expect((await logs.readTraces('s1', 'seg')).map((t) => t.entry)).toEqual([{ t: 1 }]);
      // Appends go on from the new end.
      expect(await logs.append('s1', 'seg', 'z')).toEqual({ position: 2, entry_count: 3 });
      // Rewriting to nothing leaves an empty segment that still exists.
      await logs.createSegment('s1', 'seg', [], { replace: true });
      expect(await logs.readAll('s1', 'seg')).toEqual([]);
      expect(await logs.exists('s1', 'seg')).toBe(true);
    });

    it('the reference truncate (read_all, keep a prefix, create_segment) gives what truncate gives', async () => {
      await logs.createSegment('s1', 'by-truncate', ['a', 'b', 'c', 'd']);
      await logs.createSegment('s1', 'by-rewrite', ['a', 'b', 'c', 'd']);
      await logs.truncate('s1', 'by-truncate', 2);
      const kept = (await logs.readAll('s1', 'by-rewrite')).slice(0, 2);
      await logs.createSegment('s1', 'by-rewrite', kept, { replace: true });
      expect(await logs.readAll('s1', 'by-rewrite')).toEqual(await logs.readAll('s1', 'by-truncate'));
      expect(await logs.readEntryCount('s1', 'by-rewrite')).toBe(2);
    });

    it('creates the segment when absent, and never rewrites a segment of another session', async () => {
      expect(await logs.createSegment('s1', 'fresh', ['a'], { replace: true })).toEqual({ session_id: 's1', segment_id: 'fresh', entry_count: 1 });
      const e = await failure(logs.createSegment('s2', 'fresh', ['b'], { replace: true }));
      expect(e).toMatchObject({ code: 'ALREADY_EXISTS', sessionId: 's2', segmentId: 'fresh' });
      expect(e.message).toContain('another session');
      expect(await logs.readAll('s1', 'fresh')).toEqual(['a']);
      // Without the option an existing id is still ALREADY_EXISTS.
      expect(await failure(logs.createSegment('s1', 'fresh', ['c']))).toMatchObject({ code: 'ALREADY_EXISTS' });
      await expect(logs.createSegment('s1', 'fresh', [], { replace: 'yes' as unknown as boolean })).rejects.toThrow(/Expected 'replace' to be a boolean/);
    });
  });

  describe('errors', () => {
    it('NOT_FOUND for an unknown segment, or one of another session, from every operation', async () => {
      await logs.createSegment('s1', 'seg', ['a']);
      const ops: Array<[string, () => Promise<unknown>]> = [
        ['append', () => logs.append('s1', 'nope', 1)],
        ['append to another session', () => logs.append('s2', 'seg', 1)],
        ['truncate', () => logs.truncate('s1', 'nope', 0)],
        ['appendTrace', () => logs.appendTrace('s1', 'nope', 1)],
        ['readAll', () => logs.readAll('s1', 'nope')],
        ['readAll of another session', () => logs.readAll('s2', 'seg')],
        ['readEntryCount', () => logs.readEntryCount('s1', 'nope')],
        ['readTraces', () => logs.readTraces('s1', 'nope')],
      ];
      for (const [what, run] of ops) {
        const e = await failure(run());
        expect(e.code, what).toBe('NOT_FOUND');
        expect(e.segmentId, what).toBeDefined();
      }
      const fromWrite = await failure(logs.append('s1', 'nope', 1));
      expect(fromWrite.cause).toMatchObject({ code: 'NOT_FOUND', method: SEGMENT_WRITE_NAMES.append });
      expect(await logs.readAll('s1', 'seg')).toEqual(['a']);
    });

    it('ALREADY_EXISTS for a segment id taken in any session', async () => {
      await logs.createSegment('s1', 'seg', ['a']);
      for (const session of ['s1', 's2']) {
        const e = await failure(logs.createSegment(session, 'seg', ['b']));
        expect(e).toMatchObject({ code: 'ALREADY_EXISTS', sessionId: session, segmentId: 'seg' });
        expect(e.cause).toMatchObject({ code: 'CONFLICT' });
      }
      expect(await logs.readAll('s1', 'seg')).toEqual(['a']);
    });

    it.each([
      ['an empty session id', () => logs.append('', 'seg', 1)],
      ['a session id with a slash', () => logs.createSegment('a/b', 'seg')],
      ['a segment id with a space', () => logs.append('s1', 'my seg', 1)],
      ['a segment id starting with a dot', () => logs.readAll('s1', '.hidden')],
      ['a segment id of 201 characters', () => logs.exists('s1', 'x'.repeat(201))],
      ['a non-string segment id', () => logs.readEntryCount('s1', 42 as unknown as string)],
      ['a bad name in lookupSessionOf', () => logs.lookupSessionOf('')],
      ['a bad name in listSegments', () => logs.listSegments('no\nnewlines')],
      ['a bad name in truncate', () => logs.truncate('s1', '', 0)],
      ['a bad name in appendTrace', () => logs.appendTrace('s1', '-x', 0)],
    ])('INVALID_NAME for %s, before anything is sent', async (_what, run) => {
      const e = await failure(run());
      expect(e.code).toBe('INVALID_NAME');
      expect(e.cause).toBeUndefined();
    });

    it('INVALID_NAME also when a client in another language sends a bad name (INVALID_PARAMS on the field)', async () => {
      const e = await node.querier.write(SEGMENT_WRITE_NAMES.create, { session_id: 's 1', segment_id: 'x', entries: [] }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(WriteError);
      expect(e).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.session_id' });
      const bad = await node.querier.write(SEGMENT_WRITE_NAMES.append, { session_id: 's1', segment_id: 'x', entry: '{not json' }).catch((x: unknown) => x);
      expect(bad).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.entry' });
    });

    it('INVALID_ENTRY for a value JSON cannot hold', async () => {
      await logs.createSegment('s1', 'seg');
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      expect(await failure(logs.append('s1', 'seg', undefined))).toMatchObject({ code: 'INVALID_ENTRY' });
      expect(await failure(logs.append('s1', 'seg', () => 1))).toMatchObject({ code: 'INVALID_ENTRY' });
      expect(await failure(logs.append('s1', 'seg', 10n))).toMatchObject({ code: 'INVALID_ENTRY' });
      expect(await failure(logs.append('s1', 'seg', cyclic))).toMatchObject({ code: 'INVALID_ENTRY' });
      expect(await failure(logs.createSegment('s1', 'other', ['ok', undefined]))).toMatchObject({ code: 'INVALID_ENTRY', message: expect.stringContaining('entry 1') });
      expect(await logs.readEntryCount('s1', 'seg')).toBe(0);
      expect(await logs.exists('s1', 'other')).toBe(false);
    });

    it('CORRUPT with the position of an entry that does not decode', async () => {
      await logs.createSegment('s1', 'seg', ['a', 'b', 'c']);
      await writeBehindTheBack(at, "UPDATE _segment_entries SET entry = '{broken' WHERE segment_id = 'seg' AND position = 1");
      const e = await failure(logs.readAll('s1', 'seg'));
      expect(e).toMatchObject({ code: 'CORRUPT', position: 1, sessionId: 's1', segmentId: 'seg' });
      expect(e.cause).toBeInstanceOf(SyntaxError);
      // The count is still readable, and the log can be repaired by truncating before the bad entry.
      expect(await logs.readEntryCount('s1', 'seg')).toBe(3);
      await logs.truncate('s1', 'seg', 1);
      expect(await logs.readAll('s1', 'seg')).toEqual(['a']);
    });

    it('CORRUPT also for a bad row written through the raw-SQL Exec write, and for a missing position', async () => {
      await logs.createSegment('s1', 'seg', ['a', 'b', 'c']);
      await node.querier.exec("UPDATE _segment_entries SET entry = 'nope' WHERE segment_id = 'seg' AND position = 2");
      expect(await failure(logs.readAll('s1', 'seg'))).toMatchObject({ code: 'CORRUPT', position: 2 });
      await node.querier.exec("DELETE FROM _segment_entries WHERE segment_id = 'seg' AND position = 0");
      expect(await failure(logs.readAll('s1', 'seg'))).toMatchObject({ code: 'CORRUPT', position: 0 });
    });

    it('transient failures stay WriteErrors that say they can be retried', async () => {
      // A querier whose primary is unreachable: the forwarder's error passes through unmapped.
      const unreachable = new WriteError('UNREACHABLE', 'no primary answered', { method: SEGMENT_WRITE_NAMES.append });
      const down = new SegmentLogs({ ...node.querier, write: async () => Promise.reject(unreachable), query: node.querier.query });
      const e = await down.append('s1', 'seg', 1).catch((x: unknown) => x);
      expect(e).toBe(unreachable);
      expect((e as WriteError).isRetryable()).toBe(true);
    });
  });

  describe('the package surface', () => {
    it('lists its error codes as data and registers its writes once', () => {
      expect(SEGMENT_ERROR_CODES).toEqual(['NOT_FOUND', 'CORRUPT', 'INVALID_NAME', 'INVALID_ENTRY', 'ALREADY_EXISTS', 'INVALID_LENGTH', 'COUNT_MISMATCH']);
      const registry = registerSegmentWrites(createDefaultRegistry());
      expect(registry.names()).toEqual(expect.arrayContaining(Object.values(SEGMENT_WRITE_NAMES)));
      expect(() => registerSegmentWrites(registry)).toThrow(TypeError);
      expect(() => new SegmentLogs(null as never)).toThrow(/Expected 'querier'/);
    });
  });
});
