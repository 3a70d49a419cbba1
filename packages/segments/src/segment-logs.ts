import type { Querier, WriteOptions } from '@scribe/store';
import { SegmentLogError, argumentError, toSegmentLogError } from './segment-errors.js';
import { SEGMENT_NAME, isSegmentName } from './segment-names.js';
import {
  MAX_ENTRIES_PER_WRITE,
  SEGMENT_WRITE_NAMES,
  type AppendSegmentResult,
  type CreateSegmentResult,
  type TruncateSegmentResult,
} from './segment-writes.js';

/** Per-call options of {@link SegmentLogs.append}. */
export interface AppendOptions extends WriteOptions {
  /**
   * Append only if the segment holds exactly this many entries (else COUNT_MISMATCH):
   * a writer that read `readEntryCount()` detects that another writer extended the log.
   */
  expectedCount?: number;
}

/** Per-call options of {@link SegmentLogs.createSegment}. */
export interface CreateSegmentOptions extends WriteOptions {
  /**
   * Rewrite the segment when the session has it already (its entries become exactly
   * the given ones; traces stay). Default false: an existing id is ALREADY_EXISTS.
   */
  replace?: boolean;
}

/** One debug trace entry. */
export interface SegmentTrace<T = unknown> {
  id: number;
  entry: T;
  /** RFC 3339, the primary's time of the trace write. */
  recordedAt: string;
}

interface Ids {
  sessionId: string;
  segmentId?: string;
}

function op(what: string, ids: Ids): string {
  return ids.segmentId === undefined ? `${what} ${JSON.stringify(ids.sessionId)}` : `${what} ${JSON.stringify(ids.sessionId)}/${JSON.stringify(ids.segmentId)}`;
}

function checkName(value: unknown, what: 'session id' | 'segment id', ids: Ids, operation: string): void {
  if (!isSegmentName(value)) {
    throw new SegmentLogError(
      'INVALID_NAME',
      `${operation}: expected a ${what} matching ${SEGMENT_NAME.source}, got ${JSON.stringify(value) ?? String(value)}`,
      { sessionId: ids.sessionId, ...(ids.segmentId === undefined ? {} : { segmentId: ids.segmentId }) },
    );
  }
}

function encode(entry: unknown, ids: Ids, operation: string, index?: number): string {
  let text: string | undefined;
  let cause: unknown;
  try {
    text = JSON.stringify(entry);
  } catch (e) {
    cause = e;
  }
  if (typeof text !== 'string') {
    const which = index === undefined ? 'the entry' : `entry ${index}`;
    throw new SegmentLogError('INVALID_ENTRY', `${operation}: ${which} cannot be written as JSON`, {
      sessionId: ids.sessionId,
      ...(ids.segmentId === undefined ? {} : { segmentId: ids.segmentId }),
      ...(cause === undefined ? {} : { cause }),
    });
  }
  return text;
}

/**
 * Append-only per-session logs over a {@link Querier}: writes go through
 * `querier.write` (ordered by arrival at the primary, wherever this process is),
 * reads through `querier.query` on the local read-only connection, so a read sees
 * every write this process was told had committed.
 *
 * A session is a name grouping segments; it exists while it has one. Segment ids are
 * unique across sessions. Entries are JSON values, positions count from 0.
 */
export class SegmentLogs {
  readonly #q: Querier;

  constructor(querier: Querier) {
    if (typeof querier?.write !== 'function' || typeof querier.query !== 'function') {
      throw argumentError('querier', 'a Querier (with write and query)', querier);
    }
    this.#q = querier;
  }

  /**
   * Creates a segment with initial entries (possibly none). ALREADY_EXISTS when the id
   * is taken, unless `replace: true`: then a segment of the same session is rewritten
   * to exactly `entries` in one write (its traces stay), as the reference's
   * `create_segment` does and its default `truncate` relies on. A segment of another
   * session is ALREADY_EXISTS even with `replace`.
   */
  async createSegment(sessionId: string, segmentId: string, entries: readonly unknown[] = [], options: CreateSegmentOptions = {}): Promise<CreateSegmentResult> {
    const ids = this.#check('createSegment', sessionId, segmentId);
    const o = op('createSegment', ids);
    if (!Array.isArray(entries)) throw argumentError('entries', 'an array', entries);
    if (entries.length > MAX_ENTRIES_PER_WRITE) throw argumentError('entries', `at most ${MAX_ENTRIES_PER_WRITE} entries`, entries);
    if (options === null || typeof options !== 'object') throw argumentError('options', '{ replace?, ...writeOptions }', options);
    const { replace, ...writeOptions } = options;
    if (replace !== undefined && typeof replace !== 'boolean') throw argumentError('replace', 'a boolean', replace);
    const texts = entries.map((e, i) => encode(e, ids, o, i));
    const params: Record<string, unknown> = { session_id: sessionId, segment_id: segmentId, entries: texts };
    if (replace === true) params.replace = true;
    return this.#write<CreateSegmentResult>(SEGMENT_WRITE_NAMES.create, params, ids, o, writeOptions);
  }

