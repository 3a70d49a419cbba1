import { pgServerVersion, unsupportedServer } from './pg-server-check.js';
import type pg from 'pg';
import { pino, type Logger } from 'pino';
import { WriteError } from '@scribe/protocol';
import {
  APPLICATION_NAMESPACE,
  BUILTIN_MIGRATIONS,
  BUILTIN_NAMESPACE,
  DEFAULT_CHANGE_RETENTION,
  DEFAULT_REQUEST_RETENTION,
  checkApplicationMigrations,
  createDefaultRegistry,
  orderMigrations,
  rfc3339,
  versionsByNamespace,
  type AppliedMigration,
  type BatchItem,
  type BatchResult,
  type Migration,
  type MigrationId,
  type MigrationSet,
  type OrderedMigration,
  type RequestRecord,
  type StoredChange,
  type WriteRegistry,
} from '@scribe/store';
import { DEFAULT_CONFLICT_RETRIES, PgBatchExecutor } from './pg-batch-executor.js';
import { PgChangeLog } from './pg-change-log.js';
import { withConnection } from './pg-checkout.js';
import { mapPgError } from './pg-errors.js';
import { applyPgMigrations, checkPgMigrations, pgAppliedMigrations } from './pg-migrations.js';
import { createPgPool, type PgPoolOptions } from './pg-pool.js';
import { assertReads, readOnlyPgQuery } from './pg-read-query.js';
import { PgRequestLog } from './pg-request-log.js';
import { PgSqlTx } from './pg-sql-tx.js';
import { redactUrl } from './redact-url.js';

/** Writes between two prunings of the request and change logs (per process). */
const PRUNE_EVERY = 1000;

/** Everything {@link PgStore.open} takes. */
export interface PgStoreOptions extends Omit<PgPoolOptions, 'logger'> {
  /** Default: {@link createDefaultRegistry}(). */
  readonly registry?: WriteRegistry;
  /** Plugins whose migrations are applied after scribe's, each in its own namespace (only `name` and `migrations` are used). */
  readonly plugins?: readonly MigrationSet[];
  /** Application migrations (versions 1000 and up, namespace `application`). */
  readonly migrations?: readonly Migration[];
  /** Apply pending migrations on open (under the advisory lock). Default true; false only checks the database is not newer. */
  readonly autoMigrate?: boolean;
  /** Request records kept (newest). Default `DEFAULT_REQUEST_RETENTION`. */
  readonly requestRetention?: number;
  /** Change events kept (newest). Default `DEFAULT_CHANGE_RETENTION`. */
  readonly changeRetention?: number;
  /** Times of writes and records. Default: the system clock. */
  readonly clock?: () => Date;
  /** Logs through `{ component: 'pg-store' }` (and the pool's) children; the server named by {@link redactUrl} only. */
  readonly logger?: Logger;
  /** Runs of a batch the server rolled back for a conflict before it fails as BUSY. Default {@link DEFAULT_CONFLICT_RETRIES}. */
  readonly conflictRetries?: number;
}

function retention(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`Expected '${name}' to be an integer from 1 and up, got ${String(value)}`);
  return value;
}

/**
 * scribe's store on a PostgreSQL server: the same writes (the registry's handlers over
 * a {@link PgSqlTx}), request records, change log and migrations as the SQLite store,
 * for a process that is one peer among many of the same database. It satisfies the
 * coordinator's `CoordinatorStore` (validate, executeBatch), so each process
 * group-commits its own writes; exactly-once and the change order hold across
 * processes through the database (see {@link PgBatchExecutor}, {@link PgChangeLog}).
 */
export class PgStore {
  /** The SQL engine. */
  readonly dialect = 'postgres' as const;
  /** The writes this store executes. */
  readonly registry: WriteRegistry;
  /** The pool every statement of this store runs on (bounded; owned by the store). */
  readonly pool: pg.Pool;
  /** Single statements on any free connection of the pool (reads). */
  readonly reader: PgSqlTx;
  /** The server, credentials blanked (for logs and messages). */
  readonly server: string;
  readonly #executor: PgBatchExecutor;
  readonly #requests: PgRequestLog;
  readonly #changes: PgChangeLog;
  readonly #migrations: OrderedMigration[];
  readonly #log: Logger;
  /** The server-named logger the migration runner adds its own component to. */
  readonly #serverLog: Logger;
  readonly #clock: () => Date;
  #closed: Promise<void> | undefined;
  #sincePrune = 0;
  #pruning: Promise<void> | undefined;

