import type { SqlParams, SqlTx } from './sql-tx.js';

/** What one raw statement did. */
export interface RawSqlRunResult {
  /** Rows inserted, updated or deleted by the statement. */
  readonly changes: number;
  /**
   * SQLite: the rowid of the last row inserted on the connection (as `last_insert_rowid()`
   * says, which is also the previous insert's when this statement inserted nothing).
   * Engines without rowids (PostgreSQL) answer 0: an application that needs a new row's
   * key sets it itself (a UUID), or reads it back in the same ExecBatch.
   */
  readonly lastInsertRowid: number;
}

/**
 * The engine capability behind the raw-SQL writes (`Exec`, `ExecBatch`). The checks
 * that hold on every engine (no transaction control, no connection commands, no
 * `_scribe_*` tables) run before it, in the write; what only the engine can check runs
 * here, on the write's transaction:
 *
 * - the statement must be exactly one statement that compiles against the schema:
 *   otherwise throw a `WriteError('INVALID_PARAMS', …, { method, field })` naming `field`,
 *   having run nothing (SQLite: `prepare`; PostgreSQL: a named prepare/describe of the
 *   statement, or its parse error mapped the same way);
 * - the statement must not end or change the transaction (a defence in depth behind the
 *   keyword check): otherwise INTERNAL;
 * - bind `params` (positional `?`, or named `:name`/`@name`/`$name` as the engine supports),
 *   never interpolate them;
 * - answer {@link RawSqlRunResult} (PostgreSQL: `changes` from the command's row count,
 *   `lastInsertRowid` 0).
 *
 * An engine whose transaction does not offer it answers `Exec` and `ExecBatch` with DISABLED.
 */
export interface RawSqlTx extends SqlTx {
  /** Runs one raw statement of `method` (whose SQL came in `field`) inside the write's transaction. */
  execRaw(sql: string, params: SqlParams | undefined, method: string, field: string): Promise<RawSqlRunResult>;
}

/** The transaction's raw-SQL capability, when its engine has one. */
export function rawSqlOf(tx: SqlTx): RawSqlTx | undefined {
  return typeof (tx as Partial<RawSqlTx>).execRaw === 'function' ? (tx as RawSqlTx) : undefined;
}
