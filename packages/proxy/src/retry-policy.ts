/** First backoff delay after a retryable failure. */
export const DEFAULT_BASE_DELAY_MS = 25;
/** Longest backoff delay between two attempts. */
export const DEFAULT_MAX_DELAY_MS = 1_000;

/** How a forwarded write is retried. */
export interface RetryPolicy {
  /** First delay; each next one doubles, up to {@link RetryPolicy.maxDelayMs}. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * The delay before retry number `attempt` (1 for the first retry): exponential
 * backoff with "full jitter" (a uniform draw between zero and the exponential cap),
 * so that secondaries retrying after a failover do not arrive in lockstep.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(cap * random());
}
