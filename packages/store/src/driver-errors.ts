import { WriteError, type WriteErrorCode } from '@scribe/protocol';

/** SQLite extended result codes (as better-sqlite3 reports them in `error.code`) and what each means for a write. */
const CODE_MAP: ReadonlyArray<readonly [prefix: string, code: WriteErrorCode, message: string]> = [
  ['SQLITE_CONSTRAINT_PRIMARYKEY', 'CONFLICT', 'a row with this id already exists'],
  ['SQLITE_CONSTRAINT_UNIQUE', 'CONFLICT', 'a row with this unique key already exists'],
  ['SQLITE_CONSTRAINT_FOREIGNKEY', 'CONFLICT', 'a referenced row does not exist (or a row still refers to this one)'],
  ['SQLITE_CONSTRAINT_NOTNULL', 'INVALID_PARAMS', 'a required value is missing'],
  ['SQLITE_CONSTRAINT_CHECK', 'CONFLICT', 'a value breaks a check constraint'],
  ['SQLITE_CONSTRAINT_TRIGGER', 'CONFLICT', 'a trigger refused the change'],
  ['SQLITE_CONSTRAINT', 'CONFLICT', 'a constraint refused the change'],
  ['SQLITE_BUSY', 'BUSY', 'the database is busy'],
  ['SQLITE_LOCKED', 'BUSY', 'the database is locked'],
  // SQLite's own check that the file it has open is still the one at its path.
  ['SQLITE_READONLY_DBMOVED', 'DATABASE_GONE', 'the database file was removed or replaced under the primary'],
  ['SQLITE_READONLY', 'NOT_PRIMARY', 'this connection cannot write'],
  ['SQLITE_MISMATCH', 'INVALID_PARAMS', 'a value has the wrong type for its column'],
  ['SQLITE_TOOBIG', 'INVALID_PARAMS', 'a value is too big'],
  ['SQLITE_RANGE', 'INVALID_PARAMS', 'the statement got the wrong number of parameters'],
  ['SQLITE_ERROR', 'INVALID_PARAMS', 'the statement is not valid SQL for this schema'],
  ['SQLITE_FULL', 'STORAGE_FULL', 'the disk (or the database size limit) is full; nothing was applied'],
  ['SQLITE_IOERR', 'STORAGE_IO', 'the disk reported an I/O error; nothing was applied'],
  ['SQLITE_CORRUPT', 'INTERNAL', 'the database file is corrupt'],
  ['SQLITE_NOTADB', 'INTERNAL', 'the file is not a database'],
  ['SQLITE_CANTOPEN', 'INTERNAL', 'the database file cannot be opened'],
];

/** The SQLite result code of a driver error (`SQLITE_CONSTRAINT_UNIQUE`, …), if it has one. */
export function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/** The codes that say the storage under the database failed, not the write: never recorded as a write's outcome. */
export const STORAGE_FAULT_CODES: ReadonlySet<WriteErrorCode> = new Set<WriteErrorCode>(['DATABASE_GONE', 'STORAGE_FULL', 'STORAGE_IO']);

/** True for a {@link WriteError} whose code is one of {@link STORAGE_FAULT_CODES}. */
export function isStorageFault(error: unknown): boolean {
  return error instanceof WriteError && STORAGE_FAULT_CODES.has(error.code);
}

/**
 * Maps a driver error to a {@link WriteError} by its SQLite result code, never by its
 * message text. The mapped message names the write and the kind of failure but holds
 * no raw driver text or path; the driver error is kept as `cause` for the log.
 */
export function mapDriverError(error: unknown, method: string | null): WriteError {
  if (error instanceof WriteError) return method === null || error.method !== null ? error : error.withMethod(method);
  const code = sqliteCode(error);
  const prefix = method === null ? '' : `${method}: `;
  if (code !== undefined) {
    for (const [known, mapped, message] of CODE_MAP) {
      if (code === known || code.startsWith(`${known}_`)) {
        return new WriteError(mapped, `${prefix}${message}`, { method, cause: error });
      }
    }
  }
  if (error instanceof RangeError || error instanceof TypeError) {
    // better-sqlite3 throws these for bad bindings (unsupported value types, missing named parameters).
    return new WriteError('INVALID_PARAMS', `${prefix}the statement's parameters do not fit it`, { method, cause: error });
  }
  return new WriteError('INTERNAL', `${prefix}the write failed inside the store`, { method, cause: error });
}
