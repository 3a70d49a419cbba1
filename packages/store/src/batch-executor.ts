import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { WriteError, type ChangeOp, type WriteMeta } from '@scribe/protocol';
import type { ChangeLog, StoredChange } from './change-log.js';
import { isStorageFault, mapDriverError } from './driver-errors.js';
import type { RequestLog } from './request-log.js';
import { failureRecord, inBatchDuplicate, recordedDuplicate, runHandler } from './batch-item-rules.js';
import { SqliteTx } from './sqlite-tx.js';
import type { StatementCache } from './statement-cache.js';
import { rfc3339 } from './time.js';
import type { WalSync } from './wal-sync.js';
import type { WriteContext, WriteRegistry } from './write-registry.js';

/** One write handed to {@link Store.executeBatch}. */
export interface BatchItem {
  meta: WriteMeta;
  method: string;
  params: unknown;
}

/** The outcome of one item; `duplicate` when its request id had already run. */
export type BatchItemOutcome =
  | { ok: true; result: unknown; duplicate: boolean }
  | { ok: false; error: WriteError; duplicate: boolean };

/** What a batch did: one outcome per item, in order, and the change events committed. */
export interface BatchResult {
  outcomes: BatchItemOutcome[];
  changes: StoredChange[];
  /**
   * Present when the commit is not yet durable on return (FULL or EXTRA with
   * `commitSync: 'pipelined'`): resolves once it is, rejects with a STORAGE_IO
   * WriteError when the sync failed. Answer nobody before it resolved.
   */
  durable?: Promise<void>;
}

/** Writes between two prunings of the request and change logs. */
const PRUNE_EVERY = 1000;

/** What a {@link BatchExecutor} works with (all owned by its store). */
export interface BatchExecutorParts {
  readonly db: Database.Database;
  readonly cache: StatementCache;
  readonly registry: WriteRegistry;
  readonly requests: RequestLog;
  readonly changes: ChangeLog;
  readonly clock: () => Date;
  readonly log: Logger;
  /** Syncs the -wal file after each COMMIT (FULL or EXTRA, pipelined); undefined when COMMIT syncs by itself. */
  readonly walSync: WalSync | undefined;
}

/**
 * Runs batches of writes on a store's SQLite connection: one transaction per batch,
 * one SAVEPOINT per write, the request record and change events of each write in the
 * same transaction. Handlers run over one {@link SqliteTx} per batch; the connection is
 * held ({@link StatementCache.hold}) from BEGIN to COMMIT or ROLLBACK. A handler whose
 * result is not a promise is not awaited, so a batch of synchronous handlers costs no
 * extra turn of the microtask queue.
 */
export class BatchExecutor {
  readonly #p: BatchExecutorParts;
  #sinceTrim = 0;

  constructor(parts: BatchExecutorParts) {
    this.#p = parts;
  }

  /** Prunes the request and change logs to their retention (outside any batch). */
  prune(): void {
    this.#p.cache.assertFree('prune');
    this.#p.requests.prune();
    this.#p.changes.prune();
  }

  /**
   * Runs the items in one transaction, one SAVEPOINT each (see {@link Store.executeBatch}).
   * The caller makes sure no other batch runs on the connection (the store queues them).
   */
  async run(items: readonly BatchItem[], validated: boolean): Promise<BatchResult> {
    const { db, cache, registry, requests, changes: changeLog, clock, log } = this.#p;
    const outcomes: BatchItemOutcome[] = [];
    const changes: StoredChange[] = [];
    const inBatch = new Map<string, { index: number; outcome: number }>();
    let durable: Promise<void> | undefined;
    cache.hold('batch');
    const tx = new SqliteTx(cache, db);
    try {
      try {
        cache.statement('BEGIN IMMEDIATE').run();
      } catch (e) {
        throw asRetryable(mapDriverError(e, null), 'the transaction could not begin; nothing was applied');
      }
      try {
        const savepoint = cache.statement('SAVEPOINT w');
        const release = cache.statement('RELEASE w');
        const rollbackTo = cache.statement('ROLLBACK TO w');
        for (const [itemIndex, item] of items.entries()) {
          const rid = item.meta.request_id;
          const earlier = inBatch.get(rid);
          if (earlier !== undefined) {
            outcomes.push(inBatchDuplicate(items[earlier.index]!.method, outcomes[earlier.outcome]!, rid, item.method));
            continue;
          }
          inBatch.set(rid, { index: itemIndex, outcome: outcomes.length });
          const record = requests.lookup(rid);
          if (record !== undefined) {
            outcomes.push(recordedDuplicate(record, item.method));
            continue;
          }
          const now = rfc3339(clock());
          const pending: Array<[string, string, ChangeOp]> = [];
          const ctx: WriteContext = {
            tx,
            now,
            meta: item.meta,
            change: (entity, key, op) => void pending.push([entity, key, op]),
          };
          let outcome: BatchItemOutcome;
          let stored: string | undefined;
          savepoint.run();
          try {
            const ran = await runHandler(registry, ctx, item.method, item.params, validated);
            stored = ran.stored;
            release.run();
            outcome = { ok: true, result: ran.result, duplicate: false };
          } catch (e) {
            // On SQLITE_FULL, IOERR and a few others SQLite may roll the whole transaction
            // back by itself: then nothing of the batch stands, and the batch fails as one.
            if (!db.inTransaction) throw e;
            rollbackTo.run();
            release.run();
            pending.length = 0;
            const error = mapDriverError(e, item.method);
            if (error.code === 'INTERNAL') log.error({ err: e, method: item.method, request_id: rid }, 'write failed');
            outcome = { ok: false, error, duplicate: false };
            stored = failureRecord(error);
          }
          const source = item.meta.source_instance_id;
          if (stored !== undefined) requests.insert(rid, source, item.method, outcome.ok, stored, now);
          for (const [entity, key, op] of pending) changes.push(changeLog.append(entity, key, op, rid, source, now));
          outcomes.push(outcome);
        }
        this.#sinceTrim += items.length;
        if (this.#sinceTrim >= PRUNE_EVERY) {
          this.#sinceTrim = 0;
          requests.prune();
          changeLog.prune();
        }
        cache.statement('COMMIT').run();
        durable = this.#p.walSync?.afterCommit();
      } catch (e) {
        if (db.inTransaction) {
          try {
            db.exec('ROLLBACK');
          } catch (rollbackError) {
            log.error({ err: rollbackError }, 'rollback after a failed batch failed');
          }
        }
        log.error({ err: e, size: items.length }, 'batch failed; nothing applied');
        throw asRetryable(mapDriverError(e, null), 'the transaction failed to commit; nothing was applied');
      }
    } finally {
      tx.end();
      cache.release();
    }
    return durable === undefined ? { outcomes, changes } : { outcomes, changes, durable };
  }
}


/** A failure of the whole batch as the retryable error its writes get (storage faults keep their code). */
export function asRetryable(error: WriteError, message: string): WriteError {
  // Storage faults keep their code: they need someone to act, and retrying them blindly only hides them.
  if (isStorageFault(error)) return error;
  return new WriteError(error.code === 'BUSY' ? 'BUSY' : 'INTERNAL', `${message} (${error.code})`, {
    method: error.method,
    cause: error,
    retryable: true,
  });
}
