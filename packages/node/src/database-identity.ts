import { readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { WriteError } from '@scribe/protocol';

/** Which file a path names: its device and inode (as decimal strings: inode numbers may pass 2^53). */
export interface FileIdentity {
  readonly dev: string;
  readonly ino: string;
}

/** What the runtime directory remembers about the database the cluster uses (`database.json`). */
export interface DatabaseRecord extends FileIdentity {
  /** The canonical path when it was recorded. */
  readonly path: string;
  /** RFC 3339. */
  readonly recorded_at: string;
  /**
   * The epoch of the last primary that opened it: a second memory of the epoch besides
   * the lock file, so that a lost lock file cannot make epochs repeat or go back.
   */
  readonly epoch?: number;
}

/** The name of the record in the runtime directory. */
export const DATABASE_RECORD_FILE = 'database.json';

/**
 * The path the cluster is keyed on: symlinks resolved (a symlink alias of the file
 * joins the same cluster, with the same lock and runtime directory, instead of
 * founding a second one). When the file does not exist yet, its directory is
 * resolved and its name kept.
 */
export function canonicalDbPath(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    try {
      return join(realpathSync(dirname(absolute)), basename(absolute));
    } catch {
      return absolute;
    }
  }
}

/** The identity of the file at `path` (symlinks followed), or undefined when there is none. */
export function fileIdentity(path: string): FileIdentity | undefined {
  try {
    const st = statSync(path, { bigint: true });
    return { dev: st.dev.toString(), ino: st.ino.toString() };
  } catch {
    return undefined;
  }
}

/** True when both name the same file. */
export function sameFile(a: FileIdentity | undefined, b: FileIdentity | undefined): boolean {
  return a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;
}

/** Reads the record; undefined when there is none (or it is not one). */
export function readDatabaseRecord(runtimeDir: string): DatabaseRecord | undefined {
  try {
    const v = JSON.parse(readFileSync(join(runtimeDir, DATABASE_RECORD_FILE), 'utf8')) as Partial<DatabaseRecord>;
    if (typeof v.dev === 'string' && typeof v.ino === 'string' && typeof v.path === 'string' && typeof v.recorded_at === 'string') {
      return v as DatabaseRecord;
    }
  } catch {
    // absent or unreadable: no record
  }
  return undefined;
}

/** Writes the record atomically, owner-only. */
export function writeDatabaseRecord(runtimeDir: string, path: string, id: FileIdentity, epoch: number): void {
  const file = join(runtimeDir, DATABASE_RECORD_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  const record: DatabaseRecord = { dev: id.dev, ino: id.ino, path, recorded_at: new Date().toISOString(), epoch };
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * Before a promotion opens the database read-write: refuses (DATABASE_GONE) to
 * create a new, empty file where the runtime directory says one was in use, unless
 * `recreate` is set. A first start (no record) may create it. A file that exists is
 * taken as it is (a restore may have replaced it; the record follows).
 */
export function checkBeforeOpen(dbPath: string, runtimeDir: string, recreate: boolean): void {
  if (fileIdentity(dbPath) !== undefined || recreate) return;
  const record = readDatabaseRecord(runtimeDir);
  if (record === undefined) return;
  throw new WriteError(
    'DATABASE_GONE',
    `the database file ${dbPath} is missing, but this cluster used one there (recorded ${record.recorded_at}); restore it from a backup, or open the node with recreateDatabase: true (or delete ${DATABASE_RECORD_FILE} in ${runtimeDir}) to begin with an empty one`,
  );
}

/**
 * Watches that the path still names the file the primary opened. {@link check}
 * throws DATABASE_GONE once it does not (removed, or replaced by another file):
 * writes into an unlinked file would be acknowledged and lost.
 */
export class DatabaseGuard {
  readonly #path: string;
  readonly #opened: FileIdentity;
  #gone: WriteError | undefined;

  /** `opened`: the identity of the file just opened at `path`. */
  constructor(path: string, opened: FileIdentity) {
    this.#path = path;
    this.#opened = opened;
  }

  /** The identity the primary opened. */
  get opened(): FileIdentity {
    return this.#opened;
  }

  /** The fault, once seen; it does not go away (the open file is no longer the cluster's). */
  get gone(): WriteError | undefined {
    return this.#gone;
  }

  /** Throws DATABASE_GONE when the path no longer names the opened file. */
  check(): void {
    if (this.#gone === undefined && !sameFile(fileIdentity(this.#path), this.#opened)) {
      this.#gone = new WriteError(
        'DATABASE_GONE',
        'the database file was removed or replaced under the primary; it acknowledges no more writes into it (restore the file: a node takes up a file that is back at the path by itself)',
      );
    }
    if (this.#gone !== undefined) throw this.#gone;
  }
}
