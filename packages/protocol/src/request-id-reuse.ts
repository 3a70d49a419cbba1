/**
 * A request id names one write. The primary answers a repeat of a request id with
 * the first outcome (that is what makes retries safe); a repeat that names another
 * write is not a retry but a client bug, answered with its own error instead of the
 * other write's result.
 */
import { WriteError } from './write-error.js';

/**
 * The REQUEST_ID_REUSED error for `method` arriving with a request id that
 * `firstMethod` already used. Non-retryable: the same request id will always name
 * the first write. Params of a same-method repeat are not compared.
 */
export function requestIdReusedError(requestId: string, firstMethod: string, method: string): WriteError {
  return new WriteError(
    'REQUEST_ID_REUSED',
    `request id ${requestId} was already used for ${firstMethod}; a request id names one write, so send this ${method} with a new request id`,
    { method },
  );
}
