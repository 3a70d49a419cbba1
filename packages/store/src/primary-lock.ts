import { statSync } from 'node:fs';
import Database from 'better-sqlite3';

/** Options of {@link PrimaryLock}. */
export interface PrimaryLockOptions {
  /** The sidecar lock file (created if absent). */
  path: string;
}

/**
 * The primary lock: an exclusive SQLite lock on a small sidecar database.
 *
 * SQLite's lock is a POSIX advisory lock, which the operating system drops when
 * the holding process dies, however it dies; so a crash can never leave a stale
 * lock behind, unlike a PID file. The sidecar also stores the epoch: the
 * holder increments it in the same exclusive transaction that takes the lock, so
 * every promotion gets a number no earlier primary had, and the number survives
 * restarts. In `locking_mode=EXCLUSIVE` the connection keeps its exclusive lock
 * after that commit until it is closed.
 */
export class PrimaryLock {
  readonly path: string;
  #db: Database.Database | undefined;
  #epoch = 0;
  /** Device and inode of the lock file this holder locked. */
  #identity: string | undefined;

  constructor(options: PrimaryLockOptions) {
    this.path = options.path;
  }

  /** True while this object holds the lock. */
  get held(): boolean {
    return this.#db !== undefined;
  }

  /** The epoch this holder got; 0 when not held. */
  get epoch(): number {
    return this.#epoch;
  }

  /**
   * Takes the lock if nobody holds it, without waiting. Returns the new epoch, or
   * undefined when another connection (in this or another process) holds it.
   */
  tryAcquire(): number | undefined {
    if (this.#db !== undefined) return this.#epoch;
    const db = new Database(this.path, { timeout: 0 });
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE');
      db.exec('CREATE TABLE IF NOT EXISTS scribe_epoch (id INTEGER PRIMARY KEY CHECK (id = 1), epoch INTEGER NOT NULL)');
      db.exec('INSERT INTO scribe_epoch (id, epoch) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET epoch = epoch + 1');
      const row = db.prepare('SELECT epoch FROM scribe_epoch WHERE id = 1').get() as { epoch: number };
      db.exec('COMMIT');
      this.#db = db;
      this.#epoch = row.epoch;
      this.#identity = identityOf(this.path);
      return row.epoch;
    } catch (e) {
      db.close();
      if (isBusy(e)) return undefined;
      throw new Error(`primary lock: take the lock on ${this.path}`, { cause: e });
    }
  }

  /**
   * Raises the held epoch to at least `min` and stores it, so that epochs never go
   * back even when the lock file was lost (the epochs seen elsewhere, in the
   * discovery record say, are passed in). Returns the epoch now held.
   */
  raiseEpoch(min: number): number {
    const db = this.#db;
    if (db === undefined) throw new Error('primary lock: raiseEpoch without holding the lock');
    if (min <= this.#epoch) return this.#epoch;
    db.prepare('UPDATE scribe_epoch SET epoch = ? WHERE id = 1').run(min);
    this.#epoch = min;
    return min;
  }

  /**
   * True while the lock file at {@link path} is still the file this holder locked. A
   * stray `rm` (or a replacement) of the lock file lets another process lock a new
   * file at the same path; the holder must then stop acting as primary.
   */
  isIntact(): boolean {
    return this.#db !== undefined && this.#identity !== undefined && identityOf(this.path) === this.#identity;
  }

  /** Releases the lock (closing the connection drops it). Safe to call twice. */
  release(): void {
    const db = this.#db;
    this.#db = undefined;
    this.#epoch = 0;
    this.#identity = undefined;
    db?.close();
  }
}

function identityOf(path: string): string | undefined {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}
