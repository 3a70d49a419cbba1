import { WriteError } from '@scribe/protocol';
import type { SqlParams } from '@scribe/store';
import type { PgQueryable } from './pg-sql-tx.js';
import { preparePgQuery } from './sql-placeholders.js';

/**
 * The statements `query()` runs: those that start (after comments, blanks and opening
 * parentheses) with a keyword that reads. Everything else (transaction control, `SET`,
 * `PREPARE`, `LISTEN`, `LOCK`, `DO`, `CALL`, `COPY`, DDL, DML) is refused before it
 * reaches the server. A block comment that nests (PostgreSQL allows it) ends the match
 * early and is refused: the safe side.
 */
const READING_START = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/|\()*(?:SELECT|WITH|VALUES|TABLE|SHOW|EXPLAIN)\b/i;

/** SQLSTATE of a statement that tried to write in a READ ONLY transaction. */
const READ_ONLY_SQL_TRANSACTION = '25006';

/** The refusal `query()` answers for a statement that does not only read, as on SQLite. */
export function readOnlyRefusal(cause?: unknown): WriteError {
  return new WriteError('INVALID_PARAMS', 'query() runs read-only statements; send writes through the write path', {
    method: 'query',
    field: 'sql',
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Throws {@link readOnlyRefusal} unless `sql` starts with a keyword that reads: checked before a connection is taken. */
export function assertReads(sql: string): void {
  if (!READING_START.test(sql)) throw readOnlyRefusal();
}

/**
 * Runs a caller's SQL for `query()` on `client`, if, and only if, it is one statement
 * that only reads; INVALID_PARAMS (field `sql`) otherwise, as SQLite's `Store.query`:
 *
 * - it must start with a reading keyword ({@link READING_START}): transaction control
 *   and session settings are refused, as SQLite refuses `BEGIN` and setting PRAGMAs;
 * - it runs through the extended query protocol, which takes exactly one statement
 *   (`SELECT 1; COMMIT; INSERT …` is refused by the server, not run in pieces);
 * - it runs inside `BEGIN READ ONLY … ROLLBACK`, so the server refuses anything that
 *   writes (a data-modifying `WITH`, `EXPLAIN ANALYZE` of a write, `nextval`), and a
 *   `set_config` in a `SELECT` is undone with the transaction.
 *
 * The connection goes back to the pool as it came: nothing of the caller's statement
 * outlives it (a session-level advisory lock taken in a `SELECT` is the exception
 * PostgreSQL's functions allow; `docs/postgresql.md` says so). Driver errors are the
 * caller's to map.
 */
export async function readOnlyPgQuery<T>(client: PgQueryable, sql: string, params?: SqlParams): Promise<T[]> {
  assertReads(sql);
  await client.query({ text: 'BEGIN READ ONLY', values: [] });
  try {
    const result = await client.query({ ...preparePgQuery(sql, params), queryMode: 'extended' });
    return result.rows as T[];
  } catch (e) {
    if ((e as { code?: unknown } | null)?.code === READ_ONLY_SQL_TRANSACTION) throw readOnlyRefusal(e);
    throw e;
  } finally {
    await client.query({ text: 'ROLLBACK', values: [] });
  }
}
