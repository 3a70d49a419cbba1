import { z } from 'zod';
import { WriteError } from '@scribe/protocol';
import { defineWrite, forUpdate, type WriteContext, type WriteDefinition, type WriteRegistry } from '@scribe/store';
import { taggedMessage, type SegmentErrorCode } from './segment-errors.js';
import { SEGMENT_NAME } from './segment-names.js';

/** The names of the writes this package registers, by what they do. */
export const SEGMENT_WRITE_NAMES = Object.freeze({
  create: 'CreateSegment',
  append: 'AppendSegmentEntry',
  truncate: 'TruncateSegment',
  trace: 'AppendSegmentTrace',
} as const);

/** What {@link CreateSegment} returns. */
export interface CreateSegmentResult {
  session_id: string;
  segment_id: string;
  entry_count: number;
}

/** What {@link AppendSegmentEntry} returns. */
export interface AppendSegmentResult {
  /** Where the entry went (0-based): the count of entries when the primary ran the write. */
  position: number;
  /** The count after it. */
  entry_count: number;
}

/** What {@link TruncateSegment} returns. */
export interface TruncateSegmentResult {
  entry_count: number;
  /** Entries removed. */
  removed: number;
}

/** Most entries one CreateSegment carries (the wire's 1 MiB bound usually comes first). */
export const MAX_ENTRIES_PER_WRITE = 10_000;

function isJsonText(v: string): boolean {
  try {
    JSON.parse(v);
    return true;
  } catch {
    return false;
  }
}

const name = z.string().regex(SEGMENT_NAME, { message: 'a name of 1–200 letters, digits, _ . : - (not starting with . : -)' });
const jsonText = z.string().refine(isJsonText, { message: 'JSON text' });
const ids = { session_id: name, segment_id: name };

function fail(method: string, code: SegmentErrorCode, errorCode: WriteError['code'], text: string, field?: string): never {
  throw new WriteError(errorCode, taggedMessage(method, code, text), { method, ...(field === undefined ? {} : { field }) });
}

function notFound(method: string, sessionId: string, segmentId: string): never {
  fail(method, 'NOT_FOUND', 'NOT_FOUND', `session ${JSON.stringify(sessionId)} has no segment ${JSON.stringify(segmentId)}`, 'params.segment_id');
}

/**
 * The segment's entry count, or NOT_FOUND when the session has no segment of that id.
 * The row stays locked to this write (see {@link forUpdate}): the count it returns is
 * the one the write changes, whatever other processes append meanwhile.
 */
async function entryCount(ctx: WriteContext, method: string, sessionId: string, segmentId: string): Promise<number> {
  const row = await ctx.tx.get<{ session_id: string; entry_count: number }>(
    `SELECT session_id, entry_count FROM _segments WHERE segment_id = ?${forUpdate(ctx.tx)}`,
    [segmentId],
  );
  if (row === undefined || row.session_id !== sessionId) notFound(method, sessionId, segmentId);
  return row.entry_count;
}

async function touch(ctx: WriteContext, segmentId: string, count: number): Promise<void> {
  await ctx.tx.run('UPDATE _segments SET entry_count = ?, updated_at = ?, touched = (SELECT MAX(touched) + 1 FROM _segments) WHERE segment_id = ?', [
    count,
    ctx.now,
    segmentId,
  ]);
  ctx.change('segments', segmentId, 'updated');
}

/** `CreateSegment`: a new segment of a session, with its first entries (possibly none). */
export const CreateSegment = defineWrite({
  name: SEGMENT_WRITE_NAMES.create,
  description:
    'Creates a segment of a session with initial entries (JSON texts, positions 0…n−1). Segment ids are unique across sessions: CONFLICT when it exists, unless replace is true and the segment is of the same session: then its entries are rewritten to exactly these (traces stay). Returns {session_id, segment_id, entry_count}.',
  schema: z.strictObject({ ...ids, entries: z.array(jsonText).max(MAX_ENTRIES_PER_WRITE), replace: z.boolean().optional() }),
  async handler(ctx, p): Promise<CreateSegmentResult> {
    const method = SEGMENT_WRITE_NAMES.create;
    const existing = await ctx.tx.get<{ session_id: string }>(`SELECT session_id FROM _segments WHERE segment_id = ?${forUpdate(ctx.tx)}`, [p.segment_id]);
    if (existing !== undefined && (p.replace !== true || existing.session_id !== p.session_id)) {
      const why = p.replace === true ? ' and belongs to another session, so replace cannot rewrite it' : '';
      fail(method, 'ALREADY_EXISTS', 'CONFLICT', `segment ${JSON.stringify(p.segment_id)} exists already (in session ${JSON.stringify(existing.session_id)})${why}`, 'params.segment_id');
    }
    const insert = 'INSERT INTO _segment_entries (segment_id, position, entry, appended_at) VALUES (?, ?, ?, ?)';
    if (existing !== undefined) {
      // Rewrite in place: the same write deletes the old entries and stores the new ones, so no reader sees a mix.
      await ctx.tx.run('DELETE FROM _segment_entries WHERE segment_id = ?', [p.segment_id]);
      for (const [i, e] of p.entries.entries()) await ctx.tx.run(insert, [p.segment_id, i, e, ctx.now]);
      await touch(ctx, p.segment_id, p.entries.length);
      return { session_id: p.session_id, segment_id: p.segment_id, entry_count: p.entries.length };
    }
    await ctx.tx.run(
      `INSERT INTO _segments (segment_id, session_id, entry_count, touched, created_at, updated_at)
       VALUES (?, ?, ?, (SELECT COALESCE(MAX(touched), 0) + 1 FROM _segments), ?, ?)`,
      [p.segment_id, p.session_id, p.entries.length, ctx.now, ctx.now],
    );
    for (const [i, e] of p.entries.entries()) await ctx.tx.run(insert, [p.segment_id, i, e, ctx.now]);
    ctx.change('segments', p.segment_id, 'created');
    return { session_id: p.session_id, segment_id: p.segment_id, entry_count: p.entries.length };
  },
});

