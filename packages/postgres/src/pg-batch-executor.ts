import { setTimeout as delay } from 'node:timers/promises';
import type pg from 'pg';
import type { Logger } from 'pino';
import { WriteError, type ChangeOp } from '@scribe/protocol';
import {
  failureRecord,
  inBatchDuplicate,
  isStorageFault,
  recordedDuplicate,
  rfc3339,
  runHandler,
  type BatchItem,
  type BatchItemOutcome,
  type BatchResult,
  type RawRequestRecord,
  type StoredChange,
  type WriteContext,
  type WriteRegistry,
} from '@scribe/store';
import type { PendingChange, PgChangeLog } from './pg-change-log.js';
import { withConnection } from './pg-checkout.js';
import { PgDeferredStatements } from './pg-deferred-statements.js';
import { isPgText } from './pg-literal.js';
import { mapPgError, pgSqlState } from './pg-errors.js';
import type { PgRequestLog } from './pg-request-log.js';
import { PgBatchTx } from './pg-batch-tx.js';

/** How many times a batch the server rolled back for a conflict (40001, 40P01) runs again before it fails as BUSY. */
export const DEFAULT_CONFLICT_RETRIES = 5;
/** The first pause before such a retry; it doubles each time, with jitter. */
const CONFLICT_RETRY_BASE_MS = 5;

/** SQLSTATEs after which the whole batch runs again: the server rolled it back for a concurrent one. */
const CONFLICT_STATES = new Set(['40001', '40P01']);

/**
 * Codes of a driver error inside a write that end the whole batch rather than that
 * write: the connection or the server is gone, or the server rolled the transaction
 * back. Nothing of the batch is applied; every write in it gets the (retryable) code.
 */
const BATCH_FAILURES: ReadonlySet<string> = new Set(['BUSY', 'UNREACHABLE', 'SHUTTING_DOWN', 'OVERLOADED', 'NOT_PRIMARY']);

/** What a {@link PgBatchExecutor} works with (owned by its store). */
export interface PgBatchExecutorParts {
  readonly pool: pg.Pool;
  readonly registry: WriteRegistry;
  readonly requests: PgRequestLog;
  readonly changes: PgChangeLog;
  readonly clock: () => Date;
  readonly log: Logger;
  readonly conflictRetries: number;
}

/** A failure that ends the whole batch (nothing applied). */
class BatchAbort extends Error {
  constructor(readonly original: unknown) {
    super('batch aborted');
  }
}

/**
 * Runs batches of writes on PostgreSQL: one transaction per batch at READ COMMITTED on
 * one pooled connection, one SAVEPOINT per write. Each write first claims its request
 * id ({@link PgRequestLog.claimStatement}); a write whose id another transaction
 * committed is answered from that record, REQUEST_ID_REUSED when the method differs.
 * The handler runs in a nested savepoint, so its failure keeps the claim and records
 * the failure; a retryable failure (or a storage fault) rolls the claim back with it,
 * leaving no record, as on SQLite. The change events are numbered at the end, in
 * commit order ({@link PgChangeLog.appendStatement}). A batch the server rolls back
 * for a serialization failure or a deadlock runs again whole, with the same request
 * ids, up to `conflictRetries` times with jittered backoff, then fails as BUSY
 * (retryable).
 *
 * Round trips: the bookkeeping statements go as literal statements in simple queries
 * of several statements ({@link PgDeferredStatements}), so a write costs one round trip
 * of its own (the previous write's outcome and RELEASE, then its SAVEPOINT, claim and
 * handler SAVEPOINT) plus its handler's statements, and the batch one more (the last
 * outcome, the change log and COMMIT); a claim that finds a committed record costs one
 * more (the lookup). Before: 6 per write and 5 per batch.
 */
export class PgBatchExecutor {
  readonly #p: PgBatchExecutorParts;

  constructor(parts: PgBatchExecutorParts) {
    this.#p = parts;
  }

