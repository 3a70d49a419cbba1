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
  type StoredChange,
  type WriteContext,
  type WriteRegistry,
} from '@scribe/store';
import type { PendingChange, PgChangeLog } from './pg-change-log.js';
import { withConnection } from './pg-checkout.js';
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
 * id ({@link PgRequestLog.claim}); a write whose id another transaction committed is
 * answered from that record, REQUEST_ID_REUSED when the method differs. The handler
 * runs in a nested savepoint, so its failure keeps the claim and records the failure;
 * a retryable failure (or a storage fault) rolls the claim back with it, leaving no
 * record, as on SQLite. The change events are numbered at the end, in commit order
 * ({@link PgChangeLog.append}). A batch the server rolls back for a serialization
 * failure or a deadlock runs again whole, with the same request ids, up to
 * `conflictRetries` times with jittered backoff, then fails as BUSY (retryable).
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
    const q = async (sql: string): Promise<void> => {
      await client.query(sql);
    };
    try {
      await q('BEGIN ISOLATION LEVEL READ COMMITTED');
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
        const now = rfc3339(clock());
        await q('SAVEPOINT w');
        // Claim first: waits while another transaction holds this id uncommitted.
        if (!(await requests.claim(tx, rid, source, item.method, now))) {
          await q('RELEASE w');
          const record = await requests.lookup(tx, rid);
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
        await q('SAVEPOINT h');
        try {
          const ran = await runHandler(registry, ctx, item.method, item.params, validated);
          stored = ran.stored;
          await q('RELEASE h');
          outcome = { ok: true, result: ran.result, duplicate: false };
        } catch (e) {
          if (!(e instanceof WriteError)) {
            const mapped = mapPgError(e, item.method);
            // The connection, the server or the transaction is gone: the batch fails as one.
            if (BATCH_FAILURES.has(mapped.code) || (pgSqlState(e) !== undefined && CONFLICT_STATES.has(pgSqlState(e)!))) throw new BatchAbort(e);
          }
          await q('ROLLBACK TO h');
          await q('RELEASE h');
          pending.length = 0;
          const error = mapPgError(e, item.method);
          if (error.code === 'INTERNAL') log.error({ err: e, method: item.method, request_id: rid }, 'write failed');
          outcome = { ok: false, error, duplicate: false };
          stored = failureRecord(error);
        }
        if (stored === undefined) {
          await q('ROLLBACK TO w');
          await q('RELEASE w');
        } else {
          await requests.settle(tx, rid, outcome.ok, stored, now);
          await q('RELEASE w');
          for (const [entity, key, op] of pending) pendingChanges.push({ entity, key, op, request_id: rid, source_instance_id: source, at: now });
        }
        outcomes.push(outcome);
      }
      // Last before COMMIT: the counter's row lock is held from here to the end.
      const changes: StoredChange[] = await changeLog.append(client, pendingChanges);
      await q('COMMIT');
      return { outcomes, changes };
    } catch (e) {
      // The connection is discarded after this (withConnection), which ends the transaction
      // if the ROLLBACK cannot get through.
      await q('ROLLBACK').catch(() => undefined);
      throw e instanceof BatchAbort ? e.original : e;
    }
    });
  }
}
