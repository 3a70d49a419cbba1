import type Database from 'better-sqlite3';
import { WriteError } from '@scribe/protocol';
import type { SqliteDatabase, SqliteStatement } from './sqlite-database.js';
import { DEFAULT_STATEMENT_CACHE_SIZE, type SqliteStatementSource } from './sqlite-reader.js';

/**
 * A store's SQLite connection with its one statement cache, shared by everything that
 * runs SQL on it: write handlers (through {@link SqliteTx}), the request and change
 * logs, reads ({@link SqliteReader} over it) and migrations. One compiled statement per
 * SQL text, at most {@link DEFAULT_STATEMENT_CACHE_SIZE}.
 *
 * It also keeps the connection's invariant while a batch runs. Write handlers are
 * async, so a batch's transaction (BEGIN … COMMIT) now spans `await`s. On SQLite every
 * {@link SqliteTx} call settles at once, so a batch runs to its end in one turn of the
 * event loop (microtasks only), and no timer, socket or other macrotask can run in
 * between. What could still slip in is a microtask queued by other code, or a handler
 * that awaits something other than its tx: either would see, or change, the batch's
 * uncommitted state. So while a batch holds the connection ({@link hold}), every use
 * of it other than through that batch ({@link prepare}, {@link exec}) throws an
 * INTERNAL WriteError instead of running: a loud failure in place of a silent one.
 * The store queues its own work (the next batch, the write probe) behind a running batch.
 */
export class StatementCache implements SqliteDatabase, SqliteStatementSource {
  readonly #db: Database.Database;
  readonly #cache = new Map<string, Database.Statement>();
  #holder: string | undefined;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  /** The statement for `sql`, compiled once. Throws while a batch holds the connection. */
  prepare(sql: string): SqliteStatement {
    if (this.#holder !== undefined) this.#refuse('prepare');
    return this.statement(sql) as unknown as SqliteStatement;
  }

  /**
   * The statement for `sql`, compiled once, without the hold check: for the batch that
   * holds the connection (its {@link SqliteTx} and its bookkeeping) and for callers that
   * checked {@link assertFree} themselves.
   */
  statement(sql: string): Database.Statement {
    let s = this.#cache.get(sql);
    if (s === undefined) {
      s = this.#db.prepare(sql);
      if (this.#cache.size < DEFAULT_STATEMENT_CACHE_SIZE) this.#cache.set(sql, s);
    }
    return s;
  }

  /** Runs SQL text (several statements allowed, nothing bound). Throws while a batch holds the connection. */
  exec(sql: string): unknown {
    if (this.#holder !== undefined) this.#refuse('exec');
    return this.#db.exec(sql);
  }

  /** True inside a transaction on this connection. */
  get inTransaction(): boolean {
    return this.#db.inTransaction;
  }

  /** The batch (or probe) holding the connection now, if any. */
  get holder(): string | undefined {
    return this.#holder;
  }

  /** Throws an INTERNAL WriteError naming `what` when a batch holds the connection. */
  assertFree(what: string): void {
    if (this.#holder !== undefined) this.#refuse(what);
  }

  /**
   * Marks the connection as held by `holder` until {@link release}. Holding a held
   * connection is a programming error (INTERNAL): the store queues its batches.
   */
  hold(holder: string): void {
    if (this.#holder !== undefined) this.#refuse(holder);
    this.#holder = holder;
  }

  /** Ends {@link hold}. */
  release(): void {
    this.#holder = undefined;
  }

  #refuse(what: string): never {
    throw new WriteError(
      'INTERNAL',
      `${what}: the store's connection is inside a ${this.#holder ?? 'batch'}'s transaction; nothing else may use it until that ends`,
      { method: null },
    );
  }
}
