import { pino, type Logger } from 'pino';
import { WriteError, requestIdReusedError, uuidv7, type WriteRequest } from '@scribe/protocol';
import { backoffDelay, DEFAULT_BASE_DELAY_MS, DEFAULT_MAX_DELAY_MS, type RetryPolicy } from './retry-policy.js';

/** Default budget of a forwarded write, retries included. */
export const DEFAULT_WRITE_TIMEOUT_MS = 5_000;
/** Default budget of a write its definition marks long. */
export const DEFAULT_LONG_WRITE_TIMEOUT_MS = 30_000;
/**
 * How much earlier than the caller's deadline the primary must stop starting the
 * write (capped at a tenth of the budget). The margin lets a transaction that
 * started just before the primary-side deadline commit before the caller checks the
 * request record at its own deadline.
 */
export const DEFAULT_DEADLINE_MARGIN_MS = 250;

/**
 * Sends one attempt of a write to whoever executes writes now: the local coordinator
 * on a primary, the primary's ROUTER on a secondary. Rejects with a WriteError.
 */
export type WriteTarget = (request: WriteRequest, timeoutMs: number) => Promise<unknown>;

/**
 * What the forwarder learns from the local database after a TIMEOUT: the recorded
 * outcome of the request id, and the write it was recorded for (when known; a
 * record of another write means the request id was reused).
 */
export type RecordedOutcome = ({ ok: true; result: unknown } | { ok: false; error: WriteError }) & { method?: string };

/** Per-call options of {@link WriteForwarder.write}. */
export interface WriteCallOptions {
  /** Budget for the whole call, retries included. Default 5 s, or 30 s for long writes. */
  timeoutMs?: number;
  /** Absolute deadline; the earlier of this and `timeoutMs` wins. */
  deadline?: Date;
  /** Reuse a request id (e.g. one the application persisted before a crash). */
  requestId?: string;
}

/** Everything a {@link WriteForwarder} is built from. */
export interface WriteForwarderOptions {
  /** This node's instance id, sent as `meta.source_instance_id`. */
  instanceId: string;
  /** Where attempts go; can be swapped later with {@link WriteForwarder.setTarget}. */
  target?: WriteTarget;
  /** True for writes that get the long default timeout. */
  isLong?: (method: string) => boolean;
  /**
   * Looks a request id up in the local database (the idempotency record). Used after
   * a TIMEOUT to tell the caller what really happened instead of leaving it to guess.
   */
  findOutcome?: (requestId: string) => RecordedOutcome | undefined;
  defaultTimeoutMs?: number;
  longTimeoutMs?: number;
  /** See {@link DEFAULT_DEADLINE_MARGIN_MS}. */
  deadlineMarginMs?: number;
  retry?: Partial<RetryPolicy>;
  logger?: Logger;
  /** Injected by tests. */
  clock?: () => number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Sends writes with a deadline, retries retryable failures with backoff and jitter
 * reusing the request id (the primary applies a request id at most once), and after
 * a final TIMEOUT consults the local request record.
 */
export class WriteForwarder {
  readonly #instanceId: string;
  #target: WriteTarget | undefined;
  readonly #isLong: (method: string) => boolean;
  readonly #findOutcome: WriteForwarderOptions['findOutcome'];
  readonly #defaultTimeoutMs: number;
  readonly #longTimeoutMs: number;
  readonly #marginMs: number;
  readonly #retry: RetryPolicy;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #random: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #targetWaiters: Array<() => void> = [];
  #closedWith: WriteError | undefined;

