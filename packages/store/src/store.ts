import Database from 'better-sqlite3';
import { pino, type Logger } from 'pino';
import { WriteError, requestIdReusedError, wireCauseOf, type ChangeEvent, type ChangeOp, type WriteMeta } from '@scribe/protocol';
import { BUILTIN_MIGRATIONS } from './builtin-migrations.js';
import { createDefaultRegistry } from './default-registry.js';
import { isStorageFault, mapDriverError } from './driver-errors.js';
import {
  APPLICATION_NAMESPACE,
  BUILTIN_NAMESPACE,
  appliedMigrations,
  applyMigrations,
  checkApplicationMigrations,
  checkNotNewer,
  migrationLabel,
  orderMigrations,
  versionsByNamespace,
  type AppliedMigration,
  type Migration,
  type MigrationId,
  type MigrationSet,
  type OrderedMigration,
} from './migrations.js';
import type { SqliteDatabase, SqliteStatement } from './sqlite-database.js';
import { SqliteReader } from './sqlite-reader.js';
import { StoreReads } from './store-reads.js';
import { rfc3339 } from './time.js';
import type { WriteContext, WriteRegistry } from './write-registry.js';

/** Default number of request records kept for idempotency. */
export const DEFAULT_REQUEST_RETENTION = 100_000;
/** Default number of change events kept in the change log. */
export const DEFAULT_CHANGE_RETENTION = 100_000;
/** Default busy timeout of the store's connection. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** SQLite `synchronous` levels. */
export type Synchronous = 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';

/** Everything {@link Store.open} takes. */
export interface StoreOptions {
  /** The database file. */
  path: string;
  /** Open read-only (secondaries). The file must exist; writes throw NOT_PRIMARY. */
  readonly?: boolean;
  /** Default FULL: an acknowledged write survives power loss. NORMAL survives a process crash only. */
  synchronous?: Synchronous;
  /** Default: {@link createDefaultRegistry}(). */
  registry?: WriteRegistry;
  /**
   * Plugins whose migrations this store applies, each in its own namespace (its name),
   * after the built-in ones and in this order. Only `name` and `migrations` are used
   * here: register the plugins' writes in `registry` (openNode does both).
   */
  plugins?: readonly MigrationSet[];
  /** Application migrations (versions 1000 and up, namespace `application`), applied after the plugins'. */
  migrations?: readonly Migration[];
  /** Apply pending migrations on open. Default true for read-write stores. */
  autoMigrate?: boolean;
  /** How long a statement waits for another connection's lock. Default {@link DEFAULT_BUSY_TIMEOUT_MS}. */
  busyTimeoutMs?: number;
  /** Request records kept (newest); older ones are pruned. Default {@link DEFAULT_REQUEST_RETENTION}. */
  requestRetention?: number;
  /** Change events kept (newest). Default {@link DEFAULT_CHANGE_RETENTION}. */
  changeRetention?: number;
  /** The time written to created_at, updated_at, committed_at and change events. Default: the system clock. */
  clock?: () => Date;
  /** Logs through a `{ component: 'store' }` child; nothing per write. Default: a silent pino logger. */
  logger?: Logger;
}

/** One write handed to {@link Store.executeBatch}. */
export interface BatchItem {
  meta: WriteMeta;
  method: string;
  params: unknown;
}

/** The outcome of one item; `duplicate` when its request id had already run. */
export type BatchItemOutcome =
  | { ok: true; result: unknown; duplicate: boolean }
  | { ok: false; error: WriteError; duplicate: boolean };

/** A change event with its place in the change log. */
export interface StoredChange extends ChangeEvent {
  seq: number;
}

/** What a batch did: one outcome per item, in order, and the change events committed. */
export interface BatchResult {
  outcomes: BatchItemOutcome[];
  changes: StoredChange[];
}

/** The idempotency record of a request id. */
export interface RequestRecord {
  request_id: string;
  source_instance_id: string;
  method: string;
  ok: boolean;
  /** The result, or `{code, message, field?}` of the error. */
  result: unknown;
  committed_at: string;
}

