import type Database from 'better-sqlite3';
import type { ChangeEvent, ChangeOp } from '@scribe/protocol';
import type { StatementCache } from './statement-cache.js';

/** A change event with its place in the change log. */
export interface StoredChange extends ChangeEvent {
  seq: number;
}

const INSERT = 'INSERT INTO _scribe_changes (entity, key, op, request_id, source_instance_id, at) VALUES (?, ?, ?, ?, ?, ?)';
const LATEST = 'SELECT MAX(seq) AS m FROM _scribe_changes';

/**
 * The change log (`_scribe_changes`): every change event committed, numbered by `seq`,
 * written in the same transaction as its write. Pruned to the newest `retention` events.
 */
export class ChangeLog {
  readonly #cache: StatementCache;
  readonly #retention: number;
  #insert: Database.Statement | undefined;

  constructor(cache: StatementCache, retention: number) {
    this.#cache = cache;
    this.#retention = retention;
  }

  /** Appends one event (inside the batch that holds the connection) and returns it with its seq. */
  append(entity: string, key: string, op: ChangeOp, requestId: string, source: string, at: string): StoredChange {
    // The cache keeps its statements for the connection's life: hold on to the one of the hot path.
    this.#insert ??= this.#cache.statement(INSERT);
    const info = this.#insert.run(entity, key, op, requestId, source, at);
    return { seq: Number(info.lastInsertRowid), entity, key, op, request_id: requestId, source_instance_id: source, at };
  }

  /** Change events with seq greater than `seq`, oldest first. */
  since(seq: number, limit: number): StoredChange[] {
    this.#cache.assertFree('changesSince');
    return this.#cache
      .statement('SELECT seq, entity, key, op, request_id, source_instance_id, at FROM _scribe_changes WHERE seq > ? ORDER BY seq LIMIT ?')
      .all(seq, limit) as StoredChange[];
  }

  /** The oldest seq still in the log, or undefined when it is empty. */
  oldest(): number | undefined {
    this.#cache.assertFree('oldestChangeSeq');
    const r = this.#cache.statement('SELECT MIN(seq) AS m FROM _scribe_changes').get() as { m: number | null };
    return r.m ?? undefined;
  }

  /**
   * The newest seq given (0 when none). Pruning keeps the newest rows, so the maximum
   * never goes back and a new change always gets the next number: seq is the rowid
   * (`MAX(rowid) + 1`), and a rolled-back write gives its number back, which keeps seq
   * gap-free among committed writes.
   */
  latest(): number {
    this.#cache.assertFree('latestChangeSeq');
    return this.#latest();
  }

  /** Deletes all but the newest `retention` events. */
  prune(): void {
    const maxSeq = this.#latest();
    if (maxSeq > this.#retention) {
      this.#cache.statement('DELETE FROM _scribe_changes WHERE seq <= ?').run(maxSeq - this.#retention);
    }
  }

  #latest(): number {
    return (this.#cache.statement(LATEST).get() as { m: number | null }).m ?? 0;
  }
}
