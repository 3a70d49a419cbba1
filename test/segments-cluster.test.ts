/**
 * Segment logs across real processes: a primary and secondaries, each a child process
 * running test/fixtures/agent-storage-node.mjs, driven over IPC. 
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AgentNode, agentCluster, failure } from './helpers/agent-node.js';

const cluster = () => agentCluster('segments-cluster');

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

  it('createSegment, append, readAll, readEntryCount, exists, truncate, traces; the other process reads the same log', async () => {
    expect(await caller.logs('exists', 'ses-1', 'seg-1')).toBe(false);
    expect(await caller.logs('createSegment', 'ses-1', 'seg-1', [{ n: 0 }, 'one'])).toEqual({ session_id: 'ses-1', segment_id: 'seg-1', entry_count: 2 });
    expect(await caller.logs('append', 'ses-1', 'seg-1', { n: 2, nested: [true, null] })).toEqual({ position: 2, entry_count: 3 });
    expect(await caller.logs('append', 'ses-1', 'seg-1', 3, { expectedCount: 3 })).toEqual({ position: 3, entry_count: 4 });
    const log = [{ n: 0 }, 'one', { n: 2, nested: [true, null] }, 3];
    expect(await caller.logs('readAll', 'ses-1', 'seg-1')).toEqual(log);
    expect(await other.logs('readAll', 'ses-1', 'seg-1')).toEqual(log);
    expect(await caller.logs('readEntryCount', 'ses-1', 'seg-1')).toBe(4);
    expect(await other.logs('exists', 'ses-1', 'seg-1')).toBe(true);
    expect(await caller.logs('appendTrace', 'ses-1', 'seg-1', { debug: 'tool call', ms: 3 })).toEqual({ id: expect.any(Number) });
    expect((await other.logs<Array<{ entry: unknown }>>('readTraces', 'ses-1', 'seg-1')).map((t) => t.entry)).toEqual([{ debug: 'tool call', ms: 3 }]);
    expect(await caller.logs('truncate', 'ses-1', 'seg-1', 1)).toEqual({ entry_count: 1, removed: 3 });
    expect(await other.logs('readAll', 'ses-1', 'seg-1')).toEqual([{ n: 0 }]);
    expect(await other.logs('readEntryCount', 'ses-1', 'seg-1')).toBe(1);
    expect(await other.logs('readTraces', 'ses-1', 'seg-1')).toHaveLength(1);
  });

  it('listSessions and listSegments most recent first, lookupSessionOf, from either process', async () => {
    await caller.logs('createSegment', 'ls-a', 'ls-a-1');
    await other.logs('createSegment', 'ls-b', 'ls-b-1');
    await caller.logs('createSegment', 'ls-a', 'ls-a-2');
    await other.logs('append', 'ls-a', 'ls-a-1', 'touch');
    expect(await caller.logs('listSegments', 'ls-a')).toEqual(['ls-a-1', 'ls-a-2']);
    const sessions = await caller.logs<string[]>('listSessions');
    expect(sessions.slice(0, 2)).toEqual(['ls-a', 'ls-b']);
    await caller.logs('append', 'ls-b', 'ls-b-1', 'touch');
    expect((await other.logs<string[]>('listSessions')).slice(0, 2)).toEqual(['ls-b', 'ls-a']);
    expect(await caller.logs('lookupSessionOf', 'ls-b-1')).toBe('ls-b');
    // An unknown segment answers undefined (null over the test's IPC), not NOT_FOUND.
    expect(await other.logs('lookupSessionOf', 'ls-unknown')).toBeNull();
    expect(await caller.logs('listSegments', 'nobody')).toEqual([]);
  });

  it('NOT_FOUND for an unknown segment, from the primary\'s write and from the local read', async () => {
    await other.logs('createSegment', 'nf', 'nf-seg', ['x']);
    const fromWrite = await failure(caller.logs('append', 'nf', 'unknown', 1));
    expect(fromWrite).toMatchObject({ name: 'SegmentLogError', code: 'NOT_FOUND', sessionId: 'nf', segmentId: 'unknown' });
    expect(fromWrite.cause).toMatchObject({ name: 'WriteError', code: 'NOT_FOUND', method: 'AppendSegmentEntry', field: 'params.segment_id' });
    for (const [op, ...args] of [
      ['truncate', 'nf', 'unknown', 0],
      ['appendTrace', 'nf', 'unknown', 'x'],
      ['append', 'other-session', 'nf-seg', 1],
      ['readAll', 'nf', 'unknown'],
      ['readAll', 'other-session', 'nf-seg'],
      ['readEntryCount', 'nf', 'unknown'],
      ['readTraces', 'nf', 'unknown'],
    ] as Array<[string, ...unknown[]]>) {
      expect(await failure(caller.logs(op, ...args)), op).toMatchObject({ name: 'SegmentLogError', code: 'NOT_FOUND' });
    }
    expect(await caller.logs('readAll', 'nf', 'nf-seg')).toEqual(['x']);
  });

  it('ALREADY_EXISTS, COUNT_MISMATCH and INVALID_LENGTH come back from the primary with their codes', async () => {
    await other.logs('createSegment', 'ex', 'ex-seg', ['a', 'b']);
    expect(await failure(caller.logs('createSegment', 'another', 'ex-seg', []))).toMatchObject({
      code: 'ALREADY_EXISTS',
      cause: { code: 'CONFLICT', method: 'CreateSegment' },
    });
    // The other writer extends the log after this one read the count.
    const seen = await caller.logs<number>('readEntryCount', 'ex', 'ex-seg');
    await other.logs('append', 'ex', 'ex-seg', 'c');
    expect(await caller.logs('readEntryCount', 'ex', 'ex-seg')).toBe(seen + 1);
    expect(await failure(caller.logs('append', 'ex', 'ex-seg', 'mine', { expectedCount: seen }))).toMatchObject({
      code: 'COUNT_MISMATCH',
      cause: { code: 'CONFLICT', field: 'params.expected_count' },
    });
    expect(await failure(caller.logs('truncate', 'ex', 'ex-seg', 4))).toMatchObject({
      code: 'INVALID_LENGTH',
      segmentId: 'ex-seg',
      cause: { code: 'INVALID_PARAMS', method: 'TruncateSegment', field: 'params.length' },
    });
    expect(await failure(caller.logs('truncate', 'ex', 'ex-seg', -1))).toMatchObject({ code: 'INVALID_LENGTH' });
    expect(await other.logs('readAll', 'ex', 'ex-seg')).toEqual(['a', 'b', 'c']);
    // With replace, the owning session's segment is rewritten through the primary; the other process reads the new log.
    expect(await caller.logs('createSegment', 'ex', 'ex-seg', ['z'], { replace: true })).toEqual({ session_id: 'ex', segment_id: 'ex-seg', entry_count: 1 });
    expect(await other.logs('readAll', 'ex', 'ex-seg')).toEqual(['z']);
  });

  it('INVALID_NAME and INVALID_ENTRY are refused before sending', async () => {
    for (const [op, ...args] of [
      ['append', '', 'seg', 1],
      ['createSegment', 'a/b', 'seg', []],
      ['readAll', 's', 'with space'],
      ['exists', 's', '.dot'],
      ['listSegments', 'tab\there'],
      ['lookupSessionOf', ''],
      ['truncate', 's', '', 0],
      ['appendTrace', 's', '-x', 1],
      ['readEntryCount', 's', 'x'.repeat(201)],
    ] as Array<[string, ...unknown[]]>) {
      const e = await failure(caller.logs(op, ...args));
      expect(e, op).toMatchObject({ name: 'SegmentLogError', code: 'INVALID_NAME' });
      expect(e.cause, op).toBeUndefined();
    }
    await caller.logs('createSegment', 'ie', 'ie-seg');
    for (const bad of [{ $undefined: true }, { $bigint: '10' }]) {
      expect(await failure(caller.logs('append', 'ie', 'ie-seg', bad))).toMatchObject({ name: 'SegmentLogError', code: 'INVALID_ENTRY' });
    }
    expect(await failure(caller.logs('createSegment', 'ie', 'ie-2', ['ok', { $undefined: true }]))).toMatchObject({ code: 'INVALID_ENTRY' });
    expect(await other.logs('readEntryCount', 'ie', 'ie-seg')).toBe(0);
  });

  it('CORRUPT with the position of an entry that does not decode (a bad row written through the raw-SQL Exec write)', async () => {
    await caller.logs('createSegment', 'co', 'co-seg', ['a', 'b', 'c']);
    await other.send('exec', { sql: "UPDATE _segment_entries SET entry = '{not json' WHERE segment_id = 'co-seg' AND position = 1" });
    const e = await failure(caller.logs('readAll', 'co', 'co-seg'));
    expect(e).toMatchObject({ name: 'SegmentLogError', code: 'CORRUPT', position: 1, sessionId: 'co', segmentId: 'co-seg' });
    expect(e.cause).toMatchObject({ name: 'SyntaxError' });
    expect(await caller.logs('readEntryCount', 'co', 'co-seg')).toBe(3);
  });
});

describe('concurrent appends from two secondaries', () => {
  const c = cluster();

  it('keep per-segment order by arrival at the primary and lose nothing', async () => {
    const p = await c.spawn('p');
    const a = await c.spawn('a');
    const b = await c.spawn('b');
    await p.logs('createSegment', 'conc', 'shared', []);
    await a.logs('createSegment', 'conc', 'only-a', []);
    await b.logs('createSegment', 'conc', 'only-b', []);
    const count = 250;
    interface Series {
      acked: Array<{ i: number; position: number }>;
      failed: unknown[];
    }
    const [ra, rb, ra2, rb2] = await Promise.all([
      a.send<Series>('appendSeries', { sessionId: 'conc', segmentId: 'shared', source: 'a', count, concurrency: 8 }),
      b.send<Series>('appendSeries', { sessionId: 'conc', segmentId: 'shared', source: 'b', count, concurrency: 8 }),
      a.send<Series>('appendSeries', { sessionId: 'conc', segmentId: 'only-a', source: 'a', count: 100, concurrency: 1 }),
      b.send<Series>('appendSeries', { sessionId: 'conc', segmentId: 'only-b', source: 'b', count: 100, concurrency: 1 }),
    ]);
    for (const r of [ra, rb, ra2, rb2]) expect(r.failed).toEqual([]);
    expect(ra.acked).toHaveLength(count);
    expect(rb.acked).toHaveLength(count);

    for (const reader of [p, a, b]) {
      const log = await reader.logs<Array<{ source: string; i: number }>>('readAll', 'conc', 'shared');
      expect(log).toHaveLength(2 * count);
      expect(await reader.logs('readEntryCount', 'conc', 'shared')).toBe(2 * count);
      // Nothing lost, nothing twice.
      expect(new Set(log.map((e) => `${e.source}-${e.i}`)).size).toBe(2 * count);
      // Each writer's entries are in the order it sent them, and both interleave.
      for (const source of ['a', 'b']) {
        const mine = log.filter((e) => e.source === source).map((e) => e.i);
        expect(mine).toEqual(Array.from({ length: count }, (_, i) => i));
      }
      // Every append landed at the position it was told.
      for (const [source, r] of [['a', ra], ['b', rb]] as const) {
        for (const { i, position } of r.acked) expect(log[position]).toEqual({ source, i });
      }
      expect(await reader.logs('readAll', 'conc', 'only-a')).toEqual(Array.from({ length: 100 }, (_, i) => ({ source: 'a', i })));
      expect(await reader.logs('readAll', 'conc', 'only-b')).toEqual(Array.from({ length: 100 }, (_, i) => ({ source: 'b', i })));
    }
  });
});
