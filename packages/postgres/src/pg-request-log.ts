import type { SqlReader, SqlTx } from '@scribe/store';
import { decodeRequestRecord, type RawRequestRecord, type RequestRecord } from '@scribe/store';
import { pgLiteral } from './pg-literal.js';

const COLUMNS = 'request_id, source_instance_id, method, ok, result, committed_at';
const FIND = `SELECT ${COLUMNS} FROM _scribe_requests WHERE request_id = ?`;

/**
 * The request log (`_scribe_requests`) on PostgreSQL, claim first: a write's record is
 * inserted before its handler runs (`ON CONFLICT DO NOTHING`), so the unique index
 * serialises every process that runs the same request id. A second transaction
 * claiming an id that another holds uncommitted waits for it; when that one commits,
 * the claim finds the row and answers from it; when it rolls back (a retryable
 * failure, a crash, a lost connection), the second one claims it and runs the write.
 *
 * The batch executor sends the claim and the outcome as literal statements inside its
 * bookkeeping round trips ({@link PgDeferredStatements}): the `…Statement` methods
 * build them.
 */
export class PgRequestLog {
  readonly #retention: number;

  constructor(retention: number) {
    this.#retention = retention;
  }

  /**
   * The claim of `requestId`: one row (`claimed`) when this transaction now holds the
   * id, none when a committed record holds it. Runs inside the write's savepoint.
   */
  claimStatement(requestId: string, source: string, method: string, at: string): string {
    return (
      `INSERT INTO _scribe_requests (${COLUMNS}) VALUES (${pgLiteral(requestId)}, ${pgLiteral(source)}, ${pgLiteral(method)}, 0, NULL, ${pgLiteral(at)}) ` +
      'ON CONFLICT (request_id) DO NOTHING RETURNING 1 AS claimed'
    );
  }

  /** Writes the final outcome into the claimed record (`stored` is its JSON). */
  settleStatement(requestId: string, ok: boolean, stored: string, at: string): string {
    return `UPDATE _scribe_requests SET ok = ${ok ? 1 : 0}, result = ${pgLiteral(stored)}, committed_at = ${pgLiteral(at)} WHERE request_id = ${pgLiteral(requestId)}`;
  }

  /**
   * The record of `requestId` as a statement of its own: sent after a claim that found
   * it taken, so that (at READ COMMITTED) it reads with a snapshot taken after the
   * claim waited for the other transaction to commit.
   */
  lookupStatement(requestId: string): string {
    return `SELECT ${COLUMNS} FROM _scribe_requests WHERE request_id = ${pgLiteral(requestId)}`;
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