  constructor(options: WriteForwarderOptions) {
    if (typeof options.instanceId !== 'string' || options.instanceId.length === 0) {
      throw new TypeError(`Expected 'instanceId' to be a non-empty string, got ${String(options.instanceId)}`);
    }
    this.#instanceId = options.instanceId;
    this.#target = options.target;
    this.#isLong = options.isLong ?? (() => false);
    this.#findOutcome = options.findOutcome;
    this.#defaultTimeoutMs = positive('defaultTimeoutMs', options.defaultTimeoutMs, DEFAULT_WRITE_TIMEOUT_MS);
    this.#longTimeoutMs = positive('longTimeoutMs', options.longTimeoutMs, DEFAULT_LONG_WRITE_TIMEOUT_MS);
    this.#marginMs = options.deadlineMarginMs === 0 ? 0 : positive('deadlineMarginMs', options.deadlineMarginMs, DEFAULT_DEADLINE_MARGIN_MS);
    this.#retry = Object.freeze({
      baseDelayMs: positive('retry.baseDelayMs', options.retry?.baseDelayMs, DEFAULT_BASE_DELAY_MS),
      maxDelayMs: positive('retry.maxDelayMs', options.retry?.maxDelayMs, DEFAULT_MAX_DELAY_MS),
    });
    this.#log = (options.logger ?? pino({ level: 'silent' })).child({ component: 'forwarder' });
    this.#clock = options.clock ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Points later attempts at a new target (after a role change or failover). */
  setTarget(target: WriteTarget | undefined): void {
    this.#target = target;
    if (target !== undefined) {
      const waiters = this.#targetWaiters;
      this.#targetWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /**
   * Refuses every later write, and every write waiting for a target, with `error`
   * (the node passes SHUTTING_DOWN "node closed"). Attempts already sent settle as
   * they will.
   */
  close(error: WriteError): void {
    this.#closedWith = error;
    this.#target = undefined;
    const waiters = this.#targetWaiters;
    this.#targetWaiters = [];
    for (const wake of waiters) wake();
  }

  /** The write function a Querier is built on. */
  readonly write = (method: string, params: unknown, options: WriteCallOptions = {}): Promise<unknown> =>
    this.#write(method, params, options);

  async #write(method: string, params: unknown, options: WriteCallOptions): Promise<unknown> {
    const start = this.#clock();
    const budget = options.timeoutMs ?? (this.#isLong(method) ? this.#longTimeoutMs : this.#defaultTimeoutMs);
    let deadline = start + budget;
    if (options.deadline !== undefined) deadline = Math.min(deadline, options.deadline.getTime());
    const primaryDeadline = deadline - Math.min(this.#marginMs, Math.floor((deadline - start) / 10));
    const request: WriteRequest = {
      meta: {
        source_instance_id: this.#instanceId,
        request_id: options.requestId ?? uuidv7(),
        timestamp: new Date(start).toISOString(),
        deadline: new Date(primaryDeadline).toISOString(),
      },
      method,
      params: params === undefined ? null : params,
    };
    let lastError: WriteError | undefined;
    /** The last BUSY answer: the primary never runs a write past its deadline, so BUSY stays the truth. */
    let busy: WriteError | undefined;
    for (let attempt = 1; ; attempt++) {
      if (this.#closedWith !== undefined) throw this.#closedWith.withMethod(method);
      const remaining = deadline - this.#clock();
      if (remaining <= 0) break;
      const target = this.#target;
      if (target === undefined) {
        lastError = new WriteError('UNREACHABLE', 'no primary is known yet', { method });
        await this.#waitForTarget(remaining);
        continue;
      }
      try {
        return await target(request, remaining);
      } catch (e) {
        const error = e instanceof WriteError ? e : new WriteError('INTERNAL', 'write attempt failed', { method, cause: e });
        if (!error.isRetryable()) throw error;
        lastError = error;
        if (error.code === 'BUSY') busy = error;
        const delay = Math.min(backoffDelay(this.#retry, attempt, this.#random), deadline - this.#clock());
        this.#log.debug(
          { request_id: request.meta.request_id, method, attempt, code: error.code, delay_ms: delay },
          'retrying write',
        );
        if (delay > 0) await this.#sleep(delay);
      }
    }
    return this.#settleTimedOut(request, busy !== undefined && lastError?.code !== 'UNREACHABLE' ? busy : lastError);
  }

  /** After the budget ran out: the local request record decides what the caller sees. */
  #settleTimedOut(request: WriteRequest, lastError: WriteError | undefined): unknown {
    const id = request.meta.request_id;
    const recorded = this.#findOutcome?.(id);
    if (recorded !== undefined) {
      if (recorded.method !== undefined && recorded.method !== request.method) throw requestIdReusedError(id, recorded.method, request.method);
      if (recorded.ok) return recorded.result;
      throw recorded.error;
    }
    // BUSY to the end: the primary never ran it (another connection held the lock); say so rather than TIMEOUT.
    if (lastError?.code === 'BUSY') throw lastError.method === null ? lastError.withMethod(request.method) : lastError;
    // No record yet does not prove the write will never commit: an attempt may still
    // sit in a stalled or slow primary's queue or transaction. Only a record is proof.
    const code = lastError?.code === 'UNREACHABLE' ? 'UNREACHABLE' : 'TIMEOUT';
    throw new WriteError(
      code,
      `${code === 'UNREACHABLE' ? 'no primary answered within the write\'s deadline' : 'the write did not complete within its deadline'} ` +
        `(request ${id}); outcome unknown: it had not committed when the deadline passed but may still commit. ` +
        `Retry with the same request id (write option requestId) to get its one outcome, or look the id up later with findRequest`,
      { method: request.method, ...(lastError === undefined ? {} : { cause: lastError }) },
    );
  }

  #waitForTarget(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#targetWaiters.push(done);
    });
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new TypeError(`Expected '${name}' to be a number above 0, got ${String(value)} (${typeof value})`);
  }
  return value;
}
