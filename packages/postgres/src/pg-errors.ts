import { WriteError, type WriteErrorCode } from '@scribe/protocol';

/**
 * PostgreSQL errors as scribe's {@link WriteError} codes: the SQLSTATE a server error
 * carries (`error.code`, five characters), the Node.js code of a socket error, or one
 * of node-postgres's own connection messages (it gives those no code). Never by the
 * server's message text: the mapped message names the write and the kind of failure
 * but holds no server text (which may name files, roles or values); the original
 * error is kept as `cause` for the log.
 *
 * The constraint classes mirror SQLite's mapping (`@scribe/store`'s driver-errors):
 * the same violation gives the same code on both engines.
 */

type Entry = readonly [sqlstate: string, code: WriteErrorCode, message: string];

/** Exact SQLSTATEs, looked up first. */
const BY_SQLSTATE: ReadonlyMap<string, readonly [WriteErrorCode, string]> = new Map(
  (
    [
      // class 23: integrity constraints (as SQLite's SQLITE_CONSTRAINT_*)
      ['23505', 'CONFLICT', 'a row with this unique key already exists'],
      ['23503', 'CONFLICT', 'a referenced row does not exist (or a row still refers to this one)'],
      ['23502', 'INVALID_PARAMS', 'a required value is missing'],
      ['23514', 'CONFLICT', 'a value breaks a check constraint'],
      ['23P01', 'CONFLICT', 'a row conflicts with an exclusion constraint'],
      // PL/pgSQL RAISE: a trigger refused the change (SQLITE_CONSTRAINT_TRIGGER)
      ['P0001', 'CONFLICT', 'a trigger refused the change'],
      // class 40: the transaction lost a race; the same request can run again
      ['40001', 'BUSY', 'the transaction conflicted with a concurrent one (serialization failure); nothing was applied'],
      ['40P01', 'BUSY', 'the transaction was chosen as a deadlock victim; nothing was applied'],
      ['40002', 'CONFLICT', 'a constraint refused the change at commit'],
      // The connection was lost during COMMIT: the outcome is unknown, settle it by request id.
      ['40003', 'UNREACHABLE', 'the connection was lost while the transaction completed; its outcome is unknown'],
      ['55P03', 'BUSY', 'a row or table lock was not available'],
      ['57014', 'TIMEOUT', 'the statement was canceled (statement timeout or a cancel request)'],
      // class 57: operator intervention
      ['57P01', 'SHUTTING_DOWN', 'the server is shutting down (or an administrator ended this connection)'],
      ['57P02', 'UNREACHABLE', 'the server crashed and ended this connection'],
      ['57P03', 'UNREACHABLE', 'the server is not accepting connections yet (starting up or recovering)'],
      ['57P04', 'UNREACHABLE', 'the database was dropped'],
      ['57P05', 'UNREACHABLE', 'the connection was idle too long and the server ended it'],
      // A read-only transaction or a hot standby: this connection cannot write (SQLITE_READONLY).
      ['25006', 'NOT_PRIMARY', 'this connection cannot write (a read-only transaction or a standby server)'],
      // class 53: insufficient resources
      ['53100', 'STORAGE_FULL', 'the server\'s disk is full; nothing was applied'],
      ['53200', 'OVERLOADED', 'the server is out of memory'],
      ['53300', 'OVERLOADED', 'the server has no free connection slots'],
      ['53400', 'OVERLOADED', 'a server limit was exceeded'],
      // class 58: system errors
      ['58030', 'STORAGE_IO', 'the server\'s disk reported an I/O error; nothing was applied'],
      // class XX: the server's own faults
      ['XX001', 'INTERNAL', 'the server found corrupt data'],
      ['XX002', 'INTERNAL', 'the server found a corrupt index'],
    ] satisfies Entry[]
  ).map(([state, code, message]) => [state, [code, message]] as const),
);

