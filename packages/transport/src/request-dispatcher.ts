/**
 * JSON-RPC 2.0 dispatch: the method table, single requests and batches, the
 * concurrency bound, and the mapping of handler outcomes to response objects.
 * No sockets: the server hands it parsed JSON and sends what it returns.
 */
import type { Logger } from 'pino';
import { WriteError, isWriteError } from '@scribe/protocol';
import {
  checkRequest,
  errorResponse,
  successResponse,
  type JSONRPCID,
  type JSONRPCResponse,
} from './json-rpc-message.js';

/** What a handler learns about the caller. */
export interface RpcContext {
  /** The caller's ZeroMQ routing id, hex. Stable for one client connection. */
  peer: string;
}

/**
 * Serves one JSON-RPC method. The result must be JSON-serialisable. Throw a
 * `WriteError` to answer with its code; anything else thrown becomes INTERNAL with
 * a generic message (the real error is logged, never sent).
 */
export type RpcHandler = (params: unknown, context: RpcContext) => unknown | Promise<unknown>;

/** What to send back for one message: a response, a batch of them, or nothing. */
export type Reply = JSONRPCResponse | JSONRPCResponse[] | null;

/** The counters the dispatcher adds to (the server's stats object). */
export interface DispatchCounters {
  errors: number;
  dropped: number;
}

/** Settings of {@link RequestDispatcher}. */
export interface RequestDispatcherOptions {
  readonly logger: Logger;
  readonly maxBatchLength: number;
  readonly maxConcurrent: number;
  readonly counters: DispatchCounters;
  /** False once the server is shutting down: requests are then answered SHUTTING_DOWN. */
  readonly accepting: () => boolean;
}

type Outcome = JSONRPCResponse | null;

/** True for promises and other thenables. */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

const internalError = (): WriteError => new WriteError('INTERNAL', 'Internal error', { method: null });

/**
 * Runs requests against registered handlers. Synchronous handlers are answered
 * synchronously (no promise allocated); the returned promises never reject.
 *
 * json-rpc-2.0's `JSONRPCServer` is not used here; see json-rpc-message.ts for why.
 */
export class RequestDispatcher {
  readonly #methods = new Map<string, RpcHandler>();
  readonly #options: RequestDispatcherOptions;
  #inFlight = 0;

  constructor(options: RequestDispatcherOptions) {
    this.#options = options;
  }

  /** Handler calls in flight. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Registers (or replaces) the handler of `name`. */
  addMethod(name: string, handler: RpcHandler): void {
    this.#methods.set(name, handler);
  }

  /** Answers one parsed message: a request object or a batch. */
  dispatch(value: unknown, peer: string): Reply | Promise<Reply> {
    if (!Array.isArray(value)) return this.#entry(value, peer);
    const { maxBatchLength, counters } = this.#options;
    if (value.length === 0 || value.length > maxBatchLength) {
      const message =
        value.length === 0 ? 'Expected a non-empty batch' : `Batch of ${value.length} requests exceeds the limit of ${maxBatchLength}`;
      counters.errors++;
      return errorResponse(null, new WriteError('INVALID_REQUEST', message, { method: null }));
    }
    const outcomes = value.map((entry) => this.#entry(entry, peer));
    if (outcomes.some(isPromiseLike)) return Promise.all(outcomes).then(batchReply);
    return batchReply(outcomes as Outcome[]);
  }

  /**
   * JSON text of a reply. A result JSON cannot carry (a BigInt, a cycle) becomes
   * INTERNAL for its own id, leaving the rest of a batch intact.
   */
  encode(reply: JSONRPCResponse | JSONRPCResponse[]): string {
    try {
      return JSON.stringify(reply);
    } catch {
      const one = (r: JSONRPCResponse): string => {
        try {
          return JSON.stringify(r);
        } catch (error) {
          this.#options.logger.error({ err: error, id: r.id }, 'result is not JSON-serialisable; answered INTERNAL');
          this.#options.counters.errors++;
          return JSON.stringify(errorResponse(r.id, internalError()));
        }
      };
      return Array.isArray(reply) ? `[${reply.map(one).join(',')}]` : one(reply);
    }
  }

  /** Answers one request object. */
  #entry(entry: unknown, peer: string): Outcome | Promise<Outcome> {
    const checked = checkRequest(entry);
    if (!checked.ok) {
      this.#options.counters.errors++;
      return errorResponse(checked.id, checked.error);
    }
    const { id, method, params } = checked;
    const handler = this.#methods.get(method);
    if (handler === undefined) {
      const shown = method.length > 100 ? `${method.slice(0, 100)}…` : method;
      return this.#fail(id, new WriteError('METHOD_NOT_FOUND', `Unknown JSON-RPC method "${shown}"`, { method: null }));
    }
    if (!this.#options.accepting()) {
      return this.#fail(id, new WriteError('SHUTTING_DOWN', 'The server is shutting down', { method: null }));
    }
    const { maxConcurrent } = this.#options;
    if (this.#inFlight >= maxConcurrent) {
      if (id === undefined) this.#options.counters.dropped++;
      return this.#fail(id, new WriteError('OVERLOADED', `More than ${maxConcurrent} requests in flight`, { method: null }));
    }
    this.#inFlight++;
    let result: unknown;
    try {
      result = handler(params, { peer });
    } catch (error) {
      this.#inFlight--;
      return this.#handlerFailed(id, method, peer, error);
    }
    if (!isPromiseLike(result)) {
      this.#inFlight--;
      return id === undefined ? null : successResponse(id, result);
    }
    return Promise.resolve(result).then(
      (value) => {
        this.#inFlight--;
        return id === undefined ? null : successResponse(id, value);
      },
      (error: unknown) => {
        this.#inFlight--;
        return this.#handlerFailed(id, method, peer, error);
      },
    );
  }

  #handlerFailed(id: JSONRPCID | undefined, method: string, peer: string, error: unknown): Outcome {
    if (isWriteError(error)) return this.#fail(id, error);
    // The real error may hold a driver message, a path or a stack: log it, send a generic one.
    this.#options.logger.error({ err: error, method, peer }, 'handler threw a non-WriteError; answered INTERNAL');
    return this.#fail(id, internalError());
  }

  /** An error answer, or nothing for a notification (JSON-RPC never answers those). */
  #fail(id: JSONRPCID | undefined, error: WriteError): Outcome {
    if (id === undefined) return null;
    this.#options.counters.errors++;
    return errorResponse(id, error);
  }
}

function batchReply(outcomes: Outcome[]): Reply {
  const responses = outcomes.filter((r): r is JSONRPCResponse => r !== null);
  return responses.length > 0 ? responses : null;
}
