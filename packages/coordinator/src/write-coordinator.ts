import PQueue from 'p-queue';
import { pino, type Logger } from 'pino';
import { WriteError, requestIdReusedError, type WriteRequest } from '@scribe/protocol';
import type { CoordinatorEvent, CoordinatorListener, CoordinatorMetrics } from './coordinator-events.js';
import {
  BUSY_RETRY_DELAY_MS,
  MAX_BATCHES_AWAITING_SYNC,
  MAX_BUSY_RETRY_DELAY_MS,
  resolveCoordinatorOptions,
  type ResolvedCoordinatorOptions,
  type WriteCoordinatorOptions,
} from './coordinator-options.js';
import type { CoordinatorBatchResult, CoordinatorItem, CoordinatorStore } from './coordinator-store.js';

interface Pending {
  readonly item: CoordinatorItem;
  readonly acceptedAt: number;
  readonly deadline: number | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: WriteError) => void;
}

type State = 'open' | 'closing' | 'closed';

/**
 * The primary's single write path. Writes run one at a time in arrival order; the
 * ones that queue up while a transaction runs are taken together into the next
 * transaction (group commit, one savepoint each in the store). A write's promise
 * settles only after its transaction committed, and, when the store makes commits
 * durable off the event loop ({@link CoordinatorBatchResult.durable}), only after
 * that commit is durable: the next batch runs meanwhile (at most
 * {@link MAX_BATCHES_AWAITING_SYNC} batches wait for their sync), and batches are
 * answered and reported in commit order.
 */
