import { setTimeout as delay } from 'node:timers/promises';
import type { StoredChange } from '@scribe/store';

/** How often a change feed reads the change log even without a doorbell. */
export const DEFAULT_CHANGE_POLL_MS = 250;
/** Most changes read from the log at once. */
const PAGE = 1000;

/** What a change feed reads: the local (read-only) store's change log. */
export interface ChangeLog {
  changesSince(seq: number, limit: number): StoredChange[];
  oldestChangeSeq(): number | undefined;
  latestChangeSeq(): number;
}

/** Options of {@link ChangeFeed.changes}. */
export interface ChangesOptions {
  /**
   * Deliver changes with seq greater than this. Default: the latest seq now (only
   * changes from now on). Pass the last seq you applied to resume without gaps.
   */
  since?: number;
  /** Topic prefixes to deliver (`db.messages.`, `db.sessions.created`); default all. */
  topics?: readonly string[];
  /** Ends the iteration. */
  signal?: AbortSignal;
}

/**
 * Thrown by a change iterator when the changes it needs were pruned from the log
 * (the subscriber fell behind the retention): re-read the state you mirror, then
 * start again from {@link ResyncNeededError.latest}.
 */
export class ResyncNeededError extends Error {
  override readonly name = 'ResyncNeededError';
  readonly code = 'RESYNC_NEEDED';
  constructor(
    /** The seq the subscriber asked to continue after. */
    readonly since: number,
    /** The oldest seq still in the log. */
    readonly oldest: number,
    /** The newest seq now. */
    readonly latest: number,
  ) {
    super(`resync needed: changes after seq ${since} were pruned (the log starts at ${oldest}); reload and resume from ${latest}`);
  }
}

/**
 * Delivers committed changes in seq order, each once, from the change log in the
 * database file. PUB events only ring the doorbell (and a slow poll backs them
 * up), so a dropped event, a reconnect or a failover can delay a change but never
 * lose or repeat one.
 */
export class ChangeFeed {
  readonly #log: () => ChangeLog | undefined;
  readonly #pollMs: number;
  #waiters = new Set<() => void>();
  #closed = false;

  constructor(log: () => ChangeLog | undefined, pollMs = DEFAULT_CHANGE_POLL_MS) {
    this.#log = log;
    this.#pollMs = pollMs;
  }

  /** Something was committed: wake every iterator. */
  notify(): void {
    const waiters = this.#waiters;
    this.#waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** Ends every iterator (when the node closes). */
  close(): void {
    this.#closed = true;
    this.notify();
  }

  /** The changes after `since`, as an async iterable; see {@link ChangesOptions}. */
  async *changes(options: ChangesOptions = {}): AsyncGenerator<StoredChange, void, undefined> {
    const topics = options.topics;
    const wanted = (c: StoredChange): boolean => {
      if (topics === undefined || topics.length === 0) return true;
      const topic = `db.${c.entity}.${c.op}`;
      return topics.some((t) => topic.startsWith(t));
    };
    const stopped = (): boolean => this.#closed || options.signal?.aborted === true;
    let last = options.since ?? this.#log()?.latestChangeSeq() ?? 0;
    while (!stopped()) {
      const log = this.#log();
      if (log !== undefined) {
        // Latest first: every change up to it is committed, so the page read after
        // it must contain last + 1 unless that change was pruned.
        const latest = log.latestChangeSeq();
        const page = log.changesSince(last, PAGE);
        const first = page[0];
        if (first !== undefined && first.seq !== last + 1) {
          throw new ResyncNeededError(last, log.oldestChangeSeq() ?? first.seq, log.latestChangeSeq());
        }
        if (page.length === 0 && latest > last) {
          throw new ResyncNeededError(last, log.oldestChangeSeq() ?? latest + 1, latest);
        }
        for (const change of page) {
          last = change.seq;
          if (wanted(change)) yield change;
          if (stopped()) return;
        }
        if (page.length === PAGE) continue;
      }
      await this.#wait(options.signal);
    }
  }

  async #wait(signal: AbortSignal | undefined): Promise<void> {
    let wake!: () => void;
    const rung = new Promise<void>((resolve) => {
      wake = resolve;
    });
    this.#waiters.add(wake);
    const ac = new AbortController();
    const onAbort = (): void => wake();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.race([rung, delay(this.#pollMs, undefined, { signal: ac.signal, ref: false }).catch(() => undefined)]);
    } finally {
      ac.abort();
      this.#waiters.delete(wake);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
