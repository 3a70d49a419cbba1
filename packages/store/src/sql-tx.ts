/**
 * The engine-neutral view of a connection that write handlers, reads and migrations
 * are written against, so each is defined once for SQLite and PostgreSQL.
 *
 * - SQL uses `?` placeholders; the PostgreSQL engine numbers them (`$1`, `$2`, …)
 *   outside string literals, quoted identifiers and comments.
 * - Write the SQL both engines accept (plain `INSERT … VALUES`, `UPDATE`, `DELETE`,
 *   `SELECT`, `ON CONFLICT … DO …`, `RETURNING`, `COALESCE`, `CASE`). Where the two
 *   differ (`MAX(a, b)` vs `GREATEST(a, b)`, JSON functions, `rowid`), branch on
 *   {@link SqlTx.dialect}: the only per-engine code a definition has.
 * - Values: strings, finite numbers, bigints and null. Booleans are not bound (SQLite
 *   has none): store them as 0/1 integers, as the schema does.
 * - Rows come back with the same shapes on both engines: TEXT as strings, INTEGER and
 *   BIGINT as numbers, REAL as numbers.
 *
 * On SQLite every method runs synchronously on the primary's connection and returns
 * an already-settled promise, so a handler that only awaits its `tx` calls runs to the
 * end without letting other I/O in between. A handler must not await anything else
 * (timers, network): the transaction is open while it runs.
 */

import type { WriteError } from '@scribe/protocol';

/** The SQL engines scribe runs on. */
export type SqlDialect = 'sqlite' | 'postgres';

/** A value bound to a placeholder. */
export type SqlValue = string | number | bigint | null;

/** Positional (`?`) values, or named ones (`:name`, `@name`, `$name`; raw SQL only). */
export type SqlParams = readonly SqlValue[] | Readonly<Record<string, SqlValue>>;

/** What a statement that writes reports. */
export interface SqlRunResult {
  /** Rows inserted, updated or deleted by this statement. */
  readonly changes: number;
}

/** Reads on a connection or inside a transaction (what reads and plugins' sweeps use). */
export interface SqlReader {
  /** The engine behind this connection. */
  readonly dialect: SqlDialect;
  /** The first row, or undefined when there is none. */
  get<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T | undefined>;
  /** Every row. */
  all<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T[]>;
}

/** One write's transaction (its savepoint), as its handler sees it on either engine. */
export interface SqlTx extends SqlReader {
  /** Runs a statement that writes and says how many rows it changed. */
  run(sql: string, params?: SqlParams): Promise<SqlRunResult>;
  /**
   * The {@link WriteError} this engine's own mapping gives an error its driver threw
   * (SQLite's result codes: `mapDriverError`; PostgreSQL's SQLSTATEs: `mapPgError`),
   * the driver's error kept as `cause`; a WriteError passes through (given `method`
   * when it has none). For a handler that catches a driver error to report it in its
   * own words with the same code on either engine.
   */
  mapError(error: unknown, method: string | null): WriteError;
}

/**
 * The row-lock suffix of a `SELECT` whose rows the write goes on to change, from
 * what it read: ` FOR UPDATE` on PostgreSQL, where writers of several processes run
 * at once at READ COMMITTED (the select waits for a concurrent writer of those rows
 * and then sees its commit), and nothing on SQLite, where one connection writes and
 * its transaction already excludes every other writer.
 */
export function forUpdate(reader: SqlReader): string {
  return reader.dialect === 'postgres' ? ' FOR UPDATE' : '';
}
