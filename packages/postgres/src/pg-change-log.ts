import type { ChangeOp } from '@scribe/protocol';
import type { SqlReader, SqlTx, StoredChange } from '@scribe/store';
import { pgLiteral } from './pg-literal.js';

/** The channel every committed batch with changes notifies (payload: its last seq). */
export const CHANGES_CHANNEL = 'scribe_changes';

/** A change a write recorded, before the batch commits and numbers it. */
export interface PendingChange {
  readonly entity: string;
  readonly key: string;
  readonly op: ChangeOp;
  readonly request_id: string;
  readonly source_instance_id: string;
  readonly at: string;
}

/**
 * The change log (`_scribe_changes`) on PostgreSQL, numbered in commit order.
 *
 * A batch takes its numbers at its very end, in the round trip that commits it, with
 * one statement ({@link appendStatement}) whose first part is
 * `UPDATE _scribe_change_counter SET seq = seq + n … RETURNING seq`. The row lock that
 * UPDATE takes is held until the transaction ends, so a second batch's UPDATE waits
 * until the first has committed (and then, at READ COMMITTED, re-reads the row and
 * counts on from the first one's value) or rolled back (its numbers are given back,
 * its UPDATE undone with it). So a batch with higher numbers always commits after
 * every batch with lower ones. PostgreSQL makes a commit visible before it releases
 * the transaction's locks, so whoever sees seq `s` committed also sees every seq
 * below it: `seq > since ORDER BY seq` never skips a change that commits later with a
 * lower number, and committed numbers have no gaps. Only this tail is serialised
 * between processes (and, sent with COMMIT in one round trip, for no network round
 * trip of its own); handlers run concurrently. See docs/postgresql.md.
 */
export class PgChangeLog {
  readonly #retention: number;

  constructor(retention: number) {
    this.#retention = retention;
  }

  /**
   * One statement that numbers `pending` (in order), inserts them and queues a NOTIFY
   * of the last number (delivered at commit); its one row is `{ seq }`, the last
   * number ({@link numbered} reads it). Values are literals, for the simple query
   * protocol: send it last before COMMIT, in the same round trip, since the counter's
   * lock is held from here to the end of the transaction. Undefined when there is
   * nothing to append.
   */
  appendStatement(pending: readonly PendingChange[]): string | undefined {
    const n = pending.length;
    if (n === 0) return undefined;
    const values = pending
      .map((c, i) => `(${i + 1}, ${pgLiteral(c.entity)}, ${pgLiteral(c.key)}, ${pgLiteral(c.op)}, ${pgLiteral(c.request_id)}, ${pgLiteral(c.source_instance_id)}, ${pgLiteral(c.at)})`)
      .join(', ');
    return (
      `WITH taken AS (UPDATE _scribe_change_counter SET seq = seq + ${n} WHERE id = 1 RETURNING seq), ` +
      `pending (i, entity, key, op, request_id, source_instance_id, at) AS (VALUES ${values}), ` +
      'inserted AS (INSERT INTO _scribe_changes (seq, entity, key, op, request_id, source_instance_id, at) ' +
      `SELECT taken.seq - ${n} + pending.i, pending.entity, pending.key, pending.op, pending.request_id, pending.source_instance_id, pending.at FROM taken CROSS JOIN pending) ` +
      `SELECT seq, pg_notify('${CHANGES_CHANNEL}', seq::text) AS notified FROM taken`
    );
  }

  /** The stored changes, numbered from the result rows of {@link appendStatement}. */
  numbered(pending: readonly PendingChange[], rows: readonly unknown[]): StoredChange[] {
    const seq = (rows[0] as { seq?: number | string } | undefined)?.seq;
    // No row: the counter's row is missing (a damaged schema); nothing may commit unnumbered.
    if (seq === undefined) throw new Error('postgres: _scribe_change_counter has no row; the changes cannot be numbered');
    const last = Number(seq);
    const first = last - pending.length + 1;
    return pending.map((c, i) => ({ seq: first + i, ...c }));
  }

  /** Change events with seq greater than `seq`, oldest first. */
  since(reader: SqlReader, seq: number, limit: number): Promise<StoredChange[]> {
    return reader.all<StoredChange>(
      'SELECT seq, entity, key, op, request_id, source_instance_id, at FROM _scribe_changes WHERE seq > ? ORDER BY seq LIMIT ?',
      [seq, limit],
    );
  }

  /** The oldest seq still in the log, or undefined when it is empty. */
  async oldest(reader: SqlReader): Promise<number | undefined> {
    return (await reader.get<{ m: number | null }>('SELECT MIN(seq) AS m FROM _scribe_changes'))?.m ?? undefined;
  }

  /**
   * The newest committed seq (0 when none): the counter, which commits with the
   * changes it numbered, so every seq up to it is committed and visible.
   */
  async latest(reader: SqlReader): Promise<number> {
    return (await reader.get<{ seq: number }>('SELECT seq FROM _scribe_change_counter WHERE id = 1'))?.seq ?? 0;
  }

  /** Deletes all but the newest `retention` events. */
  async prune(tx: SqlTx): Promise<void> {
    const latest = await this.latest(tx);
    if (latest > this.#retention) await tx.run('DELETE FROM _scribe_changes WHERE seq <= ?', [latest - this.#retention]);
  }
}
