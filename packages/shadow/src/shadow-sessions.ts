import type { Querier, WriteOptions } from '@scribe/store';
import { ShadowSessionError, argumentError, toShadowSessionError } from './shadow-errors.js';
import { SESSIONS_TABLE, isPlainIdentifier, tableNameProblem } from './identifiers.js';
import { nullSafeWhere } from './null-safe-where.js';
import {
  SHADOW_WRITE_NAMES,
  type CloseShadowSessionResult,
  type OpenShadowSessionResult,
  type ShadowRow,
  type ShadowSessionRecord,
} from './shadow-writes.js';

/** How many close writes a reap keeps in flight (they share the primary's group commits). */
export const DEFAULT_REAP_CONCURRENCY = 16;

/** Options of {@link ShadowSessions.open}. */
export interface OpenShadowOptions {
  /** The table the session's rows live in; it must have a `session_id` column. */
  shadowTable: string;
  /** A table whose rows are copied into the shadow table, tagged with the session id, at open. */
  seedFromTable?: string;
  /**
   * Called with the error when this session's own close fails (`session.close()` or
   * `shadows.close(id)`), never when it succeeds and never for a reap-initiated
   * cleanup: a reap reports its failures in its {@link ReapResult} instead, so the
   * callback means only "one session's close went wrong" (the seed's contract). A
   * throw from it is ignored.
   */
  onClose?: (error: ShadowSessionError) => void;
}

/** Options of {@link ShadowSessions}. */
export interface ShadowSessionsOptions {
  /** Milliseconds since the epoch, for reap's cutoff. Default `Date.now`. */
  clock?: () => number;
  /** Close writes a reap keeps in flight. Default {@link DEFAULT_REAP_CONCURRENCY}. */
  reapConcurrency?: number;
}

/** What {@link ShadowSessions.reap} did. */
export interface ReapResult {
  /** Ids of the sessions this reap closed, in the order they were opened. */
  swept: string[];
  /** One per session that could not be closed, in the order they were opened; each names its session (`sessionId`). */
  errors: ShadowSessionError[];
}

/** Options of row reads. */
export interface ShadowReadOptions {
  /** A column to order by (ascending); default the table's rowid order. */
  orderBy?: string;
  /** At most this many rows. */
  limit?: number;
}

function checkSessionId(id: unknown, operation: string): string {
  if (typeof id !== 'string' || id.length === 0) {
    throw new ShadowSessionError('EMPTY_SESSION_ID', `${operation}: expected a non-empty session id, got ${JSON.stringify(id) ?? String(id)}`, {
      sessionId: typeof id === 'string' ? id : '',
    });
  }
  return id;
}

function checkTable(name: unknown, option: string, sessionId: string, operation: string): string {
  const problem = tableNameProblem(name);
  if (problem !== undefined) {
    throw new ShadowSessionError('INVALID_IDENTIFIER', `${operation}: ${option} ${JSON.stringify(name) ?? String(name)} ${problem}`, { sessionId });
  }
  return name as string;
}

function checkColumns(row: ShadowRow | undefined, what: string, sessionId: string, operation: string): void {
  if (row === undefined) return;
  if (row === null || typeof row !== 'object' || Array.isArray(row)) throw argumentError(what, 'an object of column → value', row);
  for (const key of Object.keys(row)) {
    if (!isPlainIdentifier(key)) {
      throw new ShadowSessionError('INVALID_IDENTIFIER', `${operation}: column ${JSON.stringify(key)} in ${what} is not a plain identifier`, { sessionId });
    }
  }
}

/**
 * Shadow sessions over a {@link Querier}: writes go through `querier.write` (the
 * primary's coordinator, wherever this process is), reads through `querier.query`
 * (the local read-only connection). Works unchanged on a primary or a secondary.
 *
 * The set of open sessions is the `_shadow_sessions` table, not this object: any
 * process can list, close or reap any session.
 */
export class ShadowSessions {
  readonly #q: Querier;
  readonly #clock: () => number;
  readonly #reapConcurrency: number;
  /** onClose callbacks of the sessions this object opened, by session id and open id. */
  readonly #onClose = new Map<string, { openId: string; onClose: (error: ShadowSessionError) => void }>();

