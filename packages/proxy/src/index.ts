/**
 * @packageDocumentation
 * DBProxy: the Querier a secondary uses. Reads hit the local read-only connection;
 * writes are forwarded to the primary with deadlines and retries.
 */
export {
  WriteForwarder,
  DEFAULT_WRITE_TIMEOUT_MS,
  DEFAULT_LONG_WRITE_TIMEOUT_MS,
  DEFAULT_DEADLINE_MARGIN_MS,
  type WriteTarget,
  type RecordedOutcome,
  type WriteCallOptions,
  type WriteForwarderOptions,
} from './write-forwarder.js';
export { backoffDelay, DEFAULT_BASE_DELAY_MS, DEFAULT_MAX_DELAY_MS, type RetryPolicy } from './retry-policy.js';