export class WriteCoordinator {
  readonly #store: CoordinatorStore;
  readonly #options: ResolvedCoordinatorOptions;
  readonly #log: Logger;
  readonly #queue = new PQueue({ concurrency: 1 });
  readonly #pending: Pending[] = [];
  /** Request ids queued and not yet settled, so a retry joins the first attempt. */
  /** Writes queued or running, by request id, with the write they name. */
  readonly #inflight = new Map<string, { method: string; promise: Promise<unknown> }>();
  readonly #listeners = new Set<CoordinatorListener>();
  /** Settled writes by write name and outcome (`ok` or an error code). */
  readonly #byMethod = new Map<string, Map<string, number>>();
  #flushScheduled = false;
  /** Durability of the committed batches not yet answered, oldest first (they never reject). */
  readonly #awaitingSync: Array<Promise<void>> = [];
  /**
   * Writes left to run one per transaction after a batch failed to commit. The
   * failed batch's writes come back as retries; alone in its transaction, a write
   * that makes COMMIT fail (a deferred constraint, say) fails by itself instead of
   * taking its neighbours down with it again and again.
   */
  #isolate = 0;
  /** When the batches started meeting another connection's write lock; undefined while they commit. */
  #busySince: number | undefined;
  /** The pause before the next attempt at a locked database. */
  #busyDelay = BUSY_RETRY_DELAY_MS;
  #state: State = 'open';
  #closing: Promise<void> | undefined;
  readonly #metrics: CoordinatorMetrics = {
    accepted: 0,
    completed: 0,
    failed: 0,
    rejected: 0,
    duplicates: 0,
    queueDepth: 0,
    batches: 0,
    failedBatches: 0,
    lastBatchSize: 0,
    maxBatchSizeSeen: 0,
  };

  constructor(options: WriteCoordinatorOptions) {
    this.#store = options.store;
    this.#options = resolveCoordinatorOptions(options);
    this.#log = (options.logger ?? pino({ level: 'silent' })).child({ component: 'coordinator' });
  }

  /** Writes waiting to run. */
  get depth(): number {
    return this.#pending.length;
  }

  /** `open`, `closing` (draining, refusing new writes) or `closed`. */
  get state(): State {
    return this.#state;
  }

  /** A snapshot of the counters. */
  metrics(): CoordinatorMetrics {
    return { ...this.#metrics, queueDepth: this.#pending.length };
  }

  /**
   * Every write this coordinator settled, by write name and outcome (`ok` or the error
   * code): those that ran or reached their turn, and those refused on submit
   * (SHUTTING_DOWN, INVALID_PARAMS, METHOD_NOT_FOUND, OVERLOADED). A duplicate that
   * joined the same request in flight is not counted again.
   */
  outcomes(): Array<{ method: string; outcome: string; count: number }> {
    const out: Array<{ method: string; outcome: string; count: number }> = [];
    for (const [method, counts] of this.#byMethod) for (const [outcome, count] of counts) out.push({ method, outcome, count });
    return out;
  }

  /** Since when (ms, the coordinator's clock) writes have been waiting for another connection's write lock; undefined when they are not. */
  get busySince(): number | undefined {
    return this.#busySince;
  }

  /** Registers a listener; returns the function that removes it. */
  on(listener: CoordinatorListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Queues a write and resolves with its result once committed. Rejects with a
   * WriteError: at once for METHOD_NOT_FOUND, INVALID_PARAMS, OVERLOADED and
   * SHUTTING_DOWN (nothing queued); after the transaction for the write's own error;
   * TIMEOUT when its deadline passed before it could run (it was not executed).
   */
  submit(request: WriteRequest): Promise<unknown> {
    const { meta, method } = request;
    if (this.#state !== 'open') {
      this.#metrics.rejected++;
      this.#count(method, 'SHUTTING_DOWN');
      return Promise.reject(
        new WriteError('SHUTTING_DOWN', 'the primary is shutting down; retry against the next primary', { method }),
      );
    }
    const joined = this.#inflight.get(meta.request_id);
    if (joined !== undefined) {
      if (joined.method !== method) {
        this.#metrics.rejected++;
        return Promise.reject(requestIdReusedError(meta.request_id, joined.method, method));
      }
      this.#metrics.duplicates++;
      return joined.promise;
    }
    let params: unknown;
    try {
      params = this.#store.validate(method, request.params);
    } catch (e) {
      this.#metrics.rejected++;
      const error = asWriteError(e, method);
      // A name nobody registered is the caller's text: one label value for all of them.
      this.#count(error.code === 'METHOD_NOT_FOUND' ? UNKNOWN_METHOD : method, error.code);
      return Promise.reject(error);
    }
    if (this.#pending.length >= this.#options.maxQueueDepth) {
      this.#metrics.rejected++;
      this.#count(method, 'OVERLOADED');
      this.#emit({ type: 'queue:overloaded', depth: this.#pending.length });
      return Promise.reject(
        new WriteError('OVERLOADED', `the write queue is full (${this.#options.maxQueueDepth} writes); retry later`, {
          method,
        }),
      );
    }
    let deadline: number | undefined;
    if (meta.deadline !== undefined) deadline = Date.parse(meta.deadline);
    const promise = new Promise<unknown>((resolve, reject) => {
      this.#pending.push({
        item: { meta, method, params },
        acceptedAt: this.#options.clock(),
        deadline,
        resolve,
        reject,
      });
    });
    this.#metrics.accepted++;
    this.#inflight.set(meta.request_id, { method, promise });
    const forget = (): void => {
      this.#inflight.delete(meta.request_id);
    };
    promise.then(forget, forget);
    this.#scheduleFlush();
    return promise;
  }

  /**
   * Stops taking writes (new ones get SHUTTING_DOWN) and settles every queued one:
   * with `drain` (the default) they run and commit; without, they are refused with
   * SHUTTING_DOWN. Safe to call twice.
   */
  close(options: { drain?: boolean } = {}): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#state = 'closing';
    const drain = options.drain ?? true;
    this.#closing = (async () => {
      if (!drain) {
        for (const p of this.#pending.splice(0)) {
          this.#metrics.failed++;
          this.#count(p.item.method, 'SHUTTING_DOWN');
          p.reject(new WriteError('SHUTTING_DOWN', 'the primary shut down before this write ran', { method: p.item.method }));
        }
      }
      // Wait until nothing is queued, scheduled or running.
      while (
        this.#pending.length > 0 ||
        this.#flushScheduled ||
        this.#queue.size > 0 ||
        this.#queue.pending > 0 ||
        this.#awaitingSync.length > 0
      ) {
        this.#scheduleFlush();
        await new Promise((resolve) => setImmediate(resolve));
        await this.#queue.onIdle();
        await Promise.all(this.#awaitingSync);
      }
      this.#state = 'closed';
      this.#log.info({ metrics: this.metrics() }, 'coordinator closed');
    })();
    return this.#closing;
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#pending.length === 0) return;
    this.#flushScheduled = true;
    const run = (): void => {
      void this.#queue.add(() => {
        this.#flushScheduled = false;
        return this.#flush();
      });
    };
    // While another connection holds the lock, try again after a pause on a timer: the
    // event loop keeps serving (pings, reads, other sockets) in between.
    if (this.#busySince !== undefined) setTimeout(run, this.#busyDelay);
    // setImmediate, not a microtask: let the receive loop take every request that is
    // already waiting on the socket, so they share one transaction.
    else setImmediate(run);
  }

  async #flush(): Promise<void> {
    // Enough batches wait for their sync: let this one gather writes until the oldest is durable.
    while (this.#awaitingSync.length >= MAX_BATCHES_AWAITING_SYNC) await this.#awaitingSync[0];
    const now = this.#options.clock();
    const taken = this.#pending.splice(0, this.#isolate > 0 ? 1 : this.#options.maxBatchSize);
    if (this.#isolate > 0) this.#isolate--;
    const batch: Pending[] = [];
    const busyTooLong = this.#busySince !== undefined && now - this.#busySince >= this.#options.maxBusyWaitMs;
    for (const p of taken) {
      const expired = p.deadline !== undefined && p.deadline <= now;
      if (this.#busySince !== undefined && (expired || (p.deadline === undefined && busyTooLong))) {
        this.#metrics.failed++;
        this.#provenance(p, now, 'BUSY', false);
        p.reject(
          new WriteError(
            'BUSY',
            `another connection held the database's write lock for ${now - this.#busySince} ms, until this write's deadline; it was not executed`,
            { method: p.item.method },
          ),
        );
      } else if (expired) {
        this.#metrics.failed++;
        this.#provenance(p, now, 'TIMEOUT', false);
        p.reject(
          new WriteError('TIMEOUT', 'the deadline passed before the write could run; it was not executed', {
            method: p.item.method,
          }),
        );
      } else {
        batch.push(p);
      }
    }
    if (batch.length > 0) await this.#runBatch(batch);
    this.#scheduleFlush();
  }

  async #runBatch(batch: Pending[]): Promise<void> {
    const started = performance.now();
    let result: CoordinatorBatchResult;
    try {
      // One batch at a time (the queue's concurrency is 1): the store's transaction is open
      // until this settles, and the next batch gathers meanwhile.
      result = await this.#store.executeBatch(batch.map((p) => p.item));
    } catch (e) {
      const error = asWriteError(e, null, true);
      if (error.code === 'BUSY') {
        // Waiting inside the driver would freeze the event loop for as long as the
        // other connection holds on: put the batch back, in order, and try again soon.
        const now = this.#options.clock();
        if (this.#busySince === undefined) {
          this.#busySince = now;
          this.#busyDelay = BUSY_RETRY_DELAY_MS;
          this.#log.warn({ size: batch.length }, 'another connection holds the database write lock; writes wait (BUSY)');
        } else {
          this.#busyDelay = Math.min(this.#busyDelay * 2, MAX_BUSY_RETRY_DELAY_MS);
        }
        this.#pending.unshift(...batch);
        this.#emit({ type: 'batch:busy', size: batch.length, since: this.#busySince });
        return;
      }
      this.#metrics.failedBatches++;
      if (batch.length > 1) this.#isolate = Math.max(this.#isolate, batch.length * 2);
      this.#metrics.failed += batch.length;
      this.#log.error({ err: e, size: batch.length }, 'batch failed to commit; every write in it is refused as retryable');
      const end = this.#options.clock();
      for (const p of batch) {
        this.#provenance(p, end, error.code, false);
        p.reject(error.withMethod(p.item.method));
      }
      this.#emit({ type: 'batch:failed', size: batch.length, error });
      return;
    }
    if (this.#busySince !== undefined) {
      this.#log.info({ waited_ms: this.#options.clock() - this.#busySince }, 'the database write lock is free again');
      this.#busySince = undefined;
    }
    const durable = result.durable;
    if (durable === undefined) {
      this.#answer(batch, result, started);
      return;
    }
    // Committed, not yet durable: nothing of it is answered or reported before its sync,
    // nor before every batch committed earlier was answered (change events stay in seq order).
    const previous = this.#awaitingSync[this.#awaitingSync.length - 1] ?? Promise.resolve();
    const settled = previous
      .then(() => durable)
      .then(
        () => this.#answer(batch, result, started),
        (e: unknown) => this.#syncFailed(batch, e),
      )
      .catch((e: unknown) => this.#log.error({ err: e }, 'answering a durable batch failed'));
    this.#awaitingSync.push(settled);
    void settled.finally(() => {
      this.#awaitingSync.splice(this.#awaitingSync.indexOf(settled), 1);
    });
  }

  /** A committed batch's sync failed: the writes are in the file but may not survive a power loss, so none is acknowledged. */
  #syncFailed(batch: Pending[], e: unknown): void {
    const error = asWriteError(e, null);
    this.#metrics.failedBatches++;
    this.#metrics.failed += batch.length;
    this.#log.error({ err: e, size: batch.length }, 'a committed batch could not be made durable; its writes are answered with the error');
    const end = this.#options.clock();
    for (const p of batch) {
      this.#provenance(p, end, error.code, false);
      p.reject(error.withMethod(p.item.method));
    }
    this.#emit({ type: 'batch:failed', size: batch.length, error });
  }

  /** Answers every write of a committed (and durable) batch and reports it. */
  #answer(batch: Pending[], result: CoordinatorBatchResult, started: number): void {
    const durationMs = performance.now() - started;
    this.#metrics.batches++;
    this.#metrics.lastBatchSize = batch.length;
    if (batch.length > this.#metrics.maxBatchSizeSeen) this.#metrics.maxBatchSizeSeen = batch.length;
    const end = this.#options.clock();
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      const outcome = result.outcomes[i];
      if (outcome === undefined) {
        this.#metrics.failed++;
        this.#count(p.item.method, 'INTERNAL');
        p.reject(new WriteError('INTERNAL', 'the store returned no outcome for this write', { method: p.item.method }));
        continue;
      }
      if (outcome.duplicate) this.#metrics.duplicates++;
      if (outcome.ok) {
        this.#metrics.completed++;
        this.#provenance(p, end, 'ok', outcome.duplicate);
        p.resolve(outcome.result);
      } else {
        this.#metrics.failed++;
        this.#provenance(p, end, outcome.error.code, outcome.duplicate);
        p.reject(outcome.error);
      }
    }
    this.#emit({ type: 'batch:committed', size: batch.length, changes: result.changes, durationMs });
  }

  /** Counts one settled write for {@link outcomes}. */
  #count(method: string, outcome: string): void {
    let counts = this.#byMethod.get(method);
    if (counts === undefined) {
      counts = new Map();
      this.#byMethod.set(method, counts);
    }
    counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  }

  #provenance(p: Pending, end: number, outcome: string, duplicate: boolean): void {
    this.#count(p.item.method, outcome);
    const level = this.#options.provenanceLevel;
    if (level === 'silent' || !this.#log.isLevelEnabled(level)) return;
    this.#log[level](
      {
        source: p.item.meta.source_instance_id,
        request_id: p.item.meta.request_id,
        method: p.item.method,
        duration_ms: end - p.acceptedAt,
        outcome,
        ...(duplicate ? { duplicate } : {}),
      },
      'write',
    );
  }

  #emit(event: CoordinatorEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (e) {
        this.#log.error({ err: e, event: event.type }, 'coordinator listener threw');
      }
    }
  }
}

/** How {@link WriteCoordinator.outcomes} names a write that is not registered (METHOD_NOT_FOUND). */
export const UNKNOWN_METHOD = 'unknown';

function asWriteError(e: unknown, method: string | null, retryable?: boolean): WriteError {
  if (e instanceof WriteError) return method === null ? e : e.withMethod(e.method ?? method);
  return new WriteError('INTERNAL', 'the write failed inside the primary', {
    method,
    cause: e,
    ...(retryable === undefined ? {} : { retryable }),
  });
}
