import {
  JSON_RPC_ERROR_NUMBERS,
  RETRYABLE,
  codeFromJsonRpcNumber,
  isWriteErrorCode,
  type WriteErrorCode,
} from './error-codes.js';

/** The `data` member of every scribe JSON-RPC error object. */
export interface WriteErrorData {
  /** The stable code; switch on this, never on the message. */
  code: WriteErrorCode;
  /** Whether sending the same request again (same request id) can succeed. */
  retryable: boolean;
  /** The write name (`CreateMessage`), or null when the error is not about one write. */
  method: string | null;
  /** For INVALID_PARAMS: the dotted path of the offending field (`params.session_id`). */
  field?: string;
  /** For TIMEOUT after a deadline: whether the write is known not to have run. */
  executed?: boolean;
  /**
   * The underlying (driver) error of a failed write, as much of it as may cross the
   * wire: its class name and its code (`{"name": "SqliteError", "code":
   * "SQLITE_CONSTRAINT_TRIGGER"}`). Never its message, stack or any path: those stay
   * on the primary. Present only when the root of the error's cause chain has a code.
   */
  cause?: WireCause;
}

/** What of an error's root cause crosses the wire: see {@link WriteErrorData.cause}. */
export interface WireCause {
  /** The class name of the original error (`SqliteError`). */
  name: string;
  /** Its code (`SQLITE_CONSTRAINT_UNIQUE`, `SQLITE_BUSY`, `ENOSPC`, …). */
  code: string;
}

const WIRE_NAME = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;
const WIRE_CODE = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The original driver error of a write that failed on another node, rebuilt from
 * {@link WriteErrorData.cause}: its `code` and the `remoteName` of its class, so a
 * caller can switch on the driver's code on any node. The driver's own text is not
 * here (it never crosses the wire); the message says where it is.
 */
export class RemoteDriverError extends Error {
  override readonly name = 'RemoteDriverError';
  /** The driver's code (`SQLITE_CONSTRAINT_TRIGGER`). */
  readonly code: string;
  /** The class name the error had on the primary (`SqliteError`). */
  readonly remoteName: string;

  constructor(cause: WireCause) {
    super(`${cause.name} ${cause.code} on the primary (its message stays there)`);
    this.code = cause.code;
    this.remoteName = cause.name;
  }
}

/**
 * The last error of `error`'s cause chain (`error` itself when it has no cause): the
 * driver's error for a write the driver refused, on the primary the original one, on
 * a secondary its {@link RemoteDriverError}. Stops at 32 links and at a cycle.
 */
export function rootCause(error: unknown): unknown {
  let current = error;
  const seen = new Set<unknown>();
  while (seen.size < 32 && current instanceof Error && current.cause !== undefined && !seen.has(current)) {
    seen.add(current);
    current = current.cause;
  }
  return current;
}

/** The {@link WireCause} of an error's root cause, or undefined when the root is a WriteError or has no usable code. */
export function wireCauseOf(error: unknown): WireCause | undefined {
  const root = rootCause(error);
  if (root === error || isWriteError(root) || !(root instanceof Error)) return undefined;
  if (root instanceof RemoteDriverError) return { name: root.remoteName, code: root.code };
  const code = (root as { code?: unknown }).code;
  if (typeof code !== 'string' || !WIRE_CODE.test(code)) return undefined;
  return { name: WIRE_NAME.test(root.name) ? root.name : 'Error', code };
}

function parseWireCause(value: unknown): WireCause | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const { name, code } = value as { name?: unknown; code?: unknown };
  if (typeof name !== 'string' || typeof code !== 'string' || !WIRE_NAME.test(name) || !WIRE_CODE.test(code)) return undefined;
  return { name, code };
}

/**
 * The brand every {@link WriteError} carries, through the global symbol registry so
 * that it is the same symbol in every copy of `@scribe/protocol` loaded in a process
 * (an application and a dependency may each bring their own copy, and `instanceof`
 * only recognises errors made by its own copy's class).
 */