  private constructor(pool: pg.Pool, options: PgStoreOptions, migrations: OrderedMigration[], log: Logger) {
    this.pool = pool;
    this.reader = new PgSqlTx(pool);
    this.server = redactUrl(options.url);
    this.registry = options.registry ?? createDefaultRegistry();
    this.#migrations = migrations;
    this.#log = log.child({ component: 'pg-store' });
    this.#serverLog = log;
    this.#clock = options.clock ?? (() => new Date());
    this.#requests = new PgRequestLog(retention('requestRetention', options.requestRetention, DEFAULT_REQUEST_RETENTION));
    this.#changes = new PgChangeLog(retention('changeRetention', options.changeRetention, DEFAULT_CHANGE_RETENTION));
    const conflictRetries = options.conflictRetries ?? DEFAULT_CONFLICT_RETRIES;
    if (!Number.isInteger(conflictRetries) || conflictRetries < 0) {
      throw new TypeError(`Expected 'conflictRetries' to be an integer from 0 and up, got ${String(conflictRetries)}`);
    }
    this.#executor = new PgBatchExecutor({
      pool,
      registry: this.registry,
      requests: this.#requests,
      changes: this.#changes,
      clock: this.#clock,
      log,
      conflictRetries,
    });
  }

  /**
   * Connects (a bounded pool), applies pending migrations under the advisory lock
   * (or, with `autoMigrate: false`, checks that the database is not newer than this
   * code: SCHEMA_MISMATCH), and resolves with the store. Invalid options throw a
   * TypeError before anything connects.
   */
  static async open(options: PgStoreOptions): Promise<PgStore> {
    if (options.clock !== undefined && typeof options.clock !== 'function') {
      throw new TypeError(`Expected 'clock' to be a function returning a Date, got ${typeof options.clock}`);
    }
    checkApplicationMigrations(options.migrations ?? []);
    const migrations = orderMigrations([
      { name: BUILTIN_NAMESPACE, migrations: BUILTIN_MIGRATIONS },
      ...(options.plugins ?? []),
      ...(options.migrations === undefined || options.migrations.length === 0 ? [] : [{ name: APPLICATION_NAMESPACE, migrations: options.migrations }]),
    ]);
    const root = options.logger ?? pino({ level: 'silent' });
    const pool = createPgPool({ ...options, logger: root });
    const store = new PgStore(pool, options, migrations, root.child({ server: redactUrl(options.url) }));
    try {
      const unsupported = unsupportedServer(await pgServerVersion(store.reader));
      if (unsupported !== undefined) throw new Error(`scribe: ${redactUrl(options.url)}: ${unsupported}`);
      if (options.autoMigrate === false) await checkPgMigrations(store.reader, migrations);
      else await store.migrate();
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e instanceof WriteError || !(e instanceof Error) || !isDriverError(e) ? e : mapPgError(e, null);
    }
    return store;
  }

  /** Applies pending migrations once (whichever process comes first); returns what this call applied. */
  async migrate(): Promise<{ applied: MigrationId[] }> {
    const applied = await applyPgMigrations(this.pool, this.#migrations, { now: () => rfc3339(this.#clock()), logger: this.#serverLog });
    return { applied };
  }

  /** Every migration recorded in the database. */
  appliedMigrations(): Promise<AppliedMigration[]> {
    return pgAppliedMigrations(this.reader);
  }

  /** The highest version recorded per namespace. */
  async schemaVersions(): Promise<Map<string, number>> {
    return versionsByNamespace(await this.appliedMigrations());
  }

  /** Checks a write's name and params without running it (METHOD_NOT_FOUND, INVALID_PARAMS); returns the parsed params. */
  validate(method: string, params: unknown): unknown {
    return this.registry.validate(method, params);
  }

  /**
   * Runs the items in one transaction, one savepoint each (see {@link PgBatchExecutor}).
   * With `validated`, params are the registry's parsed output (the coordinator validates
   * on submit). Rejects with a retryable WriteError, nothing applied, when the batch
   * could not commit (UNREACHABLE when the server is gone, BUSY after repeated conflicts).
   */
  async executeBatch(items: readonly BatchItem[], options: { validated?: boolean } = {}): Promise<BatchResult> {
    if (this.#closed !== undefined) throw new WriteError('SHUTTING_DOWN', 'the store is closed');
    const result = await this.#executor.run(items, options.validated === true);
    this.#sincePrune += items.length;
    if (this.#sincePrune >= PRUNE_EVERY && this.#pruning === undefined) {
      this.#sincePrune = 0;
      this.#pruning = this.prune()
        .catch((e: unknown) => this.#log.warn({ err: e }, 'pruning the request and change logs failed; the next prune tries again'))
        .finally(() => {
          this.#pruning = undefined;
        });
    }
    return result;
  }

  /** Runs one write in its own transaction; resolves with its result or rejects with its WriteError. */
  async executeWrite(item: BatchItem): Promise<unknown> {
    const [outcome] = (await this.executeBatch([item])).outcomes;
    if (outcome === undefined) throw new WriteError('INTERNAL', 'no outcome', { method: item.method });
    if (outcome.ok) return outcome.result;
    throw outcome.error;
  }

  /** The record of a request id, if it committed. */
  async findRequest(requestId: string): Promise<RequestRecord | undefined> {
    try {
      return await this.#requests.find(this.reader, requestId);
    } catch (e) {
      throw mapPgError(e, 'findRequest');
    }
  }

  /** Change events with seq greater than `seq`, oldest first. */
  changesSince(seq: number, limit = 1000): Promise<StoredChange[]> {
    return this.#changes.since(this.reader, seq, limit);
  }

  /** The oldest seq still in the change log, or undefined when it is empty. */
  oldestChangeSeq(): Promise<number | undefined> {
    return this.#changes.oldest(this.reader);
  }

  /** The newest committed seq (0 when none). */
  latestChangeSeq(): Promise<number> {
    return this.#changes.latest(this.reader);
  }

  /** Keeps the request records and the change log within their retention (its own transaction). */
  async prune(): Promise<void> {
    await withConnection(this.pool, this.#log, async (client) => {
      const tx = new PgSqlTx(client);
      await client.query('BEGIN');
      try {
        await this.#requests.prune(tx);
        await this.#changes.prune(tx);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    });
  }

  /**
   * Runs one statement that only reads ({@link readOnlyPgQuery}: a reading keyword, one
   * statement, inside a READ ONLY transaction); anything else is INVALID_PARAMS
   * (field `sql`), as on SQLite, and leaves nothing behind on the pooled connection.
   */
  async query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[] | Record<string, unknown>): Promise<T[]> {
    assertReads(sql); // before a connection is taken: a refusal costs no round trip
    try {
      return await withConnection(this.pool, this.#log, (client) => readOnlyPgQuery<T>(client, sql, params as never));
    } catch (e) {
      throw mapPgError(e, 'query');
    }
  }

  /**
   * Checks that the server answers and takes writes on this database now (not a hot
   * standby, not a read-only session); rejects with the mapped WriteError otherwise.
   */
  async probeWritable(): Promise<void> {
    try {
      const row = await this.reader.get<{ ro: string }>("SELECT current_setting('transaction_read_only') AS ro");
      if (row?.ro === 'on') throw new WriteError('NOT_PRIMARY', 'the server takes no writes on this connection (a standby or a read-only session)');
    } catch (e) {
      throw mapPgError(e, 'probeWritable');
    }
  }

  /** Waits for a running prune and ends the pool. Safe to call twice. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#pruning;
      await this.pool.end();
    })();
    return this.#closed;
  }
}

function isDriverError(e: Error): boolean {
  return typeof (e as { code?: unknown }).code === 'string';
}
