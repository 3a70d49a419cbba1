import type { StatusChange } from '@scribe/protocol';

/** A change log the status view reads its tail from, read synchronously (the SQLite node's read-only store). */
export interface StatusChangeLog {
  latestChangeSeq(): number;
  changesSince(seq: number, limit: number): StatusChange[];
}

/** The same, read over the network (a PostgreSQL peer's store). */
export interface AsyncStatusChangeLog {
  latestChangeSeq(): Promise<number>;
  changesSince(seq: number, limit: number): Promise<StatusChange[]>;
}

/**
 * The last `limit` committed changes of a SQLite log, oldest first; empty when there
 * is no log yet or it cannot be read (the status view never fails for its tail).
 */
export function changeTail(log: StatusChangeLog | undefined, limit: number): StatusChange[] {
  if (log === undefined) return [];
  try {
    return log.changesSince(tailStart(log.latestChangeSeq(), limit), limit).map(toStatusChange);
  } catch {
    return [];
  }
}

/** The last `limit` committed changes of a log on a server, oldest first. Rejects when the server does not answer. */
export async function changeTailAsync(log: AsyncStatusChangeLog, limit: number): Promise<StatusChange[]> {
  const latest = await log.latestChangeSeq();
  return (await log.changesSince(tailStart(latest, limit), limit)).map(toStatusChange);
}

// Seqs have no gaps on either engine, so the last `limit` are the ones after latest - limit.
function tailStart(latest: number, limit: number): number {
  return Math.max(0, latest - limit);
}

// Only the fields the view shows: not the request id.
function toStatusChange(c: StatusChange): StatusChange {
  return { seq: c.seq, entity: c.entity, key: c.key, op: c.op, source_instance_id: c.source_instance_id, at: c.at };
}
