import type { Logger } from 'pino';
import type { CoordinatorStore } from './coordinator-store.js';

/** Most writes taken into one transaction. */
export const DEFAULT_MAX_BATCH_SIZE = 512;
/**
 * Most committed batches waiting for their fsync (a store whose commits become
 * durable off the event loop): one whose sync runs and one committed after that
 * sync started. The next batch runs only once the oldest is durable; meanwhile
 * writes gather in the queue, so the batches grow instead of the syncs multiplying.
 */
export const MAX_BATCHES_AWAITING_SYNC = 2;
/** Most writes waiting in the queue before new ones are refused with OVERLOADED. */
export const DEFAULT_MAX_QUEUE_DEPTH = 10_000;

/**
 * Longest a write without a deadline waits for another connection's write lock
 * (BUSY) before it is refused with BUSY. Writes with a deadline wait until it.
 */
export const DEFAULT_MAX_BUSY_WAIT_MS = 5_000;
/** First pause before a batch that met another connection's lock runs again; it doubles up to {@link MAX_BUSY_RETRY_DELAY_MS}. */
export const BUSY_RETRY_DELAY_MS = 2;
/** Longest pause between two attempts at a locked database. */
export const MAX_BUSY_RETRY_DELAY_MS = 25;

/** The pino levels the provenance line may be logged at. */
export const PROVENANCE_LEVELS = ['info', 'debug', 'trace', 'silent'] as const;
/** One of {@link PROVENANCE_LEVELS}. */
export type ProvenanceLevel = (typeof PROVENANCE_LEVELS)[number];

/** Everything a {@link WriteCoordinator} is built from. */
export interface WriteCoordinatorOptions {
  /** The database the writes run against. */
  store: CoordinatorStore;
  /** Parent logger; the coordinator logs through a `{ component: 'coordinator' }` child. */
  logger?: Logger;
  /** Most writes per transaction (group commit). Default {@link DEFAULT_MAX_BATCH_SIZE}. */
  maxBatchSize?: number;
  /** Most queued writes; past it submit answers OVERLOADED at once. Default {@link DEFAULT_MAX_QUEUE_DEPTH}. */
  maxQueueDepth?: number;
  /** Milliseconds since the epoch; injected by tests. Default `Date.now`. */
  clock?: () => number;
  /** See {@link DEFAULT_MAX_BUSY_WAIT_MS}. */
  maxBusyWaitMs?: number;
  /** The level of the one provenance line logged per write. Default `debug`: a line per write at info costs throughput; turn it up to watch writes (the demo does). */
  provenanceLevel?: ProvenanceLevel;
}

/** Validated, frozen options. */
export interface ResolvedCoordinatorOptions {
  readonly maxBatchSize: number;
  readonly maxQueueDepth: number;
  readonly clock: () => number;
  readonly provenanceLevel: ProvenanceLevel;
  readonly maxBusyWaitMs: number;
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`Expected '${name}' to be an integer from 1 and up, got ${String(value)} (${typeof value})`);
  }
  return value;
}

/** Checks the options and fills in defaults; throws a TypeError that says what to change. */
export function resolveCoordinatorOptions(options: WriteCoordinatorOptions): ResolvedCoordinatorOptions {
  if (options.provenanceLevel !== undefined && !PROVENANCE_LEVELS.includes(options.provenanceLevel)) {
    throw new TypeError(
      `Expected 'provenanceLevel' to be one of ${PROVENANCE_LEVELS.join(', ')}, got ${String(options.provenanceLevel)}`,
    );
  }
  return Object.freeze({
    maxBatchSize: positiveInteger('maxBatchSize', options.maxBatchSize, DEFAULT_MAX_BATCH_SIZE),
    maxQueueDepth: positiveInteger('maxQueueDepth', options.maxQueueDepth, DEFAULT_MAX_QUEUE_DEPTH),
    clock: options.clock ?? Date.now,
    provenanceLevel: options.provenanceLevel ?? 'debug',
    maxBusyWaitMs: positiveInteger('maxBusyWaitMs', options.maxBusyWaitMs, DEFAULT_MAX_BUSY_WAIT_MS),
  });
}
