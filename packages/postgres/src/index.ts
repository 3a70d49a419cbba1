/**
 * @packageDocumentation
 * scribe on PostgreSQL, the foundation the PostgreSQL engine is built on: a bounded
 * `pg` pool whose rows have SQLite's shapes, the engine-neutral `SqlTx` over a pg
 * client (`?` placeholders numbered for PostgreSQL), PostgreSQL errors mapped to
 * scribe's `WriteError` codes, and migrations applied once under an advisory lock.
 * The only package that imports `pg`.
 */
export {
  createPgPool,
  createPgClient,
  DEFAULT_POOL_SIZE,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_APPLICATION_NAME,
  type PgPoolOptions,
  type PgConnectionOptions,
} from './pg-pool.js';
export { PgSqlTx, type PgQueryable } from './pg-sql-tx.js';
export { translatePlaceholders, bindValues, preparePgQuery, type TranslatedSql } from './sql-placeholders.js';
export { SCRIBE_PG_TYPES, PG_OIDS, parseInt8, parseNumeric } from './pg-type-parsers.js';
export { redactUrl } from './redact-url.js';
export { mapPgError, classifyPgError, pgSqlState } from './pg-errors.js';
export {
  applyPgMigrations,
  checkPgMigrations,
  pgAppliedMigrations,
  MIGRATION_LOCK_KEY,
  type PgMigrateOptions,
} from './pg-migrations.js';
export { PgStore, type PgStoreOptions } from './pg-store.js';
export { unsupportedServer, pgServerVersion, MIN_POSTGRES_MAJOR, type PgServerVersion } from './pg-server-check.js';
export { PgBatchExecutor, DEFAULT_CONFLICT_RETRIES, type PgBatchExecutorParts } from './pg-batch-executor.js';
export { PgRequestLog } from './pg-request-log.js';
export { PgChangeLog, CHANGES_CHANNEL, type PendingChange } from './pg-change-log.js';
export { PgChangeListener, LISTEN_RETRY_MS, MAX_LISTEN_RETRY_MS, type PgChangeListenerOptions } from './pg-change-listener.js';
export { PgAdvisoryLease, MAINTENANCE_LOCK_KEY, DEFAULT_LEASE_RETRY_MS, type PgAdvisoryLeaseOptions } from './pg-advisory-lease.js';
export { PgBatchTx } from './pg-batch-tx.js';
export { PgPeerTable, DEFAULT_PEER_FORGET_MS, type PeerRecord, type PeerRow, type PeerLoad } from './pg-peer-table.js';
export { PgDeferredStatements, type PgSimpleQueryable } from './pg-deferred-statements.js';
export { pgLiteral, isPgText } from './pg-literal.js';