  /** Appends one entry; resolves with its position. NOT_FOUND for an unknown segment; COUNT_MISMATCH with a stale `expectedCount`. */
  async append(sessionId: string, segmentId: string, entry: unknown, options: AppendOptions = {}): Promise<AppendSegmentResult> {
    const ids = this.#check('append', sessionId, segmentId);
    const o = op('append', ids);
    const { expectedCount, ...writeOptions } = options;
    const params: Record<string, unknown> = { session_id: sessionId, segment_id: segmentId, entry: encode(entry, ids, o) };
    if (expectedCount !== undefined) {
      if (!Number.isInteger(expectedCount) || expectedCount < 0) throw argumentError('expectedCount', 'an integer from 0 and up', expectedCount);
      params.expected_count = expectedCount;
    }
    return this.#write<AppendSegmentResult>(SEGMENT_WRITE_NAMES.append, params, ids, o, writeOptions);
  }

  /** Keeps the first `length` entries. INVALID_LENGTH when `length` exceeds the count (or is not an integer ≥ 0). */
  async truncate(sessionId: string, segmentId: string, length: number, options?: WriteOptions): Promise<TruncateSegmentResult> {
    const ids = this.#check('truncate', sessionId, segmentId);
    const o = op('truncate', ids);
    if (!Number.isInteger(length) || length < 0) {
      throw new SegmentLogError('INVALID_LENGTH', `${o}: expected a length that is an integer from 0 and up, got ${String(length)}`, ids);
    }
    return this.#write<TruncateSegmentResult>(SEGMENT_WRITE_NAMES.truncate, { session_id: sessionId, segment_id: segmentId, length }, ids, o, options);
  }

  /** Records a debug trace entry for a segment, apart from its log (no position, no effect on the count). */
  async appendTrace(sessionId: string, segmentId: string, entry: unknown, options?: WriteOptions): Promise<{ id: number }> {
    const ids = this.#check('appendTrace', sessionId, segmentId);
    const o = op('appendTrace', ids);
    return this.#write<{ id: number }>(SEGMENT_WRITE_NAMES.trace, { session_id: sessionId, segment_id: segmentId, entry: encode(entry, ids, o) }, ids, o, options);
  }