/** A connection whose `prepare` returns one cached statement per SQL text. */
class CachingDatabase implements SqliteDatabase {
  readonly #db: Database.Database;
  readonly #cache = new Map<string, Database.Statement>();
  constructor(db: Database.Database) {
    this.#db = db;
  }
  prepare(sql: string): SqliteStatement {
    let s = this.#cache.get(sql);
    if (s === undefined) {
      s = this.#db.prepare(sql);
      if (this.#cache.size < 1000) this.#cache.set(sql, s);
    }
    return s as unknown as SqliteStatement;
  }
  exec(sql: string): unknown {
    return this.#db.exec(sql);
  }
  get inTransaction(): boolean {
    return this.#db.inTransaction;
  }
}

/**
 * scribe's SQLite store: the schema, the write registry's executor and the reads.
 * A read-write store belongs to the primary (one per database); read-only stores
 * are for every node's reads.
 */
export class Store {
  /** The database file. */
  readonly path: string;
  /** True for a secondary's store: every write throws NOT_PRIMARY. */
  readonly readonly: boolean;
  /** The writes this store executes. */
  readonly registry: WriteRegistry;
  /** The typed reads (async, engine-neutral) on this store's connection. */
  readonly reads: StoreReads;
  readonly #db: Database.Database;
  readonly #handlerDb: CachingDatabase;
  readonly #migrations: OrderedMigration[];
  readonly #clock: () => Date;
  readonly #log: Logger;
  readonly #requestRetention: number;
  readonly #changeRetention: number;
  #closed = false;
  #sinceTrim = 0;

  private constructor(db: Database.Database, options: StoreOptions, migrations: OrderedMigration[]) {
    this.#db = db;
    this.#handlerDb = new CachingDatabase(db);
    this.path = options.path;
    this.readonly = options.readonly === true;
    this.registry = options.registry ?? createDefaultRegistry();
    this.reads = new StoreReads(new SqliteReader(db));
    this.#migrations = migrations;
    this.#clock = options.clock ?? (() => new Date());
    this.#log = (options.logger ?? pino({ level: 'silent' })).child({ component: 'store' });
    this.#requestRetention = options.requestRetention ?? DEFAULT_REQUEST_RETENTION;
    this.#changeRetention = options.changeRetention ?? DEFAULT_CHANGE_RETENTION;
  }

