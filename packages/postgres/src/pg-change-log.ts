import type { ChangeOp } from '@scribe/protocol';
import type { SqlReader, SqlTx, StoredChange } from '@scribe/store';
import type { PgQueryable } from './pg-sql-tx.js';

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

const TAKE = 'UPDATE _scribe_change_counter SET seq = seq + $1 WHERE id = 1 RETURNING seq';
const INSERT = `INSERT INTO _scribe_changes (seq, entity, key, op, request_id, source_instance_id, at)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`;
const NOTIFY = `SELECT pg_notify('${CHANGES_CHANNEL}', $1)`;

/**
 * The change log (`_scribe_changes`) on PostgreSQL, numbered in commit order.
 *
 * A batch takes its numbers at its very end, just before COMMIT, with one
 * `UPDATE _scribe_change_counter SET seq = seq + n … RETURNING seq`. The row lock that
 * UPDATE takes is held until the transaction ends, so a second batch's UPDATE waits
 * until the first has committed (and then, at READ COMMITTED, re-reads the row and
 * counts on from the first one's value) or rolled back (its numbers are given back,
 * its UPDATE undone with it). So a batch with higher numbers always commits after
 * every batch with lower ones. PostgreSQL makes a commit visible before it releases
 * the transaction's locks, so whoever sees seq `s` committed also sees every seq
 * below it: `seq > since ORDER BY seq` never skips a change that commits later with a
 * lower number, and committed numbers have no gaps. Only this tail is serialised
 * between processes; handlers run concurrently. See docs/postgresql.md.
 */
export class PgChangeLog {
  readonly #retention: number;

  constructor(retention: number) {
    this.#retention = retention;
  }

  /**
   * Numbers `pending` (in order), inserts them and queues a NOTIFY (delivered at
   * commit), all on the batch's connection inside its transaction. Call it last
   * before COMMIT: the counter's lock is held from here to the end of the transaction.
   */
  async append(client: PgQueryable, pending: readonly PendingChange[]): Promise<StoredChange[]> {
    if (pending.length === 0) return [];
    const n = pending.length;
    const taken = await client.query({ text: TAKE, values: [n] });
    const last = Number((taken.rows[0] as { seq: number | string }).seq);
    const first = last - n + 1;
    const stored = pending.map((c, i) => ({ seq: first + i, ...c }));
    await client.query({
      text: INSERT,
      values: [
        stored.map((c) => c.seq),
        stored.map((c) => c.entity),
        stored.map((c) => c.key),
        stored.map((c) => c.op),
        stored.map((c) => c.request_id),
        stored.map((c) => c.source_instance_id),
        stored.map((c) => c.at),
      ],
    });
    await client.query({ text: NOTIFY, values: [String(last)] });
    return stored;
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
