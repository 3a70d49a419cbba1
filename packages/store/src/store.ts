import Database from 'better-sqlite3';
import { pino, type Logger } from 'pino';
import { WriteError } from '@scribe/protocol';
import { BatchExecutor, type BatchItem, type BatchResult } from './batch-executor.js';
import { BUILTIN_MIGRATIONS } from './builtin-migrations.js';
import { ChangeLog, type StoredChange } from './change-log.js';
import { createDefaultRegistry } from './default-registry.js';
import {
  APPLICATION_NAMESPACE,
  BUILTIN_NAMESPACE,
  checkApplicationMigrations,
  checkNotNewer,
  migrationLabel,
  orderMigrations,
  versionsByNamespace,
  type AppliedMigration,
  type MigrationId,
  type OrderedMigration,
} from './migrations.js';
import { appliedMigrations, applyMigrations } from './sqlite-migrations.js';
import { readOnlyQuery } from './read-guard.js';
import { RequestLog, type RequestRecord } from './request-log.js';
import type { SqlReader } from './sql-tx.js';
import { SqliteReader } from './sqlite-reader.js';
import { StatementCache } from './statement-cache.js';
import { DEFAULT_BUSY_TIMEOUT_MS, DEFAULT_CHANGE_RETENTION, DEFAULT_REQUEST_RETENTION, checkStoreOptions, syncsOffTheLoop, type StoreOptions } from './store-options.js';
import { StoreReads } from './store-reads.js';
import { rfc3339 } from './time.js';
import { WalSync } from './wal-sync.js';
import { assertFileWritable, probeWritable } from './write-probe.js';
import type { WriteRegistry } from './write-registry.js';

export {
  DEFAULT_BUSY_TIMEOUT_MS,
  DEFAULT_CHANGE_RETENTION,
  DEFAULT_REQUEST_RETENTION,
  SYNCHRONOUS_LEVELS,
  type StoreOptions,
  type Synchronous,
} from './store-options.js';
export type { BatchItem, BatchItemOutcome, BatchResult } from './batch-executor.js';
export type { StoredChange } from './change-log.js';
export type { RequestRecord } from './request-log.js';

/**
 * scribe's SQLite store: the schema, the write registry's executor and the reads.
 * A read-write store belongs to the primary (one per database); read-only stores
 * are for every node's reads. A façade over one connection and its one statement
 * cache ({@link StatementCache}); each concept lives in its own file: option checks
 * (store-options), the batch executor, the request log, the change log, the read
 * guard of {@link Store.query} and the write probe.
 *
 * The connection's invariant: while a batch's transaction is open (it spans the
 * handlers' awaits), nothing else uses the connection. {@link Store.executeBatch} and
 * {@link Store.probeWritable} queue behind a running batch; every other use of the
 * connection during a batch throws INTERNAL (see {@link StatementCache}).
 */
export class Store {
  /** The database file. */
  readonly path: string;
  /** True for a secondary's store: every write throws NOT_PRIMARY. */
  readonly readonly: boolean;
  /** The writes this store executes. */
  readonly registry: WriteRegistry;
  /** The typed reads (async, engine-neutral) on this store's connection, through {@link Store.reader}. */
  readonly reads: StoreReads;
  /**
   * Engine-neutral reads ({@link SqlReader}) on this store's connection, over the same
   * statement cache as the writes; they reject while a batch holds the connection.
   */
  readonly reader: SqlReader;
  readonly #db: Database.Database;
  readonly #cache: StatementCache;
  readonly #requests: RequestLog;
  readonly #changes: ChangeLog;
  readonly #executor: BatchExecutor;
  /** Syncs the -wal file off the event loop (FULL and EXTRA, pipelined); undefined otherwise. */
  readonly #walSync: WalSync | undefined;
  readonly #migrations: OrderedMigration[];
  readonly #clock: () => Date;
  readonly #log: Logger;
  #closed = false;
  /** The end of the last queued batch or probe; undefined when none runs. */
  #tail: Promise<void> | undefined;

