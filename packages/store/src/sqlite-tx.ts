import type Database from 'better-sqlite3';
import { WriteError } from '@scribe/protocol';
import { mapDriverError } from './driver-errors.js';
import type { RawSqlRunResult, RawSqlTx } from './raw-sql-engine.js';
import type { SqlParams, SqlRunResult } from './sql-tx.js';
import type { StatementCache } from './statement-cache.js';

/**
 * Runs `sql` on SQLite with `params`: positional values spread onto the `?`s, or an
 * object bound by name (`:name`, `@name`, `$name`).
 */
function bindAndCall<T>(stmt: Database.Statement, call: 'get' | 'all' | 'run', params: SqlParams | undefined): T {
  try {
    if (params === undefined) return stmt[call]() as T;
    if (Array.isArray(params)) return stmt[call](...(params as unknown[])) as T;
    return stmt[call](params) as T;
  } catch (e) {
    // better-sqlite3 refuses a boolean with a TypeError that names no parameter: say which, and what to do.
    if (e instanceof TypeError) {
      const at = booleanAt(params);
      if (at !== undefined) {
        throw new WriteError('INTERNAL', `SqlTx: parameter ${at} is a boolean, which SQLite cannot bind; store booleans as 1 or 0`, {
          method: null,
          cause: e,
        });
      }
    }
    throw e;
  }
}

/** Where `params` holds a boolean (`1` for the first positional value, or the name), if anywhere. */
function booleanAt(params: SqlParams | undefined): string | undefined {
  if (params === undefined || params === null) return undefined;
  if (Array.isArray(params)) {
    const i = (params as readonly unknown[]).findIndex((v) => typeof v === 'boolean');
    return i < 0 ? undefined : String(i + 1);
  }
  const entry = Object.entries(params).find(([, v]) => typeof v === 'boolean');
  return entry === undefined ? undefined : JSON.stringify(entry[0]);
}

const CHANGED_NONE: Promise<SqlRunResult> = Promise.resolve(Object.freeze({ changes: 0 }));
const CHANGED_ONE: Promise<SqlRunResult> = Promise.resolve(Object.freeze({ changes: 1 }));

/**
 * A batch's transaction on SQLite, as write handlers see it ({@link SqlTx}), with the
 * raw-SQL capability ({@link RawSqlTx}). One per batch, over the store's one statement
 * cache. Every method runs its statement synchronously on the connection and returns
 * an already-settled promise (a failure is a rejected one, never a synchronous throw),
 * so a handler that awaits only its tx runs to its end in one turn of the event loop.
 * After {@link end} every method rejects with INTERNAL: a handler that kept its tx past
 * its batch (or awaited something else) cannot write into the next transaction.
 */
export class SqliteTx implements RawSqlTx {
  readonly dialect = 'sqlite' as const;
  readonly #cache: StatementCache;
  readonly #db: Database.Database;
  #open = true;

  /** `db` is the connection behind `cache` (for its transaction state and raw compilation). */
  constructor(cache: StatementCache, db: Database.Database) {
    this.#cache = cache;
    this.#db = db;
  }

  get<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T | undefined> {
    try {
      if (!this.#open) this.#ended();
      return Promise.resolve(bindAndCall<T | undefined>(this.#cache.statement(sql), 'get', params));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  all<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T[]> {
    try {
      if (!this.#open) this.#ended();
      return Promise.resolve(bindAndCall<T[]>(this.#cache.statement(sql), 'all', params));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  run(sql: string, params?: SqlParams): Promise<SqlRunResult> {
    try {
      if (!this.#open) this.#ended();
      const { changes } = bindAndCall<Database.RunResult>(this.#cache.statement(sql), 'run', params);
      // Most statements change one row or none: their (frozen) results are settled once, not per call.
      return changes === 1 ? CHANGED_ONE : changes === 0 ? CHANGED_NONE : Promise.resolve({ changes });
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  /**
   * The SQLite side of the raw-SQL writes: the statement must compile against the schema
   * as exactly one statement (else INVALID_PARAMS naming `field`, nothing run), and must
   * leave the transaction open (else INTERNAL). Raw SQL is compiled for each call and not
   * kept in the statement cache: it is the caller's text, not the store's.
   */
  execRaw(sql: string, params: SqlParams | undefined, method: string, field: string): Promise<RawSqlRunResult> {
    try {
      if (!this.#open) this.#ended();
      let stmt: Database.Statement;
      try {
        stmt = this.#db.prepare(sql);
      } catch (e) {
        // More than one statement (RangeError) or SQL that does not compile against the schema.
        throw new WriteError('INVALID_PARAMS', `${method}: ${field} is not one valid SQL statement for this schema`, {
          method,
          field,
          cause: e,
        });
      }
      const info = bindAndCall<Database.RunResult>(stmt, 'run', params);
      if (!this.#db.inTransaction) {
        // Defence in depth: nothing that ends the transaction may slip past the write's checks.
        throw new WriteError('INTERNAL', `${method}: the statement ended the write's transaction`, { method });
      }
      return Promise.resolve({ changes: info.changes, lastInsertRowid: Number(info.lastInsertRowid) });
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  /** SQLite's mapping of a driver error (`mapDriverError`). */
  mapError(error: unknown, method: string | null): WriteError {
    return mapDriverError(error, method);
  }

  /** Ends this tx: its batch is over. Every later call rejects. */
  end(): void {
    this.#open = false;
  }

  #ended(): never {
    throw new WriteError('INTERNAL', "SqlTx: used after its batch's transaction ended (a handler must await only its tx)", {
      method: null,
    });
  }
}
