import type { SqlReader, SqlTx } from '@scribe/store';
import { decodeRequestRecord, type RawRequestRecord, type RequestRecord } from '@scribe/store';

const CLAIM =
  'INSERT INTO _scribe_requests (request_id, source_instance_id, method, ok, result, committed_at) VALUES (?, ?, ?, 0, NULL, ?) ' +
  'ON CONFLICT (request_id) DO NOTHING RETURNING 1 AS claimed';
const SETTLE = 'UPDATE _scribe_requests SET ok = ?, result = ?, committed_at = ? WHERE request_id = ?';
const FIND = 'SELECT request_id, source_instance_id, method, ok, result, committed_at FROM _scribe_requests WHERE request_id = ?';

/**
 * The request log (`_scribe_requests`) on PostgreSQL, claim first: a write's record is
 * inserted before its handler runs (`ON CONFLICT DO NOTHING`), so the unique index
 * serialises every process that runs the same request id. A second transaction
 * claiming an id that another holds uncommitted waits for it; when that one commits,
 * the claim finds the row and answers from it; when it rolls back (a retryable
 * failure, a crash, a lost connection), the second one claims it and runs the write.
 */
export class PgRequestLog {
  readonly #retention: number;

  constructor(retention: number) {
    this.#retention = retention;
  }

  /** Claims `requestId` inside the write's savepoint; false when a committed record holds it. */
  async claim(tx: SqlTx, requestId: string, source: string, method: string, at: string): Promise<boolean> {
    return (await tx.get(CLAIM, [requestId, source, method, at])) !== undefined;
  }

  /** Writes the final outcome into the claimed record (`stored` is its JSON). */
  async settle(tx: SqlTx, requestId: string, ok: boolean, stored: string, at: string): Promise<void> {
    await tx.run(SETTLE, [ok ? 1 : 0, stored, at, requestId]);
  }

  /** The stored row of `requestId`, if a committed (or this transaction's) record holds it. */
  lookup(reader: SqlReader, requestId: string): Promise<RawRequestRecord | undefined> {
    return reader.get<RawRequestRecord>(FIND, [requestId]);
  }

  /** The record of a request id, if it committed. */
  async find(reader: SqlReader, requestId: string): Promise<RequestRecord | undefined> {
    const r = await this.lookup(reader, requestId);
    return r === undefined ? undefined : decodeRequestRecord(r);
  }

  /** Deletes all but the newest `retention` records (by insertion order). */
  async prune(tx: SqlTx): Promise<void> {
    const max = (await tx.get<{ m: number | null }>('SELECT MAX(rowid) AS m FROM _scribe_requests'))?.m ?? 0;
    if (max > this.#retention) await tx.run('DELETE FROM _scribe_requests WHERE rowid <= ?', [max - this.#retention]);
  }
}