  /**
   * Every entry of a segment in position order, from one consistent read. NOT_FOUND
   * for an unknown segment; CORRUPT (with `position`) for an entry that is not JSON or
   * a missing position.
   */
  async readAll<T = unknown>(sessionId: string, segmentId: string): Promise<T[]> {
    const ids = this.#check('readAll', sessionId, segmentId);
    const o = op('readAll', ids);
    // One statement: the count and the entries come from the same snapshot.
    const rows = await this.#q.query<{ entry_count: number; position: number | null; entry: string | null }>(
      `SELECT s.entry_count, e.position, e.entry FROM _segments s
       LEFT JOIN _segment_entries e ON e.segment_id = s.segment_id
       WHERE s.segment_id = ? AND s.session_id = ? ORDER BY e.position`,
      [segmentId, sessionId],
    );
    if (rows.length === 0) throw this.#notFound(ids, o);
    const out: T[] = [];
    for (const row of rows) {
      if (row.position === null) break; // the LEFT JOIN's one row of an empty segment
      if (row.position !== out.length) {
        throw new SegmentLogError('CORRUPT', `${o}: no entry at position ${out.length}`, { ...ids, position: out.length });
      }
      try {
        out.push(JSON.parse(row.entry ?? '') as T);
      } catch (e) {
        throw new SegmentLogError('CORRUPT', `${o}: the entry at position ${row.position} is not JSON`, { ...ids, position: row.position, cause: e });
      }
    }
    if (out.length !== rows[0]!.entry_count) {
      throw new SegmentLogError('CORRUPT', `${o}: the segment records ${rows[0]!.entry_count} entries but holds ${out.length}`, { ...ids, position: out.length });
    }
    return out;
  }

  /** The number of entries of a segment (NOT_FOUND when unknown). Compare it later to see whether another writer extended the log. */
  async readEntryCount(sessionId: string, segmentId: string): Promise<number> {
    const ids = this.#check('readEntryCount', sessionId, segmentId);
    const [row] = await this.#q.query<{ entry_count: number }>('SELECT entry_count FROM _segments WHERE segment_id = ? AND session_id = ?', [segmentId, sessionId]);
    if (row === undefined) throw this.#notFound(ids, op('readEntryCount', ids));
    return row.entry_count;
  }

  /** True when the session has a segment of this id. */
  async exists(sessionId: string, segmentId: string): Promise<boolean> {
    this.#check('exists', sessionId, segmentId);
    const rows = await this.#q.query('SELECT 1 FROM _segments WHERE segment_id = ? AND session_id = ?', [segmentId, sessionId]);
    return rows.length > 0;
  }

  /** Every session with at least one segment, the most recently written first. */
  async listSessions(): Promise<string[]> {
    const rows = await this.#q.query<{ session_id: string }>(
      'SELECT session_id FROM _segments GROUP BY session_id ORDER BY MAX(touched) DESC',
    );
    return rows.map((r) => r.session_id);
  }

  /** The segments of a session, the most recently written first (empty for an unknown session). */
  async listSegments(sessionId: string): Promise<string[]> {
    this.#checkSession('listSegments', sessionId);
    const rows = await this.#q.query<{ segment_id: string }>('SELECT segment_id FROM _segments WHERE session_id = ? ORDER BY touched DESC', [sessionId]);
    return rows.map((r) => r.segment_id);
  }

  /**
   * The session a segment belongs to, or `undefined` when no session has it (the
   * reference's `None`: an unknown segment is an answer here, not an error).
   */
  async lookupSessionOf(segmentId: string): Promise<string | undefined> {
    const o = `lookupSessionOf ${JSON.stringify(segmentId)}`;
    checkName(segmentId, 'segment id', { sessionId: '', segmentId }, o);
    const [row] = await this.#q.query<{ session_id: string }>('SELECT session_id FROM _segments WHERE segment_id = ?', [segmentId]);
    return row?.session_id;
  }

  /** The debug traces of a segment, oldest first (NOT_FOUND for an unknown segment). */
  async readTraces<T = unknown>(sessionId: string, segmentId: string): Promise<SegmentTrace<T>[]> {
    const ids = this.#check('readTraces', sessionId, segmentId);
    const o = op('readTraces', ids);
    if (!(await this.exists(sessionId, segmentId))) throw this.#notFound(ids, o);
    const rows = await this.#q.query<{ id: number; entry: string; recorded_at: string }>(
      'SELECT id, entry, recorded_at FROM _segment_traces WHERE segment_id = ? AND session_id = ? ORDER BY id',
      [segmentId, sessionId],
    );
    return rows.map((r) => {
      try {
        return { id: r.id, entry: JSON.parse(r.entry) as T, recordedAt: r.recorded_at };
      } catch (e) {
        throw new SegmentLogError('CORRUPT', `${o}: trace ${r.id} is not JSON`, { ...ids, cause: e });
      }
    });
  }

  /** Checks both names; returns them for errors. */
  #check(what: string, sessionId: string, segmentId: string): Ids {
    const ids: Ids = { sessionId: String(sessionId), segmentId: String(segmentId) };
    const o = op(what, ids);
    checkName(sessionId, 'session id', ids, o);
    checkName(segmentId, 'segment id', ids, o);
    return ids;
  }

  /** Checks a session id alone. */
  #checkSession(what: string, sessionId: string): void {
    const ids: Ids = { sessionId: String(sessionId) };
    checkName(sessionId, 'session id', ids, op(what, ids));
  }

  #notFound(ids: Ids, operation: string): SegmentLogError {
    return new SegmentLogError('NOT_FOUND', `${operation}: session ${JSON.stringify(ids.sessionId)} has no segment ${JSON.stringify(ids.segmentId)}`, ids);
  }

  async #write<R>(method: string, params: unknown, ids: Ids, operation: string, options?: WriteOptions): Promise<R> {
    try {
      return await this.#q.write<R>(method, params, options);
    } catch (e) {
      throw toSegmentLogError(e, ids, operation);
    }
  }
}