/** SQLSTATE classes (the first two characters), looked up when the exact state is not listed. */
const BY_CLASS: ReadonlyMap<string, readonly [WriteErrorCode, string]> = new Map([
  ['23', ['CONFLICT', 'a constraint refused the change']],
  ['40', ['BUSY', 'the transaction was rolled back by the server; nothing was applied']],
  // connection_exception
  ['08', ['UNREACHABLE', 'the connection to the server failed']],
  ['57', ['UNREACHABLE', 'the server ended the operation']],
  ['53', ['OVERLOADED', 'the server is short of resources']],
  // data_exception: a value that does not fit its type (SQLITE_MISMATCH, SQLITE_TOOBIG)
  ['22', ['INVALID_PARAMS', 'a value does not fit its column or operation']],
  // syntax_error_or_access_rule_violation (SQLITE_ERROR); 42501 (permission) is below
  ['42', ['INVALID_PARAMS', 'the statement is not valid SQL for this schema']],
  // invalid_authorization_specification: wrong credentials, a configuration fault
  ['28', ['INTERNAL', 'the server refused the credentials']],
  ['58', ['INTERNAL', 'the server reported a system error']],
  ['XX', ['INTERNAL', 'the server reported an internal error']],
]);

const PERMISSION: readonly [WriteErrorCode, string] = ['INTERNAL', 'the server refused permission for the statement'];

/** Node.js socket error codes that mean the server could not be reached or the connection dropped. */
const SOCKET_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * node-postgres's own connection errors, which carry no code (pg 8). Matched by the
 * start of pg's message, never the server's.
 */
const PG_CLIENT_MESSAGES: ReadonlyArray<readonly [prefix: string, code: WriteErrorCode, message: string]> = [
  ['Connection terminated', 'UNREACHABLE', 'the connection to the server was lost'],
  ['timeout exceeded when trying to connect', 'UNREACHABLE', 'no connection to the server within the connect timeout'],
  ['Client has encountered a connection error and is not queryable', 'UNREACHABLE', 'the connection to the server was lost'],
  ['Cannot use a pool after calling end on the pool', 'SHUTTING_DOWN', 'the connection pool is closed'],
  ['Client was closed and is not queryable', 'SHUTTING_DOWN', 'the connection is closed'],
];

/** The SQLSTATE of a PostgreSQL server error (`23505`, …), if it has one. */
export function pgSqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** What a PostgreSQL or connection error means for a write: its code and a message without server text. */
export function classifyPgError(error: unknown): readonly [WriteErrorCode, string] | undefined {
  const state = pgSqlState(error);
  if (state !== undefined) {
    if (state === '42501') return PERMISSION;
    return BY_SQLSTATE.get(state) ?? BY_CLASS.get(state.slice(0, 2));
  }
  const e = error as { code?: unknown; syscall?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string') {
    if (SOCKET_CODES.has(e.code)) return ['UNREACHABLE', 'the server could not be reached'];
    // A unix socket that is not there (or not ours): no server at that address.
    if ((e.code === 'ENOENT' || e.code === 'EACCES') && e.syscall === 'connect') return ['UNREACHABLE', 'the server could not be reached'];
  }
  if (error instanceof Error && typeof e?.message === 'string') {
    for (const [prefix, code, message] of PG_CLIENT_MESSAGES) if (error.message.startsWith(prefix)) return [code, message];
  }
  return undefined;
}

/**
 * Maps an error from `pg` (a server error, a socket error, a client error) to a
 * {@link WriteError}; PostgreSQL's counterpart of `mapDriverError`. A WriteError
 * passes through (given the method if it has none). Binding errors (RangeError,
 * TypeError: a value or a count that does not fit) are INVALID_PARAMS, as on SQLite;
 * anything else is INTERNAL.
 */
export function mapPgError(error: unknown, method: string | null): WriteError {
  if (error instanceof WriteError) return method === null || error.method !== null ? error : error.withMethod(method);
  const prefix = method === null ? '' : `${method}: `;
  const known = classifyPgError(error);
  if (known !== undefined) return new WriteError(known[0], `${prefix}${known[1]}`, { method, cause: error });
  if (error instanceof RangeError || error instanceof TypeError) {
    return new WriteError('INVALID_PARAMS', `${prefix}the statement's parameters do not fit it`, { method, cause: error });
  }
  return new WriteError('INTERNAL', `${prefix}the write failed inside the store`, { method, cause: error });
}
