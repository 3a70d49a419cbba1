import type Database from 'better-sqlite3';
import { mapDriverError } from './driver-errors.js';

/**
 * A page write in a transaction that is rolled back (nothing changes): BEGIN IMMEDIATE
 * alone succeeds on a connection SQLite opened read-only; writing `user_version` does not.
 */
function tryPageWrite(db: Database.Database): void {
  try {
    db.exec('BEGIN IMMEDIATE');
    const v = db.pragma('user_version', { simple: true }) as number;
    db.pragma(`user_version = ${v}`);
    db.exec('ROLLBACK');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  }
}

/**
 * Checks that the connection can take the write lock and write now, without waiting
 * for another connection's lock (busy timeout 0 for the probe); throws the mapped
 * WriteError (BUSY, NOT_PRIMARY, storage faults) when it cannot. Must not run while a
 * batch's transaction is open on the connection (the store queues it behind batches).
 */
export function probeWritable(db: Database.Database): void {
  // A probe must not hang the event loop on another process's lock: do not wait at all.
  const previous = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma('busy_timeout = 0');
  try {
    tryPageWrite(db);
  } catch (e) {
    throw mapDriverError(e, 'probeWritable');
  } finally {
    db.pragma(`busy_timeout = ${previous}`);
  }
}

/**
 * Checks, when a store opens read-write, that the connection can really write. SQLite
 * silently opens a file it may not write (permissions, an immutable attribute, a
 * read-only mount) read-only; a primary on such a connection would answer every write
 * with an error forever. Throws an error that says why.
 */
export function assertFileWritable(db: Database.Database, path: string): void {
  try {
    tryPageWrite(db);
  } catch (e) {
    const mapped = mapDriverError(e, null);
    if (mapped.code === 'NOT_PRIMARY') {
      throw new Error(
        `store: open ${path} read-write: the file can only be opened read-only (check its permissions, its attributes (lsattr) and whether its filesystem is mounted read-only)`,
        { cause: e },
      );
    }
    throw new Error(`store: open ${path} read-write: a test write failed (${mapped.code})`, { cause: mapped });
  }
}
