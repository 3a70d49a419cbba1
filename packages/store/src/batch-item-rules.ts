import { requestIdReusedError, wireCauseOf, type WriteError } from '@scribe/protocol';
import { isStorageFault } from './driver-errors.js';
import { recordOutcome, type RawRequestRecord } from './request-log.js';
import type { BatchItemOutcome } from './batch-executor.js';
import type { WriteContext, WriteRegistry } from './write-registry.js';

/**
 * The rules every engine's batch executor applies to one write, defined once so the
 * SQLite and PostgreSQL executors cannot drift apart: how a repeated request id is
 * answered, how a handler is run, and what a failed write records.
 */

/** A request id seen earlier in the same batch: its outcome again, or REQUEST_ID_REUSED when the method differs. */
export function inBatchDuplicate(firstMethod: string, firstOutcome: BatchItemOutcome, requestId: string, method: string): BatchItemOutcome {
  return firstMethod === method
    ? { ...firstOutcome, duplicate: true }
    : { ok: false, error: requestIdReusedError(requestId, firstMethod, method), duplicate: true };
}

/** A request id with a committed record: the recorded outcome, or REQUEST_ID_REUSED when the method differs. */
export function recordedDuplicate(record: RawRequestRecord, method: string): BatchItemOutcome {
  return record.method === method
    ? recordOutcome(record)
    : { ok: false, error: requestIdReusedError(record.request_id, record.method, method), duplicate: true };
}

/**
 * Runs one write's handler (params already parsed by the coordinator when `validated`)
 * and serialises its result for the request record; both throw inside the write's
 * savepoint, so a result that cannot be recorded fails this write alone.
 */
export async function runHandler(
  registry: WriteRegistry,
  ctx: WriteContext,
  method: string,
  rawParams: unknown,
  validated: boolean,
): Promise<{ result: unknown; stored: string }> {
  const definition = registry.get(method);
  // The coordinator validated every item on submit; parsing it again would only cost time.
  const params = validated && definition !== undefined ? rawParams : registry.validate(method, rawParams);
  const returned: unknown = definition!.handler(ctx, params);
  // A handler that returned a plain value is not awaited (an await costs a microtask per write).
  const result = isThenable(returned) ? await returned : returned;
  return { result, stored: JSON.stringify(result ?? null) };
}

/**
 * What a failed write records under its request id, or undefined for nothing: a
 * retryable failure or a storage fault is not the write's answer, so the same request
 * id must be able to run again.
 */
export function failureRecord(error: WriteError): string | undefined {
  return error.isRetryable() || isStorageFault(error)
    ? undefined
    : JSON.stringify({ code: error.code, message: error.message, field: error.field, cause: wireCauseOf(error) });
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}
