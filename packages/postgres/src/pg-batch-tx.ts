import { WriteError } from '@scribe/protocol';
import type { RawSqlRunResult, RawSqlTx, SqlParams } from '@scribe/store';
import { pgSqlState } from './pg-errors.js';
import { PgSqlTx, type PgQueryable } from './pg-sql-tx.js';
import { preparePgQuery } from './sql-placeholders.js';

/** SQLSTATE classes of a statement that does not parse or does not fit the schema (42: syntax or access rule; 0A: not supported). */
const NOT_ONE_VALID_STATEMENT = new Set(['42', '0A']);

/**
 * The {@link PgSqlTx} of a batch's transaction, with the raw-SQL capability behind
 * `Exec` and `ExecBatch` ({@link RawSqlTx}). A raw statement always goes through the
 * extended query protocol, which takes exactly one statement (PostgreSQL refuses
 * `a; b` there), with its values bound, never interpolated. A statement that does not
 * parse or does not fit the schema is INVALID_PARAMS naming the field, as on SQLite;
 * the write's savepoint undoes whatever it began. PostgreSQL has no rowid:
 * `lastInsertRowid` is 0.
 */
export class PgBatchTx extends PgSqlTx implements RawSqlTx {
  readonly #client: PgQueryable;

  constructor(client: PgQueryable) {
    super(client);
    this.#client = client;
  }

  /** Runs one raw statement of `method` (its SQL came in `field`) inside the write's savepoint. */
  async execRaw(sql: string, params: SqlParams | undefined, method: string, field: string): Promise<RawSqlRunResult> {
    const query = { ...preparePgQuery(sql, params), queryMode: 'extended' as const };
    try {
      const result = await this.#client.query(query);
      return { changes: result.rowCount ?? 0, lastInsertRowid: 0 };
    } catch (e) {
      const state = pgSqlState(e);
      if (state !== undefined && NOT_ONE_VALID_STATEMENT.has(state.slice(0, 2))) {
        throw new WriteError('INVALID_PARAMS', `${method}: ${field} is not one valid SQL statement for this schema`, { method, field, cause: e });
      }
      throw e;
    }
  }
}