/**
 * `AppendSegmentEntry`: the entry goes at position = the count when the primary runs
 * the write, so appends from many processes are ordered by arrival and none is lost.
 * With `expected_count`, only when the count is that (an optimistic writer's check).
 */
export const AppendSegmentEntry = defineWrite({
  name: SEGMENT_WRITE_NAMES.append,
  description:
    'Appends one entry (JSON text) at position = entry count at execution. With expected_count, CONFLICT unless the count is that. NOT_FOUND for an unknown segment. Returns {position, entry_count}.',
  schema: z.strictObject({ ...ids, entry: jsonText, expected_count: z.number().int().min(0).optional() }),
  async handler(ctx, p): Promise<AppendSegmentResult> {
    const method = SEGMENT_WRITE_NAMES.append;
    // One atomic statement takes the position: the count goes up by one and the row stays
    // locked to this write, so appenders in several processes get distinct positions with
    // no gap (a failed check below rolls the count back with the write's savepoint).
    const row = await ctx.tx.get<{ entry_count: number }>(
      `UPDATE _segments SET entry_count = entry_count + 1, updated_at = ?, touched = (SELECT MAX(touched) + 1 FROM _segments)
       WHERE segment_id = ? AND session_id = ? RETURNING entry_count`,
      [ctx.now, p.segment_id, p.session_id],
    );
    if (row === undefined) notFound(method, p.session_id, p.segment_id);
    const count = row.entry_count - 1;
    if (p.expected_count !== undefined && p.expected_count !== count) {
      fail(method, 'COUNT_MISMATCH', 'CONFLICT', `segment ${JSON.stringify(p.segment_id)} has ${count} entries, expected ${p.expected_count}`, 'params.expected_count');
    }
    await ctx.tx.run('INSERT INTO _segment_entries (segment_id, position, entry, appended_at) VALUES (?, ?, ?, ?)', [p.segment_id, count, p.entry, ctx.now]);
    ctx.change('segments', p.segment_id, 'updated');
    return { position: count, entry_count: count + 1 };
  },
});

/** `TruncateSegment`: keeps the first `length` entries. */
export const TruncateSegment = defineWrite({
  name: SEGMENT_WRITE_NAMES.truncate,
  description:
    'Keeps the first `length` entries of a segment, deleting the rest (traces stay). INVALID_PARAMS (field params.length) when length exceeds the count; NOT_FOUND for an unknown segment. Returns {entry_count, removed}.',
  schema: z.strictObject({ ...ids, length: z.number().int().min(0) }),
  async handler(ctx, p): Promise<TruncateSegmentResult> {
    const method = SEGMENT_WRITE_NAMES.truncate;
    const count = await entryCount(ctx, method, p.session_id, p.segment_id);
    if (p.length > count) {
      fail(method, 'INVALID_LENGTH', 'INVALID_PARAMS', `cannot truncate segment ${JSON.stringify(p.segment_id)} to ${p.length} entries: it has ${count}`, 'params.length');
    }
    const removed = (await ctx.tx.run('DELETE FROM _segment_entries WHERE segment_id = ? AND position >= ?', [p.segment_id, p.length])).changes;
    await touch(ctx, p.segment_id, p.length);
    return { entry_count: p.length, removed };
  },
});

/** `AppendSegmentTrace`: a debug trace entry, kept apart from the log. */
export const AppendSegmentTrace = defineWrite({
  name: SEGMENT_WRITE_NAMES.trace,
  description:
    "Records a debug trace entry (JSON text) for a segment, apart from its log: it changes neither the entry count nor the segment's recency. NOT_FOUND for an unknown segment. Returns {id}.",
  schema: z.strictObject({ ...ids, entry: jsonText }),
  async handler(ctx, p): Promise<{ id: number }> {
    await entryCount(ctx, SEGMENT_WRITE_NAMES.trace, p.session_id, p.segment_id);
    // RETURNING (both engines) in place of the connection's last insert rowid.
    const row = await ctx.tx.get<{ id: number }>(
      'INSERT INTO _segment_traces (session_id, segment_id, entry, recorded_at) VALUES (?, ?, ?, ?) RETURNING id',
      [p.session_id, p.segment_id, p.entry, ctx.now],
    );
    return { id: Number(row!.id) };
  },
});

/** Every write of this package, in registration order. */
export const SEGMENT_WRITES: readonly WriteDefinition<any, any>[] = Object.freeze([
  CreateSegment,
  AppendSegmentEntry,
  TruncateSegment,
  AppendSegmentTrace,
]);

/** Registers the segment-log writes in `registry` (a TypeError if one is registered already). Returns it. */
export function registerSegmentWrites(registry: WriteRegistry): WriteRegistry {
  for (const w of SEGMENT_WRITES) registry.register(w);
  return registry;
}