  private constructor(db: Database.Database, options: StoreOptions, migrations: OrderedMigration[], walSync: WalSync | undefined) {
    this.#db = db;
    this.#walSync = walSync;
    this.#cache = new StatementCache(db);
    this.path = options.path;
    this.readonly = options.readonly === true;
    this.registry = options.registry ?? createDefaultRegistry();
    this.reader = new SqliteReader(this.#cache);
    this.reads = new StoreReads(this.reader);
    this.#migrations = migrations;
    this.#clock = options.clock ?? (() => new Date());
    this.#log = (options.logger ?? pino({ level: 'silent' })).child({ component: 'store' });
    this.#requests = new RequestLog(this.#cache, options.requestRetention ?? DEFAULT_REQUEST_RETENTION);
    this.#changes = new ChangeLog(this.#cache, options.changeRetention ?? DEFAULT_CHANGE_RETENTION);
    this.#executor = new BatchExecutor({
      db,
      cache: this.#cache,
      registry: this.registry,
      requests: this.#requests,
      changes: this.#changes,
      clock: this.#clock,
      log: this.#log,
      walSync,
    });
  }

  /**
   * Opens (and for read-write, creates and migrates) the database. Read-write:
   * WAL, foreign keys on, `synchronous` as asked (FULL by default), busy timeout.
   * Read-only: the file must exist.
   */
  static open(options: StoreOptions): Store {
    checkStoreOptions(options);
    const pipelined = syncsOffTheLoop(options);
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
      db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS}`);
      if (!options.readonly) {
        assertFileWritable(db, options.path);
        db.pragma('journal_mode = WAL');
        db.pragma('foreign_keys = ON');
        // Pipelined, the store syncs the WAL after COMMIT itself, off the event loop (WalSync).
        db.pragma(`synchronous = ${pipelined ? 'NORMAL' : (options.synchronous ?? 'FULL')}`);
      }
      const store = new Store(db, options, migrations, pipelined ? new WalSync(`${options.path}-wal`) : undefined);
      if (options.readonly || options.autoMigrate === false) {
        checkNotNewer(appliedMigrations(store.#cache), migrations);
      } else {
        store.migrate();
        // The write counter that triggers pruning lives in memory: prune once per open too, so a
        // primary restarted often (fewer than ~1000 writes per run) still keeps within retention.
        store.#executor.prune();
      }
      // What open wrote (migrations, pruning) is durable before anything is served.
      store.#walSync?.syncNow();
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
    return versionsByNamespace(appliedMigrations(this.#cache));
  }

  /** Every migration recorded in the file, by namespace and version. */
  appliedMigrations(): AppliedMigration[] {
    return appliedMigrations(this.#cache);
  }

  /** Applies pending migrations, each in its own transaction; a second run applies nothing. */
  migrate(): { applied: MigrationId[] } {
    this.#assertWritable('migrate');
    const applied = applyMigrations(this.#cache, this.#migrations, () => rfc3339(this.#clock()));
    if (applied.length > 0) this.#log.info({ applied: applied.map(migrationLabel), path: this.path }, 'migrations applied');
    return { applied };
  }

  /**
   * Runs the items in one transaction, one SAVEPOINT each. An item whose request id
   * already has a record is answered from it and not executed. An item that fails
   * rolls back only its own savepoint. Every outcome except a retryable failure is
   * recorded with its request id in the same transaction, and change events are
   * appended to the change log. Rejects with a retryable WriteError, having applied
   * nothing, when the transaction cannot begin or commit. With `validated`, the
   * items' params are taken as the registry's parsed output (the coordinator
   * validates on submit) and not parsed again; an unknown write is still refused.
   *
   * Batches run one at a time: a call made while another batch runs starts when it
   * has ended. On SQLite the whole batch runs in one turn of the event loop (its
   * handlers await only their already-settled tx calls).
   */
  executeBatch(items: readonly BatchItem[], options: { validated?: boolean } = {}): Promise<BatchResult> {
    const validated = options.validated === true;
    return this.#exclusively(() => {
      this.#assertWritable(null);
      return this.#executor.run(items, validated);
    });
  }

  /** Runs one write in its own transaction and resolves with its result (once durable) or rejects with its WriteError. */
  async executeWrite(item: BatchItem): Promise<unknown> {
    const batch = await this.executeBatch([item]);
    await batch.durable;
    const [outcome] = batch.outcomes;
    if (outcome === undefined) throw new WriteError('INTERNAL', 'no outcome', { method: item.method });
    if (outcome.ok) return outcome.result;
    throw outcome.error;
  }

  /** The record of a request id, if it committed (works on read-only stores). */
  findRequest(requestId: string): RequestRecord | undefined {
    return this.#requests.find(requestId);
  }

  /** Change events with seq greater than `seq`, oldest first. */
  changesSince(seq: number, limit = 1000): StoredChange[] {
    return this.#changes.since(seq, limit);
  }

  /** The oldest seq still in the change log, or undefined when it is empty. */
  oldestChangeSeq(): number | undefined {
    return this.#changes.oldest();
  }

  /** The newest seq given (0 when none); see {@link ChangeLog.latest} for why it never goes back. */
  latestChangeSeq(): number {
    return this.#changes.latest();
  }

  /** Runs a read-only SQL statement on this connection; INVALID_PARAMS for anything that writes. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[] | Record<string, unknown>): T[] {
    return readOnlyQuery<T>(this.#db, this.#cache, sql, params);
  }

  /**
   * Checks that this connection can take the write lock now (BEGIN IMMEDIATE, a page
   * write, ROLLBACK; nothing changes, nothing waits for another connection's lock);
   * rejects with the mapped WriteError when it cannot (read-only, busy, disk errors).
   * Queued behind a running batch, never inside its transaction. Used by health checks.
   */
  probeWritable(): Promise<void> {
    return this.#exclusively(() => {
      this.#assertWritable('probeWritable');
      probeWritable(this.#db);
    });
  }

  /**
   * Closes the connection. Safe to call twice. A batch still running (one not awaited)
   * ends first; batches and probes queued after it are refused with SHUTTING_DOWN.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const tail = this.#tail;
    const closeAll = (): void => {
      this.#walSync?.close();
      this.#db.close();
    };
    if (tail === undefined) closeAll();
    else void tail.then(closeAll);
  }

  /**
   * Runs `work` when no other batch or probe runs on the connection: at once when none
   * does (no extra turn of the event loop on the hot path), else after the last queued one.
   */
  #exclusively<R>(work: () => R | Promise<R>): Promise<R> {
    const previous = this.#tail;
    let result: Promise<R>;
    if (previous === undefined) {
      try {
        result = Promise.resolve(work());
      } catch (e) {
        return Promise.reject(e as Error);
      }
    } else {
      result = previous.then(work);
    }
    const tail = result.then(noop, noop);
    this.#tail = tail;
    void tail.then(() => {
      if (this.#tail === tail) this.#tail = undefined;
    });
    return result;
  }

  #assertWritable(method: string | null): void {
    if (this.#closed) throw new WriteError('SHUTTING_DOWN', 'the store is closed', { method });
    if (this.readonly) {
      throw new WriteError('NOT_PRIMARY', 'this store is open read-only; writes go through the primary', { method });
    }
  }
}

function noop(): void {}
