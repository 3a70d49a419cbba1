/**
 * @packageDocumentation
 * The primary's write coordinator: one write path, group commit, bounded queue.
 */
export { WriteCoordinator, UNKNOWN_METHOD } from './write-coordinator.js';
export {
  DEFAULT_MAX_BATCH_SIZE,
  DEFAULT_MAX_QUEUE_DEPTH,
  MAX_BATCHES_AWAITING_SYNC,
  PROVENANCE_LEVELS,
  resolveCoordinatorOptions,
  type ProvenanceLevel,
  type WriteCoordinatorOptions,
  type ResolvedCoordinatorOptions,
} from './coordinator-options.js';
export type { CoordinatorEvent, CoordinatorListener, CoordinatorMetrics } from './coordinator-events.js';
export type {
  CoordinatorBatchResult,
  CoordinatorItem,
  CoordinatorOutcome,
  CoordinatorStore,
  CommittedChange,
} from './coordinator-store.js';
