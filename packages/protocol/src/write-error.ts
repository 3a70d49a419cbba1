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
}

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

  /** The JSON-RPC error object for this error: safe to send (no stack, no cause). */
  toJsonRpc(): JsonRpcErrorObject {
    const data: WriteErrorData = { code: this.code, retryable: this.retryable, method: this.method };
    if (this.field !== undefined) data.field = this.field;
    return { code: JSON_RPC_ERROR_NUMBERS[this.code], message: this.message, data };
  }

  /**
   * Rebuilds a WriteError from a JSON-RPC error object received from a peer. An
   * object without scribe `data` is mapped by its number (unknown numbers are
   * INTERNAL).
   */
  static fromJsonRpc(error: { code: number; message?: unknown; data?: unknown }, method: string | null = null): WriteError {
    const message = typeof error.message === 'string' ? error.message : 'error without a message';
    const data = error.data;
    if (data !== null && typeof data === 'object' && isWriteErrorCode((data as { code?: unknown }).code)) {
      const d = data as Partial<WriteErrorData> & { code: WriteErrorCode };
      return new WriteError(d.code, message, {
        method: typeof d.method === 'string' ? d.method : method,
        ...(typeof d.field === 'string' ? { field: d.field } : {}),
        ...(typeof d.retryable === 'boolean' ? { retryable: d.retryable } : {}),
      });
    }
    return new WriteError(codeFromJsonRpcNumber(error.code), message, { method });
  }
}

/** True when `e` is a {@link WriteError} (also across package copies, by shape). */
export function isWriteError(e: unknown): e is WriteError {
  return e instanceof WriteError;
}
