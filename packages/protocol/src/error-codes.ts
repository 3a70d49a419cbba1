/**
 * The closed set of write error codes, their retryability and their JSON-RPC numbers.
 *
 * Codes are data (an `as const` array) so that the type, the validator and the
 * documentation table all derive from one list.
 */

/** Every code a write can fail with, on the wire (`error.data.code`) and in {@link WriteError}. */
export const WRITE_ERROR_CODES = [
  'PARSE_ERROR',
  'INVALID_REQUEST',
  'METHOD_NOT_FOUND',
  'INVALID_PARAMS',
  'CONFLICT',
  'NOT_FOUND',
  'TIMEOUT',
  'UNREACHABLE',
  'OVERLOADED',
  'NOT_PRIMARY',
  'SHUTTING_DOWN',
  'BUSY',
  'SCHEMA_MISMATCH',
  'DISABLED',
  'REQUEST_ID_REUSED',
  'DATABASE_GONE',
  'STORAGE_FULL',
  'STORAGE_IO',
  'INTERNAL',
] as const;

/** One of {@link WRITE_ERROR_CODES}. */
export type WriteErrorCode = (typeof WRITE_ERROR_CODES)[number];

/**
 * Whether a retry of the same request (same request id) can succeed.
 *
 * Transient conditions (the primary is unreachable, busy, overloaded, shutting down
 * or being replaced) are retryable; anything that says the request itself is wrong
 * is not, because sending it again gives the same answer.
 */
export const RETRYABLE: Readonly<Record<WriteErrorCode, boolean>> = Object.freeze({
  PARSE_ERROR: false,
  INVALID_REQUEST: false,
  METHOD_NOT_FOUND: false,
  INVALID_PARAMS: false,
  CONFLICT: false,
  NOT_FOUND: false,
  TIMEOUT: true,
  UNREACHABLE: true,
  OVERLOADED: true,
  NOT_PRIMARY: true,
  SHUTTING_DOWN: true,
  BUSY: true,
  SCHEMA_MISMATCH: false,
  DISABLED: false,
  REQUEST_ID_REUSED: false,
  // The three storage faults need someone to act (restore the file, free space,
  // check the disk) before a retry can succeed: surfaced at once, never retried
  // automatically into a TIMEOUT. Nothing was applied, so the same request id may
  // be sent again once the cause is fixed.
  DATABASE_GONE: false,
  STORAGE_FULL: false,
  STORAGE_IO: false,
  INTERNAL: false,
});

/**
 * JSON-RPC 2.0 error numbers. Standard numbers where the spec has one, the
 * -32000..-32099 server range for the rest. Stable: clients in other languages
 * may switch on them.
 */
export const JSON_RPC_ERROR_NUMBERS: Readonly<Record<WriteErrorCode, number>> = Object.freeze({
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL: -32603,
  TIMEOUT: -32001,
  UNREACHABLE: -32002,
  CONFLICT: -32003,
  NOT_FOUND: -32004,
  OVERLOADED: -32005,
  NOT_PRIMARY: -32006,
  SHUTTING_DOWN: -32007,
  BUSY: -32008,
  SCHEMA_MISMATCH: -32009,
  DISABLED: -32010,
  REQUEST_ID_REUSED: -32011,
  DATABASE_GONE: -32012,
  STORAGE_FULL: -32013,
  STORAGE_IO: -32014,
});

const CODE_SET: ReadonlySet<string> = new Set(WRITE_ERROR_CODES);

/** True when `value` is one of {@link WRITE_ERROR_CODES}. */
export function isWriteErrorCode(value: unknown): value is WriteErrorCode {
  return typeof value === 'string' && CODE_SET.has(value);
}

/** Returns `value` as a code, or throws `Expected one of …, got …`. */
export function assertWriteErrorCode(value: unknown): WriteErrorCode {
  if (isWriteErrorCode(value)) return value;
  throw new TypeError(
    `Expected a write error code (one of ${WRITE_ERROR_CODES.join(', ')}), got ${describe(value)}`,
  );
}

/** The code a JSON-RPC error number stands for, or `INTERNAL` when it is unknown. */
export function codeFromJsonRpcNumber(n: number): WriteErrorCode {
  for (const code of WRITE_ERROR_CODES) {
    if (JSON_RPC_ERROR_NUMBERS[code] === n) return code;
  }
  return 'INTERNAL';
}

/** `"foo" (string)` style description for validation messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array (length ${value.length})`;
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `${JSON.stringify(shown)} (string)`;
  }
  if (typeof value === 'object') return 'an object';
  return `${String(value)} (${typeof value})`;
}