  /** Runs the items (see {@link PgBatchExecutor}); rejects with a retryable WriteError when nothing was applied. */
  async run(items: readonly BatchItem[], validated: boolean): Promise<BatchResult> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#attempt(items, validated);
      } catch (e) {
        const state = pgSqlState(e);
        if (state !== undefined && CONFLICT_STATES.has(state) && attempt < this.#p.conflictRetries) {
          const pause = CONFLICT_RETRY_BASE_MS * 2 ** attempt * (0.5 + Math.random());
          this.#p.log.debug({ state, attempt: attempt + 1, size: items.length }, 'batch rolled back by a concurrent one; running it again');
          await delay(pause);
          continue;
        }
        const error = mapPgError(e, null);
        this.#p.log.warn({ err: e, code: error.code, size: items.length }, 'batch failed; nothing applied');
        throw error.isRetryable() || isStorageFault(error)
          ? error
          : new WriteError('INTERNAL', `the transaction failed; nothing was applied (${error.code})`, { cause: error, retryable: true });
      }
    }
  }

  async #attempt(items: readonly BatchItem[], validated: boolean): Promise<BatchResult> {
    const { pool, registry, requests, changes: changeLog, clock, log } = this.#p;
    return withConnection(pool, log, async (client) => {
      // Bookkeeping (BEGIN, savepoints, the request record, the change log, COMMIT) goes in
      // as few round trips as the guarantees allow: what needs no answer waits here and
      // rides in front of the next statement that does.
      const bookkeeping = new PgDeferredStatements(client);
      try {
        bookkeeping.defer('BEGIN ISOLATION LEVEL READ COMMITTED');
        const tx = new PgBatchTx(client);
        const outcomes: BatchItemOutcome[] = [];
        const pendingChanges: PendingChange[] = [];
        const inBatch = new Map<string, { index: number; outcome: number }>();
        for (const [itemIndex, item] of items.entries()) {
          const rid = item.meta.request_id;
          const source = item.meta.source_instance_id;
          const earlier = inBatch.get(rid);
          if (earlier !== undefined) {
            outcomes.push(inBatchDuplicate(items[earlier.index]!.method, outcomes[earlier.outcome]!, rid, item.method));
            continue;
          }
          inBatch.set(rid, { index: itemIndex, outcome: outcomes.length });
          const unstorable = unstorableField(item);
          if (unstorable !== undefined) {
            // PostgreSQL text cannot hold U+0000: refused before any SQL, nothing recorded.
            outcomes.push({ ok: false, duplicate: false, error: new WriteError('INVALID_PARAMS', `${unstorable} holds the character U+0000, which PostgreSQL text cannot store`, { method: item.method, field: unstorable }) });
            continue;
          }
          const now = rfc3339(clock());
          // One round trip: the previous write's tail, then claim first (it waits while another
          // transaction holds this id uncommitted) inside the write's savepoint, and the
          // handler's savepoint, so a failing handler keeps the claim and records its failure.
          const [, claim] = await bookkeeping.send('SAVEPOINT w', requests.claimStatement(rid, source, item.method, now), 'SAVEPOINT h');
          if (claim!.rows.length === 0) {
            // A statement of its own, after the claim: it sees the record the claim waited for.
            const [, found] = await bookkeeping.send('RELEASE w', requests.lookupStatement(rid));
            const record = found!.rows[0] as RawRequestRecord | undefined;
            if (record === undefined) {
              // Claimed and gone again between the two statements (pruned): let the batch run again.
              throw new WriteError('BUSY', 'a request record changed under the batch; nothing was applied', { method: item.method });
            }
            outcomes.push(recordedDuplicate(record, item.method));
            continue;
          }
          const pending: Array<[string, string, ChangeOp]> = [];
          const ctx: WriteContext = { tx, now, meta: item.meta, change: (entity, key, op) => void pending.push([entity, key, op]) };
          let outcome: BatchItemOutcome;
          let stored: string | undefined;
          try {
            const ran = await runHandler(registry, ctx, item.method, item.params, validated);
            stored = ran.stored;
            outcome = { ok: true, result: ran.result, duplicate: false };
          } catch (e) {
            if (!(e instanceof WriteError)) {
              const mapped = mapPgError(e, item.method);
              // The connection, the server or the transaction is gone: the batch fails as one.
              if (BATCH_FAILURES.has(mapped.code) || (pgSqlState(e) !== undefined && CONFLICT_STATES.has(pgSqlState(e)!))) throw new BatchAbort(e);
            }
            // Undoes the handler's statements (and leaves the aborted state a failed one left).
            bookkeeping.defer('ROLLBACK TO h');
            pending.length = 0;
            const error = mapPgError(e, item.method);
            if (error.code === 'INTERNAL') log.error({ err: e, method: item.method, request_id: rid }, 'write failed');
            outcome = { ok: false, error, duplicate: false };
            stored = failureRecord(error);
          }
          if (stored === undefined) {
            // A retryable failure leaves no record: the claim is undone with the write.
            bookkeeping.defer('ROLLBACK TO w', 'RELEASE w');
          } else {
            // RELEASE w also releases h.
            bookkeeping.defer(requests.settleStatement(rid, outcome.ok, stored, now), 'RELEASE w');
            for (const [entity, key, op] of pending) pendingChanges.push({ entity, key, op, request_id: rid, source_instance_id: source, at: now });
          }
          outcomes.push(outcome);
        }
        // The last round trip: the last write's tail, the change log (its counter's row lock
        // is held from here to the end of the transaction) and COMMIT.
        const append = changeLog.appendStatement(pendingChanges);
        const results = await bookkeeping.send(...(append === undefined ? [] : [append]), 'COMMIT');
        // COMMIT of a transaction that failed earlier answers ROLLBACK rather than an error.
        if (results[results.length - 1]!.command !== 'COMMIT') throw new Error(`postgres: COMMIT answered ${results[results.length - 1]!.command}`);
        const changes: StoredChange[] = append === undefined ? [] : changeLog.numbered(pendingChanges, results[0]!.rows);
        return { outcomes, changes };
      } catch (e) {
        // The connection is discarded after this (withConnection), which ends the transaction
        // if the ROLLBACK cannot get through.
        bookkeeping.discard();
        await client.query('ROLLBACK').catch(() => undefined);
        throw e instanceof BatchAbort ? e.original : e;
      }
    });
  }
}

/** The request field (of those the request record stores) that PostgreSQL text cannot hold, if any. */
function unstorableField(item: BatchItem): string | undefined {
  if (!isPgText(item.meta.request_id)) return 'meta.request_id';
  if (!isPgText(item.meta.source_instance_id)) return 'meta.source_instance_id';
  if (!isPgText(item.method)) return 'method';
  return undefined;
}
