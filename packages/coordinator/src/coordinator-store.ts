import type { ChangeEvent, WriteError, WriteMeta } from '@scribe/protocol';

/** One write as the coordinator hands it to the store. */
export interface CoordinatorItem {
  meta: WriteMeta;
  method: string;
  params: unknown;
}

/** The outcome of one write of a batch; `duplicate` means its request id had already run. */
export type CoordinatorOutcome =
  | { ok: true; result: unknown; duplicate: boolean }
  | { ok: false; error: WriteError; duplicate: boolean };

/** A change event with the sequence number the store gave it at commit. */
export interface CommittedChange extends ChangeEvent {
  seq: number;
}

/**
 * What the coordinator needs from a database. The coordinator owns this interface;
 * `@scribe/store`'s Store satisfies it (through a two-line adapter in the node) and
 * the unit tests use an in-memory fake.
 */
export interface CoordinatorStore {
  /**
   * Checks a write's name and params without running it. Throws a WriteError
   * (METHOD_NOT_FOUND, INVALID_PARAMS) and returns the parsed params otherwise.
   */
  validate(method: string, params: unknown): unknown;
  /**
   * Runs the items in one transaction, one savepoint each, and commits. Each item's
   * params are what {@link CoordinatorStore.validate} returned for it on submit, so
   * the store need not parse them again. Resolves with one outcome per item, in
   * order, once committed. Rejects (with a retryable WriteError) only when the whole
   * batch failed to commit, in which case nothing of it was applied. The coordinator
   * calls it for one batch at a time and waits for it to settle before the next.
   */
  executeBatch(items: readonly CoordinatorItem[]): Promise<CoordinatorBatchResult>;
}

/** What {@link CoordinatorStore.executeBatch} resolves with. */
export interface CoordinatorBatchResult {
  outcomes: CoordinatorOutcome[];
  changes: CommittedChange[];
  /**
   * Present when the commit is not yet durable on return (a store whose fsync runs
   * off the event loop): settles once it is. The coordinator answers the batch's
   * writes and reports its changes only after it resolved; when it rejects (a
   * WriteError), every write of the batch is answered with that error.
   */
  durable?: Promise<void>;
}
