/**
 * @packageDocumentation
 * scribe's SQLite store: schema and migrations, the write registry (each write
 * defined once), the batch executor the coordinator drives, the typed Querier, and
 * the primary lock. The only package that imports better-sqlite3.
 */
export {
  Store,
  DEFAULT_REQUEST_RETENTION,
  DEFAULT_CHANGE_RETENTION,
  DEFAULT_BUSY_TIMEOUT_MS,
  SYNCHRONOUS_LEVELS,
  type StoreOptions,
  type Synchronous,
  type BatchItem,
  type BatchItemOutcome,
  type BatchResult,
  type StoredChange,
  type RequestRecord,
} from './store.js';
export { StoreReads } from './store-reads.js';
export { SqliteReader, DEFAULT_STATEMENT_CACHE_SIZE, type SqliteStatementSource } from './sqlite-reader.js';
export { recordOutcome, decodeRequestRecord, type RawRequestRecord } from './request-log.js';
export { failureRecord, inBatchDuplicate, recordedDuplicate, runHandler } from './batch-item-rules.js';
export { asRetryable } from './batch-executor.js';
export { rfc3339, isRfc3339 } from './time.js';
export { WalSync, COMMIT_SYNC_MODES, DEFAULT_COMMIT_SYNC, type CommitSync, type WalSyncIo } from './wal-sync.js';
export {
  WriteRegistry,
  defineWrite,
  paramsError,
  type AnyWriteDefinition,
  type WriteContext,
  type WriteDefinition,
  type WriteInput,
  type WriteResult,
} from './write-registry.js';
export { normaliseWireParams, GO_NULL_VALUE_KEYS } from './wire-params.js';
export { createDefaultRegistry, AGENT_WRITES, type DefaultRegistryOptions } from './default-registry.js';
export { BUILTIN_MIGRATIONS, SCHEMA_VERSION } from './builtin-migrations.js';
export {
  FIRST_APPLICATION_MIGRATION,
  BUILTIN_NAMESPACE,
  APPLICATION_NAMESPACE,
  orderMigrations,
  missingMigrations,
  checkNotNewer,
  checkApplicationMigrations,
  migrationLabel,
  legacyMigrationId,
  migrationStep,
  checkMigrationsRunOn,
  versionsByNamespace,
  type Migration,
  type MigrationSteps,
  type SqliteMigrationStep,
  type PostgresMigrationStep,
  type MigrationSet,
  type MigrationId,
  type AppliedMigration,
  type OrderedMigration,
} from './migrations.js';
export { definePlugin, isScribePlugin, PLUGIN_NAME, type ScribePlugin, type MaintenanceTask } from './scribe-plugin.js';
export { mapDriverError, sqliteCode, isStorageFault, STORAGE_FAULT_CODES } from './driver-errors.js';
export type { SqliteDatabase, SqliteStatement } from './sqlite-database.js';
export type { SqlDialect, SqlParams, SqlReader, SqlRunResult, SqlTx, SqlValue } from './sql-tx.js';
export { SqliteTx } from './sqlite-tx.js';
export { StatementCache } from './statement-cache.js';
export { forUpdate } from './sql-tx.js';
export { rawSqlOf, type RawSqlTx, type RawSqlRunResult } from './raw-sql-engine.js';
export type {
  Project,
  Session,
  Message,
  FileRecord,
  Skill,
  PromptTemplate,
  SessionScore,
  PromptUcbStat,
  RankedPromptTemplate,
  UcbRankingRow,
  EvaluatorStats,
  DeleteResult,
} from './entities.js';
export type { ExecResult } from './writes/raw-sql-writes.js';
export {
  createQuerier,
  directWriteFn,
  QUERIER_WRITES,
  READ_NAMES,
  type AgentWrite,
  type Querier,
  type QuerierBase,
  type QuerierReads,
  type ReadName,
  type WriteMethods,
  type QuerierOptions,
  type QuerierReadSource,
  type QueryParams,
  type WriteFn,
  type WriteOptions,
  type WriteParams,
  type SqlStatement,
} from './querier.js';
export { PrimaryLock, type PrimaryLockOptions } from './primary-lock.js';
export { backupDatabase, inspectDatabase, type DatabaseFacts } from './database-backup.js';
export { findLoneSurrogate, hasLoneSurrogate } from './lone-surrogates.js';
