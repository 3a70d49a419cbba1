import { WriteError, describe, isWriteError, rootCause } from '@scribe/protocol';

/**
 * Every code a {@link ShadowSessionError} carries. Closed set: switch on it.
 *
 * Codes a caller can see without a round trip (EMPTY_SESSION_ID, INVALID_IDENTIFIER,
 * INVALID_ROW for bad column names) are checked locally before anything is sent; the
 * rest are decided by the primary inside the write and come back as a `WriteError`
 * that {@link toShadowSessionError} maps to the code (see the README's table).
 */
export const SHADOW_ERROR_CODES = [
  /** `open('')`: a session id must be a non-empty string. */
  'EMPTY_SESSION_ID',
  /** A session with this id is already open (in any process). Wire: CONFLICT. */
  'DUPLICATE_SESSION',
  /** A table or column name that is not `[A-Za-z_][A-Za-z0-9_]*`, or a reserved table. */
  'INVALID_IDENTIFIER',
  /** The shadow table or the seed table does not exist. Wire: NOT_FOUND. */
  'TABLE_NOT_FOUND',
  /** The shadow table has no `session_id` column. Wire: INVALID_PARAMS, field `params.shadow_table.session_id`. */
  'MISSING_SESSION_ID_COLUMN',
  /** The seed table's rows do not fit the shadow table; `cause` is the store's WriteError mapped from the driver's. */
  'SEED_MISMATCH',
  /** The session is not open (never opened, closed, or reaped). Wire: NOT_FOUND. */
  'SESSION_NOT_FOUND',
  /** A row, `set` or `where` names a column the shadow table lacks, sets `session_id`, or the driver refused the values. */
  'INVALID_ROW',
  /** A close failed (its rows are still there); `cause` says why. For the session's own close, `onClose` was called with this error; a reap reports it in its result only. */
  'CLOSE_FAILED',
] as const;

/** One of {@link SHADOW_ERROR_CODES}. */
export type ShadowErrorCode = (typeof SHADOW_ERROR_CODES)[number];

const CODE_SET: ReadonlySet<string> = new Set(SHADOW_ERROR_CODES);

/** True when `value` is one of {@link SHADOW_ERROR_CODES}. */
export function isShadowErrorCode(value: unknown): value is ShadowErrorCode {
  return typeof value === 'string' && CODE_SET.has(value);
}

/** Options of {@link ShadowSessionError}. */
export interface ShadowSessionErrorOptions {
  /** The session the operation was about ('' when there was none). */
  sessionId: string;
  /** The error underneath: the primary's WriteError, or the driver's error on a primary. */
  cause?: unknown;
}

/** The error every shadow-session operation fails with for a domain reason. */
export class ShadowSessionError extends Error {
  override readonly name = 'ShadowSessionError';
  readonly code: ShadowErrorCode;
  readonly sessionId: string;

  constructor(code: ShadowErrorCode, message: string, options: ShadowSessionErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.sessionId = options.sessionId;
  }

  /**
   * The driver's error underneath, when the database refused the operation (a
   * trigger, a constraint, a seed that does not fit): the end of the `cause` chain.
   * On the primary it is the driver's own error (better-sqlite3's `SqliteError`);
   * on a secondary it is the `RemoteDriverError` rebuilt from the wire, with the
   * same `code` (`SQLITE_CONSTRAINT_TRIGGER`) but without the driver's text, which
   * never leaves the primary. Undefined when no driver error is involved.
   */
  get driverError(): (Error & { code: string }) | undefined {
    const root = rootCause(this);
    if (root === this || isWriteError(root) || !(root instanceof Error)) return undefined;
    return typeof (root as { code?: unknown }).code === 'string' ? (root as Error & { code: string }) : undefined;
  }
}

/**
 * The tag a write handler puts after the write name in its message
 * (`OpenShadowSession: DUPLICATE_SESSION: …`), so the domain code survives the wire,
 * where only WriteError's closed set of codes travels.
 */
export function taggedMessage(method: string, code: ShadowErrorCode, text: string): string {
  return `${method}: ${code}: ${text}`;
}

const TAGGED = /^[A-Za-z]+: ([A-Z_]+): ([\s\S]*)$/;

/** Fields of INVALID_PARAMS (from the write schemas) and the domain code each one means. */
const FIELD_CODES: ReadonlyArray<readonly [prefix: string, code: ShadowErrorCode]> = [
  ['params.session_id', 'EMPTY_SESSION_ID'],
  ['params.shadow_table', 'INVALID_IDENTIFIER'],
  ['params.seed_from_table', 'INVALID_IDENTIFIER'],
  ['params.rows', 'INVALID_ROW'],
  ['params.set', 'INVALID_ROW'],
  ['params.where', 'INVALID_ROW'],
];

/**
 * Maps an error from one of the shadow writes to a {@link ShadowSessionError}:
 * by the tag in the message when the handler set one, else by the INVALID_PARAMS
 * field of a schema refusal. Anything else (TIMEOUT, UNREACHABLE, OVERLOADED, …) is
 * returned unchanged, so `isRetryable()` still answers for transient failures.
 */
export function toShadowSessionError(error: unknown, sessionId: string, operation: string): unknown {
  if (error instanceof ShadowSessionError || !(error instanceof WriteError)) return error;
  const tagged = TAGGED.exec(error.message);
  if (tagged !== null && isShadowErrorCode(tagged[1])) {
    return new ShadowSessionError(tagged[1], `${operation}: ${tagged[2]}`, { sessionId, cause: error });
  }
  if (error.code === 'INVALID_PARAMS' && error.field !== undefined) {
    const field = error.field;
    for (const [prefix, code] of FIELD_CODES) {
      if (field === prefix || field.startsWith(`${prefix}.`)) {
        return new ShadowSessionError(code, `${operation}: ${error.message}`, { sessionId, cause: error });
      }
    }
  }
  return error;
}

/** `Expected …, got …` for a bad argument of a local call (a programming error, not a domain one). */
export function argumentError(name: string, expected: string, value: unknown): TypeError {
  return new TypeError(`Expected '${name}' to be ${expected}, got ${describe(value)}`);
}
