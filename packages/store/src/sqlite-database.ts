/**
 * The few methods of a better-sqlite3 connection the store and write handlers use.
 * Handlers are typed against this, not against the driver, so they stay portable
 * and testable.
 */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  /** True when the statement does not write (as SQLite decides). */
  readonly readonly: boolean;
}

/** A connection as write handlers see it. */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): unknown;
  readonly inTransaction: boolean;
}