export const WRITE_ERROR_BRAND: unique symbol = Symbol.for('@scribe/protocol.WriteError');

/** A JSON-RPC 2.0 error object as scribe sends it. */
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: WriteErrorData;
}

/** Options for {@link WriteError}. */
export interface WriteErrorOptions {
  method?: string | null;
  field?: string;
  cause?: unknown;
  /** Overrides the code's default retryability (rarely right; see {@link RETRYABLE}). */
  retryable?: boolean;
}

/**
 * The one error type a write fails with, locally or across the wire.
 *
 * `code` is stable and machine-readable; `message` is for people and never holds a
 * stack trace, file path or raw driver text when it comes off the wire.
 */
export class WriteError extends Error {
  /** The brand {@link isWriteError} checks (the same in every copy of this package). */
  readonly [WRITE_ERROR_BRAND] = true as const;
  override readonly name = 'WriteError';
  readonly code: WriteErrorCode;
  readonly method: string | null;
  readonly field: string | undefined;
  readonly retryable: boolean;

  constructor(code: WriteErrorCode, message: string, options: WriteErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.method = options.method ?? null;
    this.field = options.field;
    this.retryable = options.retryable ?? RETRYABLE[code];
  }

  /** True when a retry with the same request id can succeed. */
  isRetryable(): boolean {
    return this.retryable;
  }

  /** The same error about another write name (used when a handler's error surfaces). */
  withMethod(method: string | null): WriteError {
    if (method === this.method) return this;
    return new WriteError(this.code, this.message, {
      method,
      ...(this.field === undefined ? {} : { field: this.field }),
      cause: this.cause ?? this,
      retryable: this.retryable,
    });
  }

  /**
   * The JSON-RPC error object for this error: safe to send (no stack; of the cause
   * chain only the root's class name and code, see {@link WriteErrorData.cause}).
   */
  toJsonRpc(): JsonRpcErrorObject {
    const data: WriteErrorData = { code: this.code, retryable: this.retryable, method: this.method };
    if (this.field !== undefined) data.field = this.field;
    const cause = wireCauseOf(this);
    if (cause !== undefined) data.cause = cause;
    return { code: JSON_RPC_ERROR_NUMBERS[this.code], message: this.message, data };
  }

  /**
   * Rebuilds a WriteError from a JSON-RPC error object received from a peer. An
   * object without scribe `data` is mapped by its number (unknown numbers are
   * INTERNAL). A `data.cause` becomes a {@link RemoteDriverError} `cause`.
   */
  static fromJsonRpc(error: { code: number; message?: unknown; data?: unknown }, method: string | null = null): WriteError {
    const message = typeof error.message === 'string' ? error.message : 'error without a message';
    const data = error.data;
    if (data !== null && typeof data === 'object' && isWriteErrorCode((data as { code?: unknown }).code)) {
      const d = data as Partial<WriteErrorData> & { code: WriteErrorCode };
      const cause = parseWireCause(d.cause);
      return new WriteError(d.code, message, {
        method: typeof d.method === 'string' ? d.method : method,
        ...(typeof d.field === 'string' ? { field: d.field } : {}),
        ...(typeof d.retryable === 'boolean' ? { retryable: d.retryable } : {}),
        ...(cause === undefined ? {} : { cause: new RemoteDriverError(cause) }),
      });
    }
    return new WriteError(codeFromJsonRpcNumber(error.code), message, { method });
  }
}

/**
 * True when `e` is a {@link WriteError}, made by this copy of `@scribe/protocol` or by
 * any other: it checks the {@link WRITE_ERROR_BRAND}, not `instanceof`. Use it rather
 * than `instanceof WriteError` in application code.
 */
export function isWriteError(e: unknown): e is WriteError {
  return typeof e === 'object' && e !== null && (e as { [WRITE_ERROR_BRAND]?: unknown })[WRITE_ERROR_BRAND] === true;
}
