import { setTimeout as delay } from 'node:timers/promises';
import type { StoredChange } from '@scribe/store';

/** How often a change feed reads the change log even without a doorbell. */
export const DEFAULT_CHANGE_POLL_MS = 250;
/** Most changes read from the log at once. */
const PAGE = 1000;

/**
 * What a change feed reads: the local (read-only) store's change log on SQLite, the
 * server's on PostgreSQL (whose reads are async).
 */
export interface ChangeLog {
  changesSince(seq: number, limit: number): StoredChange[] | Promise<StoredChange[]>;
  oldestChangeSeq(): number | undefined | Promise<number | undefined>;
  latestChangeSeq(): number | Promise<number>;
}

/** Options of a {@link ChangeFeed} beyond its log. */
export interface ChangeFeedOptions {
  /**
   * Milliseconds between two reads of the log without a doorbell (default
   * {@link DEFAULT_CHANGE_POLL_MS}); a function is asked before each wait (PostgreSQL
   * polls fast only while its LISTEN connection is down).
   */
  readonly pollMs?: number | (() => number);
  /**
   * Says whether a failed read of the log is passing (the server is unreachable for
   * a while): the iterator then waits and reads again instead of throwing.
   */
  readonly transient?: (error: unknown) => boolean;
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
  readonly #pollMs: () => number;
  readonly #transient: (error: unknown) => boolean;
  #waiters = new Set<() => void>();
  #closed = false;

  constructor(log: () => ChangeLog | undefined, options: number | ChangeFeedOptions = {}) {
    const o = typeof options === 'number' ? { pollMs: options } : options;
    const poll = o.pollMs ?? DEFAULT_CHANGE_POLL_MS;
    this.#log = log;
    this.#pollMs = typeof poll === 'function' ? poll : () => poll;
    this.#transient = o.transient ?? (() => false);
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
    // Default: from the latest seq when the first read happens (0 while there is no log yet, as before).
    let last = options.since ?? (this.#log() === undefined ? 0 : undefined);
    while (!stopped()) {
      const log = this.#log();
      if (log !== undefined) {
        let latest: number;
        let page: StoredChange[];
        let from: number;
        try {
          from = last ??= await log.latestChangeSeq();
          // Latest first: every change up to it is committed, so the page read after
          // it must contain last + 1 unless that change was pruned.
          latest = await log.latestChangeSeq();
          page = await log.changesSince(from, PAGE);
        } catch (e) {
          if (!this.#transient(e)) throw e;
          await this.#wait(options.signal);
          continue;
        }
        const first = page[0];
        if (first !== undefined && first.seq !== from + 1) {
          throw new ResyncNeededError(from, (await log.oldestChangeSeq()) ?? first.seq, await log.latestChangeSeq());
        }
        if (page.length === 0 && latest > from) {
          throw new ResyncNeededError(from, (await log.oldestChangeSeq()) ?? latest + 1, latest);
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
    // Aborted (or closed) while a read was awaited: its event has fired already.
    if (signal?.aborted === true || this.#closed) return;
    let wake!: () => void;
    const rung = new Promise<void>((resolve) => {
      wake = resolve;
    });
    this.#waiters.add(wake);
    const ac = new AbortController();
    const onAbort = (): void => wake();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.race([rung, delay(this.#pollMs(), undefined, { signal: ac.signal, ref: false }).catch(() => undefined)]);
    } finally {
      ac.abort();
      this.#waiters.delete(wake);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