  constructor(querier: Querier, options: ShadowSessionsOptions = {}) {
    if (typeof querier?.write !== 'function' || typeof querier.query !== 'function') {
      throw argumentError('querier', 'a Querier (with write and query)', querier);
    }
    if (options.clock !== undefined && typeof options.clock !== 'function') throw argumentError('clock', 'a function', options.clock);
    const c = options.reapConcurrency ?? DEFAULT_REAP_CONCURRENCY;
    if (!Number.isInteger(c) || c < 1) throw argumentError('reapConcurrency', 'an integer from 1 and up', c);
    this.#q = querier;
    this.#clock = options.clock ?? Date.now;
    this.#reapConcurrency = c;
  }

  /**
   * Opens a session: checks the names here, then the primary checks the tables, seeds
   * and registers in one write. Throws {@link ShadowSessionError} (EMPTY_SESSION_ID,
   * INVALID_IDENTIFIER, DUPLICATE_SESSION, TABLE_NOT_FOUND, MISSING_SESSION_ID_COLUMN,
   * SEED_MISMATCH); transient cluster failures stay WriteErrors.
   */
  async open(sessionId: string, options: OpenShadowOptions, writeOptions?: WriteOptions): Promise<ShadowSession> {
    const op = `open ${JSON.stringify(sessionId) ?? String(sessionId)}`;
    checkSessionId(sessionId, op);
    if (options === null || typeof options !== 'object') throw argumentError('options', '{ shadowTable, seedFromTable?, onClose? }', options);
    checkTable(options.shadowTable, 'shadowTable', sessionId, op);
    if (options.seedFromTable !== undefined) checkTable(options.seedFromTable, 'seedFromTable', sessionId, op);
    if (options.onClose !== undefined && typeof options.onClose !== 'function') throw argumentError('onClose', 'a function', options.onClose);
    const params: Record<string, string> = { session_id: sessionId, shadow_table: options.shadowTable };
    if (options.seedFromTable !== undefined) params.seed_from_table = options.seedFromTable;
    let rec: OpenShadowSessionResult;
    try {
      rec = await this.#q.write<OpenShadowSessionResult>(SHADOW_WRITE_NAMES.open, params, writeOptions);
    } catch (e) {
      throw toShadowSessionError(e, sessionId, op);
    }
    if (options.onClose !== undefined) this.#onClose.set(sessionId, { openId: rec.open_id, onClose: options.onClose });
    return new ShadowSession(this, this.#q, rec, rec.seeded);
  }

  /** The open session with this id (opened by any process), or undefined. */
  async get(sessionId: string): Promise<ShadowSession | undefined> {
    checkSessionId(sessionId, 'get');
    const [rec] = await this.#q.query<ShadowSessionRecord>(`SELECT * FROM ${SESSIONS_TABLE} WHERE session_id = ?`, [sessionId]);
    return rec === undefined ? undefined : new ShadowSession(this, this.#q, rec, 0);
  }

  /** Every open session, oldest first. */
  async list(): Promise<ShadowSessionRecord[]> {
    return this.#q.query<ShadowSessionRecord>(`SELECT * FROM ${SESSIONS_TABLE} ORDER BY opened_at, session_id`);
  }

  /**
   * Closes a session by id: deletes its rows and unregisters it. Resolves with
   * `closed: false` when it was not open. Throws CLOSE_FAILED (after calling the
   * session's `onClose`, when this object opened it).
   */
  async close(sessionId: string, writeOptions?: WriteOptions): Promise<CloseShadowSessionResult> {
    checkSessionId(sessionId, 'close');
    return this.#close(sessionId, undefined, writeOptions);
  }

  /**
   * Closes every session opened at or before now − `olderThanMs` (by the primary's
   * clock at open; 0 reaps all), one close write per session, and collects the
   * failures: one session's failure never stops the sweep. A session closed by
   * someone else meanwhile is neither swept nor an error. Schedule it on the primary
   * with the node's `maintenance` option.
   */
  async reap(olderThanMs: number): Promise<ReapResult> {
    if (typeof olderThanMs !== 'number' || !Number.isFinite(olderThanMs) || olderThanMs < 0) {
      throw argumentError('olderThanMs', 'a number of milliseconds from 0 and up', olderThanMs);
    }
    const cutoff = new Date(this.#clock() - olderThanMs).toISOString();
    const due = await this.#q.query<ShadowSessionRecord>(
      `SELECT session_id, open_id FROM ${SESSIONS_TABLE} WHERE opened_at <= ? ORDER BY opened_at, session_id`,
      [cutoff],
    );
    // Outcomes by index, so swept and errors come back in opening order whatever order the closes finish in.
    const outcomes: Array<{ swept: boolean } | { error: ShadowSessionError }> = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < due.length) {
        const i = next++;
        const rec = due[i]!;
        try {
          // A reap's failures go to its result, not to the session's onClose.
          outcomes[i] = { swept: (await this.#close(rec.session_id, rec.open_id, undefined, false)).closed };
        } catch (e) {
          outcomes[i] = {
            error:
              e instanceof ShadowSessionError
                ? e
                : new ShadowSessionError('CLOSE_FAILED', `reap ${JSON.stringify(rec.session_id)}: ${(e as Error)?.message ?? String(e)}`, {
                    sessionId: rec.session_id,
                    cause: e,
                  }),
          };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#reapConcurrency, due.length) }, worker));
    const result: ReapResult = { swept: [], errors: [] };
    for (const [i, o] of outcomes.entries()) {
      if ('error' in o) result.errors.push(o.error);
      else if (o.swept) result.swept.push(due[i]!.session_id);
    }
    return result;
  }

  /**
   * @internal The close path shared by close(), ShadowSession.close() and reap().
   * `notify` is false for a reap: its failures are reported in the ReapResult only.
   */
  async #close(sessionId: string, openId: string | undefined, writeOptions?: WriteOptions, notify = true): Promise<CloseShadowSessionResult> {
    const params: Record<string, string> = { session_id: sessionId };
    if (openId !== undefined) params.open_id = openId;
    const op = `close ${JSON.stringify(sessionId)}`;
    try {
      const r = await this.#q.write<CloseShadowSessionResult>(SHADOW_WRITE_NAMES.close, params, writeOptions);
      const mine = this.#onClose.get(sessionId);
      if (mine !== undefined && (openId === undefined || mine.openId === openId)) this.#onClose.delete(sessionId);
      return r;
    } catch (e) {
      const mapped = toShadowSessionError(e, sessionId, op);
      const error =
        mapped instanceof ShadowSessionError && mapped.code === 'CLOSE_FAILED'
          ? mapped
          : new ShadowSessionError('CLOSE_FAILED', `${op}: ${(e as Error)?.message ?? String(e)}`, { sessionId, cause: e });
      const mine = notify ? this.#onClose.get(sessionId) : undefined;
      if (mine !== undefined && (openId === undefined || mine.openId === openId)) {
        try {
          mine.onClose(error);
        } catch {
          // The hook is a notification; its failure must not replace the close error.
        }
      }
      throw error;
    }
  }

  /** @internal */
  closeSession(rec: ShadowSessionRecord, writeOptions?: WriteOptions): Promise<CloseShadowSessionResult> {
    return this.#close(rec.session_id, rec.open_id, writeOptions);
  }
}

/**
 * One open shadow session: every read and write is scoped to its session id (a
 * `session_id = ?` the caller cannot leave out or override).
 */
export class ShadowSession {
  readonly sessionId: string;
  readonly shadowTable: string;
  readonly openedAt: string;
  readonly openedBy: string;
  /** Rows copied from the seed table at open (0 when attached with `get`). */
  readonly seeded: number;
  readonly #owner: ShadowSessions;
  readonly #q: Querier;
  readonly #record: ShadowSessionRecord;
  #closing: Promise<CloseShadowSessionResult> | undefined;

  /** @internal use {@link ShadowSessions.open} or {@link ShadowSessions.get}. */
  constructor(owner: ShadowSessions, querier: Querier, record: ShadowSessionRecord, seeded: number) {
    this.#owner = owner;
    this.#q = querier;
    this.#record = Object.freeze({ ...record });
    this.sessionId = record.session_id;
    this.shadowTable = record.shadow_table;
    this.openedAt = record.opened_at;
    this.openedBy = record.opened_by;
    this.seeded = seeded;
  }

  /** Inserts one row or several (one write), `session_id` set for each. Returns how many. */
  async insert(rows: ShadowRow | readonly ShadowRow[], writeOptions?: WriteOptions): Promise<number> {
    const list = Array.isArray(rows) ? rows : [rows as ShadowRow];
    if (list.length === 0) return 0;
    for (const r of list) checkColumns(r, 'row', this.sessionId, this.#op('insert'));
    const r = await this.#write<{ inserted: number }>(SHADOW_WRITE_NAMES.insert, { session_id: this.sessionId, rows: list }, 'insert', writeOptions);
    return r.inserted;
  }

  /** Sets `set` on this session's rows matching `where` (column IS value); all of them without it. Returns how many changed. */
  async update(set: ShadowRow, where?: ShadowRow, writeOptions?: WriteOptions): Promise<number> {
    checkColumns(set, 'set', this.sessionId, this.#op('update'));
    checkColumns(where, 'where', this.sessionId, this.#op('update'));
    const params: Record<string, unknown> = { session_id: this.sessionId, set };
    if (where !== undefined) params.where = where;
    return (await this.#write<{ changed: number }>(SHADOW_WRITE_NAMES.update, params, 'update', writeOptions)).changed;
  }

  /** Deletes this session's rows matching `where`; all of them without it. The session stays open. */
  async delete(where?: ShadowRow, writeOptions?: WriteOptions): Promise<number> {
    checkColumns(where, 'where', this.sessionId, this.#op('delete'));
    const params: Record<string, unknown> = { session_id: this.sessionId };
    if (where !== undefined) params.where = where;
    return (await this.#write<{ deleted: number }>(SHADOW_WRITE_NAMES.delete, params, 'delete', writeOptions)).deleted;
  }

  /** This session's rows matching `where`, read locally; `session_id` included. */
  async rows<T = Record<string, unknown>>(where?: ShadowRow, options: ShadowReadOptions = {}): Promise<T[]> {
    const op = this.#op('rows');
    checkColumns(where, 'where', this.sessionId, op);
    if (options.orderBy !== undefined && !isPlainIdentifier(options.orderBy)) {
      throw new ShadowSessionError('INVALID_IDENTIFIER', `${op}: orderBy ${JSON.stringify(options.orderBy)} is not a plain identifier`, { sessionId: this.sessionId });
    }
    if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 0)) throw argumentError('limit', 'an integer from 0 and up', options.limit);
    const entries = Object.entries(where ?? {});
    const sql =
      `SELECT * FROM ${this.shadowTable} WHERE session_id = ?${nullSafeWhere(entries.map(([k]) => k))}` +
      (options.orderBy === undefined ? '' : ` ORDER BY ${options.orderBy}`) +
      (options.limit === undefined ? '' : ` LIMIT ${options.limit}`);
    return this.#read<T>(sql, [this.sessionId, ...entries.map(([, v]) => (v === true ? 1 : v === false ? 0 : v))], op);
  }

  /** How many rows this session has matching `where`, read locally. */
  async count(where?: ShadowRow): Promise<number> {
    const op = this.#op('count');
    checkColumns(where, 'where', this.sessionId, op);
    const entries = Object.entries(where ?? {});
    const [r] = await this.#read<{ n: number }>(
      `SELECT COUNT(*) AS n FROM ${this.shadowTable} WHERE session_id = ?${nullSafeWhere(entries.map(([k]) => k))}`,
      [this.sessionId, ...entries.map(([, v]) => (v === true ? 1 : v === false ? 0 : v))],
      op,
    );
    return r?.n ?? 0;
  }

  /** True while the session is registered as open (by anyone). */
  async isOpen(): Promise<boolean> {
    const r = await this.#q.query(`SELECT 1 FROM ${SESSIONS_TABLE} WHERE session_id = ? AND open_id = ?`, [this.sessionId, this.#record.open_id]);
    return r.length > 0;
  }

  /**
   * Deletes the session's rows and unregisters it. Safe to call twice (the second
   * call returns the first one's result); resolves with `closed: false` when a reap
   * got there first. On failure calls `onClose(error)`, rejects with CLOSE_FAILED,
   * and a later call tries again.
   */
  close(writeOptions?: WriteOptions): Promise<CloseShadowSessionResult> {
    if (this.#closing === undefined) {
      this.#closing = this.#owner.closeSession(this.#record, writeOptions);
      this.#closing.catch(() => {
        this.#closing = undefined;
      });
    }
    return this.#closing;
  }

  #op(what: string): string {
    return `${what} ${JSON.stringify(this.sessionId)}`;
  }

  async #write<R>(method: string, params: unknown, what: string, writeOptions?: WriteOptions): Promise<R> {
    try {
      return await this.#q.write<R>(method, params, writeOptions);
    } catch (e) {
      throw toShadowSessionError(e, this.sessionId, this.#op(what));
    }
  }

  async #read<T>(sql: string, params: unknown[], op: string): Promise<T[]> {
    try {
      return await this.#q.query<T>(sql, params);
    } catch (e) {
      // A table dropped or altered after the open: the driver's error, mapped by the store.
      throw new ShadowSessionError('INVALID_ROW', `${op}: the read failed: ${(e as Error)?.message ?? String(e)}`, { sessionId: this.sessionId, cause: e });
    }
  }
}