  /**
   * Opens (and for read-write, creates and migrates) the database. Read-write:
   * WAL, foreign keys on, `synchronous` as asked (FULL by default), busy timeout.
   * Read-only: the file must exist.
   */
  static open(options: StoreOptions): Store {
    if (typeof options.path !== 'string' || options.path.length === 0) {
      throw new TypeError(`Expected 'path' to be a database file path, got ${String(options.path)}`);
    }
    const sync = options.synchronous ?? 'FULL';
    if (!['OFF', 'NORMAL', 'FULL', 'EXTRA'].includes(sync)) {
      throw new TypeError(`Expected 'synchronous' to be one of OFF, NORMAL, FULL, EXTRA, got ${String(sync)}`);
    }
    for (const [name, v] of [
      ['requestRetention', options.requestRetention],
      ['changeRetention', options.changeRetention],
    ] as const) {
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
        throw new TypeError(`Expected '${name}' to be an integer from 1 and up, got ${String(v)}`);
      }
    }
    const busy = options.busyTimeoutMs;
    if (busy !== undefined && (!Number.isInteger(busy) || busy < 0)) {
      throw new TypeError(`Expected 'busyTimeoutMs' to be an integer from 0 and up, got ${String(busy)} (${typeof busy})`);
    }
    if (options.clock !== undefined && typeof options.clock !== 'function') {
      throw new TypeError(`Expected 'clock' to be a function returning a Date, got ${typeof options.clock}`);
    }
    checkApplicationMigrations(options.migrations ?? []);
    const migrations = orderMigrations([
      { name: BUILTIN_NAMESPACE, migrations: BUILTIN_MIGRATIONS },
      ...(options.plugins ?? []),
      ...(options.migrations === undefined || options.migrations.length === 0 ? [] : [{ name: APPLICATION_NAMESPACE, migrations: options.migrations }]),
    ]);
    let db: Database.Database;
    try {
      db = options.readonly
        ? new Database(options.path, { readonly: true, fileMustExist: true })
        : new Database(options.path);
    } catch (e) {
      throw new Error(`store: open ${options.path}${options.readonly ? ' read-only' : ''}`, { cause: e });
    }
    try {
      db.pragma(`busy_timeout = ${busy ?? DEFAULT_BUSY_TIMEOUT_MS}`);
      if (!options.readonly) {
        // SQLite silently opens a file it may not write (permissions, an immutable
        // attribute, a read-only mount) read-only; a primary on such a connection would
        // answer every write with an error forever. Refuse it here instead.
        assertFileWritable(db, options.path);
        db.pragma('journal_mode = WAL');
        db.pragma('foreign_keys = ON');
        db.pragma(`synchronous = ${sync}`);
      }
      const store = new Store(db, options, migrations);
      if (options.readonly || options.autoMigrate === false) {
        checkNotNewer(appliedMigrations(store.#handlerDb), migrations);
      } else {
        store.migrate();
        // The write counter that triggers pruning lives in memory: prune once per open too, so a
        // primary restarted often (fewer than ~1000 writes per run) still keeps within retention.
        store.#trim();
      }
      return store;
    } catch (e) {
      db.close();
      throw e;
    }
  }

  /** The highest built-in (`scribe` namespace) migration version recorded in the file (0 for a new file). */
  schemaVersion(): number {
    return this.schemaVersions().get(BUILTIN_NAMESPACE) ?? 0;
  }

  /** The highest version recorded in the file per namespace (`scribe`, each plugin's name, `application`). */
  schemaVersions(): Map<string, number> {
    return versionsByNamespace(appliedMigrations(this.#handlerDb));
  }

  /** Every migration recorded in the file, by namespace and version. */
  appliedMigrations(): AppliedMigration[] {
    return appliedMigrations(this.#handlerDb);
  }

  /** Applies pending migrations, each in its own transaction; a second run applies nothing. */
  migrate(): { applied: MigrationId[] } {
    this.#assertWritable('migrate');
    const applied = applyMigrations(this.#handlerDb, this.#migrations, () => rfc3339(this.#clock()));
    if (applied.length > 0) this.#log.info({ applied: applied.map(migrationLabel), path: this.path }, 'migrations applied');
    return { applied };
  }

  /**
   * Runs the items in one transaction, one SAVEPOINT each. An item whose request id
   * already has a record is answered from it and not executed. An item that fails
   * rolls back only its own savepoint. Every outcome except a retryable failure is
   * recorded with its request id in the same transaction, and change events are
   * appended to the change log. Throws a retryable WriteError, having applied
   * nothing, when the transaction cannot begin or commit. With `validated`, the
   * items' params are taken as the registry's parsed output (the coordinator
   * validates on submit) and not parsed again; an unknown write is still refused.
   */
  executeBatch(items: readonly BatchItem[], options: { validated?: boolean } = {}): BatchResult {
    this.#assertWritable(null);
    const db = this.#handlerDb;
    const outcomes: BatchItemOutcome[] = [];
    const changes: StoredChange[] = [];
    const inBatch = new Map<string, { index: number; outcome: number }>();
    try {
      db.prepare('BEGIN IMMEDIATE').run();
    } catch (e) {
      throw asRetryable(mapDriverError(e, null), 'the transaction could not begin; nothing was applied');
    }
    try {
      const savepoint = db.prepare('SAVEPOINT w');
      const release = db.prepare('RELEASE w');
      const rollbackTo = db.prepare('ROLLBACK TO w');
      const findRecord = db.prepare('SELECT * FROM _scribe_requests WHERE request_id = ?');
      const insertRecord = db.prepare(
        'INSERT INTO _scribe_requests (request_id, source_instance_id, method, ok, result, committed_at) VALUES (?, ?, ?, ?, ?, ?)',
      );
      const insertChange = db.prepare(
        'INSERT INTO _scribe_changes (entity, key, op, request_id, source_instance_id, at) VALUES (?, ?, ?, ?, ?, ?)',
      );
      for (const [itemIndex, item] of items.entries()) {
        const rid = item.meta.request_id;
        const earlier = inBatch.get(rid);
        if (earlier !== undefined) {
          const first = items[earlier.index]!.method;
          outcomes.push(
            first === item.method
              ? { ...outcomes[earlier.outcome]!, duplicate: true }
              : { ok: false, error: requestIdReusedError(rid, first, item.method), duplicate: true },
          );
          continue;
        }
        inBatch.set(rid, { index: itemIndex, outcome: outcomes.length });
        const record = findRecord.get(rid) as RawRecord | undefined;
        if (record !== undefined) {
          outcomes.push(
            record.method === item.method
              ? recordOutcome(record)
              : { ok: false, error: requestIdReusedError(rid, record.method, item.method), duplicate: true },
          );
          continue;
        }
        const now = rfc3339(this.#clock());
        const pending: Array<[string, string, ChangeOp]> = [];
        const ctx: WriteContext = {
          db,
          now,
          meta: item.meta,
          change: (entity, key, op) => void pending.push([entity, key, op]),
        };
        let outcome: BatchItemOutcome;
        let stored: string | undefined;
        savepoint.run();
        try {
          const definition = this.registry.get(item.method);
          // The coordinator validated every item on submit; parsing it again would only cost time.
          const params =
            options.validated === true && definition !== undefined ? item.params : this.registry.validate(item.method, item.params);
          const result = definition!.handler(ctx, params);
          // Serialised inside the savepoint: a result that cannot be recorded fails this write alone.
          stored = JSON.stringify(result ?? null);
          release.run();
          outcome = { ok: true, result, duplicate: false };
        } catch (e) {
          // On SQLITE_FULL, IOERR and a few others SQLite may roll the whole transaction
          // back by itself: then nothing of the batch stands, and the batch fails as one.
          if (!this.#db.inTransaction) throw e;
          rollbackTo.run();
          release.run();
          pending.length = 0;
          const error = mapDriverError(e, item.method);
          if (error.code === 'INTERNAL') this.#log.error({ err: e, method: item.method, request_id: rid }, 'write failed');
          outcome = { ok: false, error, duplicate: false };
          // A storage fault is not the write's answer: once the disk is fixed the same request id must run.
          stored = error.isRetryable() || isStorageFault(error)
            ? undefined
            : JSON.stringify({ code: error.code, message: error.message, field: error.field, cause: wireCauseOf(error) });
        }
        if (stored !== undefined) {
          insertRecord.run(rid, item.meta.source_instance_id, item.method, outcome.ok ? 1 : 0, stored, now);
        }
        for (const [entity, key, op] of pending) {
          const info = insertChange.run(entity, key, op, rid, item.meta.source_instance_id, now);
          changes.push({ seq: Number(info.lastInsertRowid), entity, key, op, request_id: rid, source_instance_id: item.meta.source_instance_id, at: now });
        }
        outcomes.push(outcome);
      }
      this.#sinceTrim += items.length;
      if (this.#sinceTrim >= 1000) {
        this.#sinceTrim = 0;
        this.#trim();
      }
      db.prepare('COMMIT').run();
    } catch (e) {
      if (this.#db.inTransaction) {
        try {
          this.#db.exec('ROLLBACK');
        } catch (rollbackError) {
          this.#log.error({ err: rollbackError }, 'rollback after a failed batch failed');
        }
      }
      this.#log.error({ err: e, size: items.length }, 'batch failed; nothing applied');
      throw asRetryable(mapDriverError(e, null), 'the transaction failed to commit; nothing was applied');
    }
    return { outcomes, changes };
  }

  /** Runs one write in its own transaction and returns its result or throws its WriteError. */
  executeWrite(item: BatchItem): unknown {
    const [outcome] = this.executeBatch([item]).outcomes;
    if (outcome === undefined) throw new WriteError('INTERNAL', 'no outcome', { method: item.method });
    if (outcome.ok) return outcome.result;
    throw outcome.error;
  }

  /** The record of a request id, if it committed (works on read-only stores). */
  findRequest(requestId: string): RequestRecord | undefined {
    const r = this.#handlerDb.prepare('SELECT * FROM _scribe_requests WHERE request_id = ?').get(requestId) as RawRecord | undefined;
    if (r === undefined) return undefined;
    return {
      request_id: r.request_id,
      source_instance_id: r.source_instance_id,
      method: r.method,
      ok: r.ok === 1,
      result: r.result === null ? null : JSON.parse(r.result),
      committed_at: r.committed_at,
    };
  }

  /** Change events with seq greater than `seq`, oldest first. */
  changesSince(seq: number, limit = 1000): StoredChange[] {
    return this.#handlerDb
      .prepare('SELECT seq, entity, key, op, request_id, source_instance_id, at FROM _scribe_changes WHERE seq > ? ORDER BY seq LIMIT ?')
      .all(seq, limit) as StoredChange[];
  }

  /** The oldest seq still in the change log, or undefined when it is empty. */
  oldestChangeSeq(): number | undefined {
    const r = this.#handlerDb.prepare('SELECT MIN(seq) AS m FROM _scribe_changes').get() as { m: number | null };
    return r.m ?? undefined;
  }

  /**
   * The newest seq given (0 when none). Pruning keeps the newest rows, so the
   * maximum never goes back and a new change always gets the next number: seq is the
   * rowid (`MAX(rowid) + 1`), and a rolled-back write gives its number back, which
   * keeps seq gap-free among committed writes.
   */
  latestChangeSeq(): number {
    const r = this.#handlerDb.prepare('SELECT MAX(seq) AS m FROM _scribe_changes').get() as { m: number | null };
    return r.m ?? 0;
  }

  /** Runs a read-only SQL statement on this connection; INVALID_PARAMS for anything that writes. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[] | Record<string, unknown>): T[] {
    const refused = () =>
      new WriteError('INVALID_PARAMS', 'query() runs read-only statements; send writes through the write path', {
        method: 'query',
        field: 'sql',
      });
    // Checked before prepare: SQLite applies many setting PRAGMAs while compiling them.
    if (setsPragma(sql)) throw refused();
    let stmt: Database.Statement;
    try {
      stmt = this.#db.prepare(sql);
    } catch (e) {
      throw mapDriverError(e, 'query');
    }
    // SQLite calls transaction control, ATTACH and setting PRAGMAs "read-only" (they write no page), but on
    // the primary's connection they would change every later write: refuse them too (they return no rows).
    if (!stmt.readonly || !stmt.reader) throw refused();
    try {
      if (params === undefined) return stmt.all() as T[];
      return (Array.isArray(params) ? stmt.all(...params) : stmt.all(params)) as T[];
    } catch (e) {
      throw mapDriverError(e, 'query');
    }
  }

  /**
   * Checks that this connection can take the write lock now (BEGIN IMMEDIATE, then
   * ROLLBACK); throws the mapped WriteError when it cannot (read-only, busy, disk
   * errors). Used by health checks between batches.
   */
  probeWritable(): void {
    this.#assertWritable('probeWritable');
    // A probe must not hang the event loop on another process's lock: do not wait at all.
    const previous = this.#db.pragma('busy_timeout', { simple: true }) as number;
    this.#db.pragma('busy_timeout = 0');
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      // BEGIN IMMEDIATE succeeds on a connection SQLite opened read-only; a page write does not.
      const v = this.#db.pragma('user_version', { simple: true }) as number;
      this.#db.pragma(`user_version = ${v}`);
      this.#db.exec('ROLLBACK');
    } catch (e) {
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      throw mapDriverError(e, 'probeWritable');
    } finally {
      this.#db.pragma(`busy_timeout = ${previous}`);
    }
  }

  /** Closes the connection. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #assertWritable(method: string | null): void {
    if (this.#closed) throw new WriteError('SHUTTING_DOWN', 'the store is closed', { method });
    if (this.readonly) {
      throw new WriteError('NOT_PRIMARY', 'this store is open read-only; writes go through the primary', { method });
    }
  }

  /** Keeps the request records and the change log within their retention. */
  #trim(): void {
    const db = this.#handlerDb;
    const maxReq = (db.prepare('SELECT MAX(rowid) AS m FROM _scribe_requests').get() as { m: number | null }).m ?? 0;
    if (maxReq > this.#requestRetention) {
      db.prepare('DELETE FROM _scribe_requests WHERE rowid <= ?').run(maxReq - this.#requestRetention);
    }
    const maxSeq = (db.prepare('SELECT MAX(seq) AS m FROM _scribe_changes').get() as { m: number | null }).m ?? 0;
    if (maxSeq > this.#changeRetention) {
      db.prepare('DELETE FROM _scribe_changes WHERE seq <= ?').run(maxSeq - this.#changeRetention);
    }
  }
}

/** PRAGMAs that take an argument and only read (schema introspection and checks). */
const READING_PRAGMA = /^(table_info|table_xinfo|table_list|index_list|index_info|index_xinfo|foreign_key_list|foreign_key_check|integrity_check|quick_check)$/i;
const PRAGMA_WITH_ARGUMENT = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?(?:\*\/|$))*PRAGMA\s+(?:\w+\s*\.\s*)?(\w+)\s*[=(]/i;

/** True for `PRAGMA name = value` and `PRAGMA name(value)` unless `name` only reads. */
function setsPragma(sql: string): boolean {
  const m = PRAGMA_WITH_ARGUMENT.exec(sql);
  return m !== null && !READING_PRAGMA.test(m[1]!);
}

interface RawRecord {
  request_id: string;
  source_instance_id: string;
  method: string;
  ok: number;
  result: string | null;
  committed_at: string;
}

function recordOutcome(r: RawRecord): BatchItemOutcome {
  const value: unknown = r.result === null ? null : JSON.parse(r.result);
  if (r.ok === 1) return { ok: true, result: value, duplicate: true };
  const e = (value ?? {}) as { code?: unknown; message?: unknown; field?: unknown };
  return {
    ok: false,
    duplicate: true,
    error: WriteError.fromJsonRpc(
      { code: 0, message: typeof e.message === 'string' ? e.message : 'the write failed', data: { ...e, method: r.method } },
      r.method,
    ),
  };
}

/**
 * Checks that a read-write connection can really write: a page write in a
 * transaction that is rolled back (nothing changes). Throws an error that says why
 * when SQLite fell back to read-only.
 */
function assertFileWritable(db: Database.Database, path: string): void {
  try {
    db.exec('BEGIN IMMEDIATE');
    const v = db.pragma('user_version', { simple: true }) as number;
    db.pragma(`user_version = ${v}`);
    db.exec('ROLLBACK');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    const mapped = mapDriverError(e, null);
    if (mapped.code === 'NOT_PRIMARY') {
      throw new Error(
        `store: open ${path} read-write: the file can only be opened read-only (check its permissions, its attributes (lsattr) and whether its filesystem is mounted read-only)`,
        { cause: e },
      );
    }
    throw new Error(`store: open ${path} read-write: a test write failed (${mapped.code})`, { cause: mapped });
  }
}

function asRetryable(error: WriteError, message: string): WriteError {
  // Storage faults keep their code: they need someone to act, and retrying them blindly only hides them.
  if (isStorageFault(error)) return error;
  return new WriteError(error.code === 'BUSY' ? 'BUSY' : 'INTERNAL', `${message} (${error.code})`, {
    method: error.method,
    cause: error,
    retryable: true,
  });
}
