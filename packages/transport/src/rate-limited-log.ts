/**
 * One log line per interval for a warning that can repeat thousands of times a
 * second (replies to peers that left): the first occurrence is logged at once, the
 * rest are counted and reported with the next line.
 */
import type { Logger } from 'pino';

/** Default interval between two lines of one {@link RateLimitedLog}. */
export const DEFAULT_LOG_INTERVAL_MS = 10_000;

/** Options of {@link RateLimitedLog}. */
export interface RateLimitedLogOptions {
  /** At most one line per this many milliseconds; default {@link DEFAULT_LOG_INTERVAL_MS}. */
  intervalMs?: number;
  /** Injected by tests; default `Date.now`. */
  clock?: () => number;
}

/**
 * Logs `message` at warn level at most once per interval, as one short line:
 * `{ code, reason, suppressed }` (the error's code and message, never its stack),
 * where `suppressed` counts the occurrences since the previous line that were not
 * logged.
 */
export class RateLimitedLog {
  readonly #logger: Logger;
  readonly #message: string;
  readonly #intervalMs: number;
  readonly #clock: () => number;
  #lastAt = Number.NEGATIVE_INFINITY;
  #suppressed = 0;

  constructor(logger: Logger, message: string, options: RateLimitedLogOptions = {}) {
    this.#logger = logger;
    this.#message = message;
    this.#intervalMs = options.intervalMs ?? DEFAULT_LOG_INTERVAL_MS;
    this.#clock = options.clock ?? Date.now;
  }

  /** Occurrences counted but not yet logged. */
  get suppressed(): number {
    return this.#suppressed;
  }

  /** Records one occurrence of `error`; logs it unless a line was written within the interval. */
  record(error: unknown): void {
    const now = this.#clock();
    if (now - this.#lastAt < this.#intervalMs) {
      this.#suppressed++;
      return;
    }
    const suppressed = this.#suppressed;
    this.#lastAt = now;
    this.#suppressed = 0;
    const e = error as { code?: unknown; message?: unknown } | null;
    this.#logger.warn(
      {
        code: typeof e?.code === 'string' ? e.code : undefined,
        reason: typeof e?.message === 'string' ? e.message : String(error),
        suppressed,
      },
      this.#message,
    );
  }
}
