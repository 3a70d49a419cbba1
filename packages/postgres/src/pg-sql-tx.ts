import type { WriteError } from '@scribe/protocol';
import type { SqlDialect, SqlParams, SqlRunResult, SqlTx } from '@scribe/store';
import { mapPgError } from './pg-errors.js';
import { preparePgQuery } from './sql-placeholders.js';

/**
 * What {@link PgSqlTx} needs from a connection: a pg `Client`, `PoolClient` or `Pool`
 * (a pool runs each query on whichever connection is free: fine for single reads,
 * never for a transaction).
 */
export interface PgQueryable {
  query(config: { text: string; values: unknown[]; queryMode?: 'extended' }): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

/**
 * The engine-neutral {@link SqlTx} over a PostgreSQL connection: `?` placeholders
 * (or `:name`/`@name`/`$name` with an object of values) numbered for PostgreSQL,
 * rows parsed to SQLite's shapes by the pool's type parsers. It holds no transaction
 * itself: whoever gives it a client has begun one (or runs single statements).
 * Errors are the driver's; {@link mapError} (`mapPgError`) maps them.
 */
export class PgSqlTx implements SqlTx {
  /** Always `postgres`. */
  readonly dialect: SqlDialect = 'postgres';
  readonly #client: PgQueryable;

  /** Wraps a client (or a pool, for reads outside a transaction). */
  constructor(client: PgQueryable) {
    this.#client = client;
  }

  /** The first row, or undefined. */
  async get<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T | undefined> {
    const result = await this.#client.query(preparePgQuery(sql, params));
    return result.rows[0] as T | undefined;
  }

  /** Every row. */
  async all<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T[]> {
    const result = await this.#client.query(preparePgQuery(sql, params));
    return result.rows as T[];
  }

  /** Runs a statement that writes; `changes` is the rows it inserted, updated or deleted. */
  async run(sql: string, params?: SqlParams): Promise<SqlRunResult> {
    const result = await this.#client.query(preparePgQuery(sql, params));
    return { changes: result.rowCount ?? 0 };
  }

  /** PostgreSQL's mapping of a driver or connection error (`mapPgError`). */
  mapError(error: unknown, method: string | null): WriteError {
    return mapPgError(error, method);
  }
}
