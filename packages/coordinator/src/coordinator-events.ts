import type { WriteError } from '@scribe/protocol';
import type { CommittedChange } from './coordinator-store.js';

/** What a {@link WriteCoordinator} reports to its listeners. */
export type CoordinatorEvent =
  | {
      type: 'batch:committed';
      /** Writes in the transaction (successful and failed ones). */
      size: number;
      /** Change events committed, in seq order: publish these. */
      changes: CommittedChange[];
      /** Time from the start of the transaction until it was committed and durable (its sync included when that runs off the event loop). */
      durationMs: number;
    }
  | { type: 'batch:failed'; size: number; error: WriteError }
  /**
   * Another connection (another process) held the database's write lock: the batch
   * was put back and runs again shortly, without blocking the event loop. `since` is
   * when the lock was first met (ms, the coordinator's clock).
   */
  | { type: 'batch:busy'; size: number; since: number }
  | { type: 'queue:overloaded'; depth: number };

/** A listener; it must not throw (a throw is logged and ignored). */
export type CoordinatorListener = (event: CoordinatorEvent) => void;

/** Counters since the coordinator started. */
export interface CoordinatorMetrics {
  /** Writes taken into the queue. */
  accepted: number;
  /** Writes that ran and succeeded (duplicates answered from the record count here too). */
  completed: number;
  /** Writes that ran, or were about to, and failed (their own error, a failed commit, a passed deadline). */
  failed: number;
  /** Writes refused before queueing (OVERLOADED, SHUTTING_DOWN, INVALID_PARAMS, METHOD_NOT_FOUND). */
  rejected: number;
  /** Writes answered from the idempotency record or joined to an identical request already queued. */
  duplicates: number;
  /** Writes waiting now. */
  queueDepth: number;
  /** Transactions committed. */
  batches: number;
  /** Transactions whose commit failed. */
  failedBatches: number;
  /** Size of the last batch. */
  lastBatchSize: number;
  /** Largest batch so far. */
  maxBatchSizeSeen: number;
}
