import type Database from 'better-sqlite3';
import type { SqlDialect, SqlParams, SqlReader } from './sql-tx.js';

/** How many distinct SQL texts a {@link SqliteReader} keeps prepared; past it, statements are prepared per call. */
export const DEFAULT_STATEMENT_CACHE_SIZE = 1_000;

/**
 * {@link SqlReader} over one better-sqlite3 connection, with one prepared statement
 * per SQL text (at most {@link DEFAULT_STATEMENT_CACHE_SIZE}; definitions use a fixed
 * set of texts, so the cap only matters for callers that build SQL per call).
 *
 * Each call runs synchronously on the connection, in its own implicit transaction
 * unless one is open, and returns an already-settled promise: a read sees every
 * commit made (by any process) before it is called. Errors (a bad statement, a
 * driver error) come back as a rejected promise, never as a synchronous throw.
 *
 * This is the SQLite side of the engine-neutral interface for reads; a SQLite
 * transaction view for writes extends it with `run` and shares its statement cache
 * through {@link SqliteReader.statement}.
 */
export class SqliteReader implements SqlReader {
  /** Always `'sqlite'`. */
  readonly dialect: SqlDialect = 'sqlite';
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();
  readonly #cacheSize: number;

  /** Reads on `db`; statements are prepared on first use and kept. */
  constructor(db: Database.Database, options: { statementCacheSize?: number } = {}) {
    const size = options.statementCacheSize ?? DEFAULT_STATEMENT_CACHE_SIZE;
    if (!Number.isInteger(size) || size < 0) {
      throw new TypeError(`Expected 'statementCacheSize' to be an integer from 0 and up, got ${String(size)} (${typeof size})`);
    }
    this.#db = db;
    this.#cacheSize = size;
  }

  /** The first row, or undefined when there is none. */
  get<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T | undefined> {
    try {
      return Promise.resolve(bound(this.statement(sql), 'get', params) as T | undefined);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Every row. */
  all<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T[]> {
    try {
      return Promise.resolve(bound(this.statement(sql), 'all', params) as T[]);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The prepared statement of `sql` (from the cache, or prepared and cached now). Throws the driver's error. */
  protected statement(sql: string): Database.Statement {
    let s = this.#statements.get(sql);
    if (s === undefined) {
      s = this.#db.prepare(sql);
      if (this.#statements.size < this.#cacheSize) this.#statements.set(sql, s);
    }
    return s;
  }
}

/** Runs `stmt.get` or `stmt.all` with positional (`?`) or named (`:name`) values. */
function bound(stmt: Database.Statement, method: 'get' | 'all', params: SqlParams | undefined): unknown {
  if (params === undefined) return stmt[method]();
  if (Array.isArray(params)) return stmt[method](...(params as unknown[]));
  return stmt[method](params);
}
