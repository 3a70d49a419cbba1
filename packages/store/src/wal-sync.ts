import { closeSync, constants, fdatasync, fdatasyncSync, fstatSync, fsyncSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { WriteError } from '@scribe/protocol';

/**
 * How a read-write store makes a commit durable at `synchronous` FULL or EXTRA.
 *
 * - `pipelined`: the connection runs at `synchronous=NORMAL`, so
 *   COMMIT writes the WAL frames without waiting for the disk, and the store then
 *   `fdatasync`s the `-wal` file on libuv's thread pool ({@link WalSync}). The
 *   commit's writes are acknowledged only once that sync completed, and the event
 *   loop keeps receiving, executing the next batch and replying meanwhile. Other
 *   connections (readers, a secondary's local reads, change-feed polls) may see a
 *   commit up to one sync before it is durable: a power loss in that window loses a
 *   write nobody was told had succeeded, but which a reader may have read. A
 *   process crash never loses it (the operating system has the frames).
 * - `inline` (the default): the connection runs at the level asked, and COMMIT
 *   waits for the disk on the event loop. Nothing is visible before it is durable.
 *   On the two-core machine of docs/performance.md it was as fast or faster than
 *   `pipelined` (the machine is CPU-bound, and pipelining made batches smaller).
 *
 * At NORMAL and OFF both behave the same (nothing is synced at commit).
 */
export const COMMIT_SYNC_MODES = ['pipelined', 'inline'] as const;
/** One of {@link COMMIT_SYNC_MODES}. */
export type CommitSync = (typeof COMMIT_SYNC_MODES)[number];
/** The default {@link CommitSync}. */
export const DEFAULT_COMMIT_SYNC: CommitSync = 'inline';

/** The file operations {@link WalSync} uses; tests inject a controllable `fdatasync`. */
export interface WalSyncIo {
  /** `fs.fdatasync`: flushes the file's data (and the metadata needed to read it) on the thread pool. */
  fdatasync(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void;
}

const NODE_IO: WalSyncIo = { fdatasync };

interface Group {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: WriteError) => void;
}

function group(): Group {
  let resolve!: () => void;
  let reject!: (error: WriteError) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A group nobody waits on (a store closed under it) must not be an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/**
 * Makes the commits of a WAL connection that runs at `synchronous=NORMAL` durable,
 * in commit order, off the event loop.
 *
 * Call {@link afterCommit} right after each COMMIT returned: the promise it returns
 * resolves once an `fdatasync` of the `-wal` file that STARTED after that COMMIT
 * has completed, so every frame the commit wrote is on disk. At most one sync runs
 * at a time; commits made while one runs share the next one (group sync), which
 * starts as soon as the running one ends. Groups resolve in commit order.
 *
 * Why this is as durable as FULL: at NORMAL, SQLite writes a commit's frames to the
 * `-wal` file with the commit flag but does not sync them; syncing that file's data
 * afterwards makes them durable exactly as FULL's in-COMMIT sync would. SQLite
 * itself still syncs the WAL before every checkpoint copies frames back into the
 * database, and syncs a new WAL header (and, for a new `-wal` file, its directory)
 * when it restarts the log, at NORMAL as at FULL; so a checkpoint or a restart never
 * overwrites frames of a commit not yet synced here. The `-wal` file is kept open by
 * SQLite while the store's connection is open (no other connection may delete it
 * then); this class opens its own descriptor on it once, syncs its directory once,
 * and checks before each sync that the path still names the same file (reopening
 * it if not).
 *
 * After a failed sync the file's state on disk is unknown (the kernel may have
 * dropped the dirty pages and a later sync could succeed without them): every
 * later {@link afterCommit} rejects with the same STORAGE_IO error, so nothing more
 * is acknowledged until the store is opened again.
 */
export class WalSync {
  readonly #walPath: string;
  readonly #io: WalSyncIo;
  #fd: number | undefined;
  #ino = -1;
  #dev = -1;
  /** The group whose sync is running. */
  #running: Group | undefined;
  /** Commits made while a sync runs: they wait for the next one. */
  #waiting: Group | undefined;
  #failed: WriteError | undefined;
  #closed = false;

  /** `walPath`: the database's `-wal` file. */
  constructor(walPath: string, io: WalSyncIo = NODE_IO) {
    this.#walPath = walPath;
    this.#io = io;
  }

  /** True while a sync runs or commits wait for one. */
  get busy(): boolean {
    return this.#running !== undefined;
  }

  /**
   * Call right after a COMMIT returned. Resolves once that commit is durable;
   * rejects with a STORAGE_IO WriteError when the sync failed (or an earlier one
   * did), or SHUTTING_DOWN when the store closed first.
   */
  afterCommit(): Promise<void> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    if (this.#closed) return Promise.reject(closedError());
    if (this.#running !== undefined) {
      // The running sync may have started before this commit's frames were written.
      this.#waiting ??= group();
      return this.#waiting.promise;
    }
    const g = group();
    this.#start(g);
    return g.promise;
  }

  /** Syncs the `-wal` file now, on the calling thread (after migrations at open, before serving). */
  syncNow(): void {
    if (this.#failed !== undefined) throw this.#failed;
    let fd: number;
    try {
      fd = this.#descriptor();
      fdatasyncSync(fd);
    } catch (e) {
      throw this.#fail(e);
    }
  }

  /** Closes the descriptor once no sync runs; waiting commits are rejected with SHUTTING_DOWN. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(closedError());
    if (this.#running === undefined) this.#closeFd();
  }

  #start(g: Group): void {
    this.#running = g;
    let fd: number;
    try {
      fd = this.#descriptor();
    } catch (e) {
      this.#finish(g, e);
      return;
    }
    this.#io.fdatasync(fd, (error) => this.#finish(g, error));
  }

  #finish(g: Group, error: unknown): void {
    this.#running = undefined;
    if (error !== null && error !== undefined) {
      const failure = this.#fail(error);
      g.reject(failure);
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting?.reject(failure);
    } else {
      g.resolve();
      const next = this.#waiting;
      this.#waiting = undefined;
      if (next !== undefined) {
        this.#start(next);
        return;
      }
    }
    if (this.#closed) this.#closeFd();
  }

  #fail(error: unknown): WriteError {
    this.#failed ??= new WriteError(
      'STORAGE_IO',
      'the disk reported an error while making committed writes durable; they may not survive a power loss, and this primary acknowledges no more writes until it is restarted',
      { method: null, cause: error, retryable: false },
    );
    return this.#failed;
  }

  /** The descriptor of the `-wal` file now at the path; opened (and its directory synced) when new. */
  #descriptor(): number {
    if (this.#fd !== undefined) {
      const st = statSync(this.#walPath, { throwIfNoEntry: false });
      if (st !== undefined && st.ino === this.#ino && st.dev === this.#dev) return this.#fd;
      this.#closeFd();
    }
    // O_NOFOLLOW: never sync (and so never trust) a file another user swapped in as a symlink.
    const fd = openSync(this.#walPath, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const st = fstatSync(fd);
      this.#ino = st.ino;
      this.#dev = st.dev;
      // The directory entry of the -wal file (SQLite syncs it when it creates the file; once more costs nothing).
      syncDirectory(dirname(this.#walPath));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    this.#fd = fd;
    return fd;
  }

  #closeFd(): void {
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd !== undefined) closeSync(fd);
  }
}

function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY);
    fsyncSync(fd);
  } catch (e) {
    // Some platforms cannot open or sync a directory; the file's own sync still holds its data.
    if ((e as { code?: unknown }).code !== 'EISDIR' && (e as { code?: unknown }).code !== 'EPERM' && (e as { code?: unknown }).code !== 'EINVAL') throw e;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function closedError(): WriteError {
  return new WriteError('SHUTTING_DOWN', 'the store closed before this commit was made durable', { method: null });
}
