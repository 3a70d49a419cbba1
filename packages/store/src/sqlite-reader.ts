import type Database from 'better-sqlite3';
import type { SqlDialect, SqlParams, SqlReader } from './sql-tx.js';

/** How many distinct SQL texts a {@link SqliteReader} keeps prepared; past it, statements are prepared per call. */
export const DEFAULT_STATEMENT_CACHE_SIZE = 1_000;

/**
 * A connection's own statement cache, for a reader that shares it (one compiled
 * statement per SQL text for everything on the connection). `assertFree`, when there,
 * is called before every read and throws while the connection may not be used (a
 * batch's transaction is open on it).
 */
export interface SqliteStatementSource {
  /** The compiled statement for `sql`, from the cache or compiled now. Throws the driver's error. */
  statement(sql: string): Database.Statement;
  /** Throws when the connection may not be read now; `what` names the caller in the error. */
  assertFree?(what: string): void;
}

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
 * Given a {@link SqliteStatementSource} instead of a connection, it uses that cache
 * (and its guard) rather than one of its own: a store whose writes compile through one
 * cache reads through the same one.
 */
export class SqliteReader implements SqlReader {
  /** Always `'sqlite'`. */
  readonly dialect = 'sqlite' satisfies SqlDialect;
  readonly #source: SqliteStatementSource;

  /**
   * Reads on `db`, with statements compiled on first use and kept (at most
   * `statementCacheSize`, default {@link DEFAULT_STATEMENT_CACHE_SIZE}); or on a
   * connection's {@link SqliteStatementSource} (its cache; the option does not apply).
   */
  constructor(db: Database.Database | SqliteStatementSource, options: { statementCacheSize?: number } = {}) {
    const size = options.statementCacheSize ?? DEFAULT_STATEMENT_CACHE_SIZE;
    if (!Number.isInteger(size) || size < 0) {
      throw new TypeError(`Expected 'statementCacheSize' to be an integer from 0 and up, got ${String(size)} (${typeof size})`);
    }
    this.#source = isStatementSource(db) ? db : cachedStatements(db, size);
  }

  /** The first row, or undefined when there is none. */
  get<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T | undefined> {
    try {
      this.#source.assertFree?.('read');
      return Promise.resolve(bound(this.#source.statement(sql), 'get', params) as T | undefined);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Every row. */
  all<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T[]> {
    try {
      this.#source.assertFree?.('read');
      return Promise.resolve(bound(this.#source.statement(sql), 'all', params) as T[]);
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

function isStatementSource(x: Database.Database | SqliteStatementSource): x is SqliteStatementSource {
  return typeof (x as Partial<SqliteStatementSource>).statement === 'function';
}

/** A statement cache of its own over `db`: one compiled statement per SQL text, at most `size` kept. */
function cachedStatements(db: Database.Database, size: number): SqliteStatementSource {
  const statements = new Map<string, Database.Statement>();
  return {
    statement(sql) {
      let s = statements.get(sql);
      if (s === undefined) {
        s = db.prepare(sql);
        if (statements.size < size) statements.set(sql, s);
      }
      return s;
    },
  };
}

/** Runs `stmt.get` or `stmt.all` with positional (`?`) or named (`:name`) values. */
function bound(stmt: Database.Statement, method: 'get' | 'all', params: SqlParams | undefined): unknown {
  if (params === undefined) return stmt[method]();
  if (Array.isArray(params)) return stmt[method](...(params as unknown[]));
  return stmt[method](params);
}
