import type Database from 'better-sqlite3';
import { WriteError } from '@scribe/protocol';
import { mapDriverError } from './driver-errors.js';
import type { StatementCache } from './statement-cache.js';

/** PRAGMAs that take an argument and only read (schema introspection and checks). */
const READING_PRAGMA = /^(table_info|table_xinfo|table_list|index_list|index_info|index_xinfo|foreign_key_list|foreign_key_check|integrity_check|quick_check)$/i;
const PRAGMA_WITH_ARGUMENT = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?(?:\*\/|$))*PRAGMA\s+(?:\w+\s*\.\s*)?(\w+)\s*[=(]/i;

/** True for `PRAGMA name = value` and `PRAGMA name(value)` unless `name` only reads. */
function setsPragma(sql: string): boolean {
  const m = PRAGMA_WITH_ARGUMENT.exec(sql);
  return m !== null && !READING_PRAGMA.test(m[1]!);
}

function refused(): WriteError {
  return new WriteError('INVALID_PARAMS', 'query() runs read-only statements; send writes through the write path', {
    method: 'query',
    field: 'sql',
  });
}

/**
 * Runs a caller's SQL on a store's connection if, and only if, it only reads:
 * INVALID_PARAMS for anything that writes, and for what SQLite calls read-only but
 * would change every later write on the connection (transaction control, ATTACH,
 * setting PRAGMAs). Driver errors are mapped (INVALID_PARAMS for SQL that does not
 * compile). The caller's SQL is compiled for each call, not kept in the statement cache.
 */
export function readOnlyQuery<T>(db: Database.Database, cache: StatementCache, sql: string, params?: readonly unknown[] | Record<string, unknown>): T[] {
  cache.assertFree('query');
  // Checked before prepare: SQLite applies many setting PRAGMAs while compiling them.
  if (setsPragma(sql)) throw refused();
  let stmt: Database.Statement;
  try {
    stmt = db.prepare(sql);
  } catch (e) {
    throw mapDriverError(e, 'query');
  }
  // SQLite calls transaction control, ATTACH and setting PRAGMAs "read-only" (they write no page), but on
  // the primary's connection they would change every later write: refuse them too (they return no rows).
  if (!stmt.readonly || !stmt.reader) throw refused();
  try {
    if (params === undefined) return stmt.all() as T[];
    return (Array.isArray(params) ? stmt.all(...params) : stmt.all(params)) as T[];
  } catch (e) {
    throw mapDriverError(e, 'query');
  }
}
