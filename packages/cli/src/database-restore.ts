import { closeSync, copyFileSync, existsSync, fsyncSync, linkSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** What {@link replaceDatabase} did. */
export interface ReplaceResult {
  /** Where the database that was replaced now is (with its `-wal` beside it, if it had one); undefined when there was none. */
  readonly previous: string | undefined;
}

/**
 * Puts a copy of `source` in place of the database `db`, safely. The caller makes sure
 * no process has `db` open. Steps, each durable before the next:
 * 1. copy `source` to a temporary file beside `db` (0600), fsync it, and let
 *    `verify` check the copy;
 * 2. keep the current database as `<db>.bak-<time>` (a hard link, so `db` stays in
 *    place meanwhile), and move its `-wal` beside it (`<db>.bak-<time>-wal`): the WAL
 *    belongs to the old file and must never be replayed into the new one; the `-shm`
 *    index is deleted (SQLite rebuilds it);
 * 3. rename the copy over `db` (atomic) and fsync the directory.
 * A crash before step 3 leaves the old database whole under its `.bak-` name.
 */
export function replaceDatabase(db: string, source: string, verify: (copy: string) => void, now: Date = new Date()): ReplaceResult {
  const tmp = `${db}.restore-${process.pid}.tmp`;
  copyPrivate(source, tmp);
  try {
    verify(tmp);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  let previous: string | undefined;
  if (existsSync(db)) {
    previous = `${db}.bak-${now.toISOString().replace(/[:.]/g, '-')}`;
    try {
      linkSync(db, previous);
    } catch {
      copyFileSync(db, previous); // a file system without hard links
    }
    if (existsSync(`${db}-wal`)) renameSync(`${db}-wal`, `${previous}-wal`);
    rmSync(`${db}-shm`, { force: true });
    rmSync(`${db}-journal`, { force: true });
  }
  renameSync(tmp, db);
  fsyncDir(dirname(db));
  return { previous };
}

/** Copies a file into a new owner-only file and flushes it. */
function copyPrivate(from: string, to: string): void {
  const out = openSync(to, 'wx', 0o600);
  const input = openSync(from, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let n: number;
    while ((n = readSync(input, buf, 0, buf.length, null)) > 0) {
      let off = 0;
      while (off < n) off += writeSync(out, buf, off, n - off);
    }
    fsyncSync(out);
  } catch (e) {
    closeSync(out);
    closeSync(input);
    rmSync(to, { force: true });
    throw e;
  }
  closeSync(out);
  closeSync(input);
}

/** Makes a rename in `dir` durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
