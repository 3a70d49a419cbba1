/**
 * Permissions of the database, its WAL and shared-memory files and the runtime
 * directory: owner-only by default, whatever the umask; a documented option lets a
 * group share them.
 */
import { closeSync, constants, fchmodSync, fstatSync, openSync } from 'node:fs';
import { describe } from '@scribe/protocol';
import type { AccessPolicy } from './safe-dir.js';
import { UnsafePathError } from './safe-dir.js';

/** Default `fileMode`: the owner reads and writes, nobody else has access. */
export const DEFAULT_FILE_MODE = 0o600;

/** The file modes `fileMode` accepts: owner-only, or shared with the file's group (read, or read and write). */
export const FILE_MODES = [0o600, 0o640, 0o660] as const;

/** The permissions a node gives its files and directories. */
export interface FileModes extends AccessPolicy {
  /** Mode of the database, `-wal` and `-shm`. */
  readonly fileMode: number;
}

/**
 * Checks the `fileMode` option and derives the directory mode from it (0o600 →
 * 0o700, 0o640 → 0o750, 0o660 → 0o770). Throws a TypeError saying what to change.
 */
export function resolveFileModes(fileMode: unknown): FileModes {
  const mode = fileMode === undefined ? DEFAULT_FILE_MODE : fileMode;
  if (typeof mode !== 'number' || !(FILE_MODES as readonly number[]).includes(mode)) {
    throw new TypeError(
      `Expected 'fileMode' to be one of 0o600 (owner only), 0o640 (group reads) or 0o660 (group reads and writes), got ${
        typeof mode === 'number' ? `0o${mode.toString(8)}` : describe(mode)
      }`,
    );
  }
  const group = mode & 0o070;
  const dirMode = 0o700 | (group === 0 ? 0 : group === 0o040 ? 0o050 : 0o070);
  return Object.freeze({ fileMode: mode, dirMode, groupWritable: group === 0o060 });
}

/**
 * Creates the database file with `modes.fileMode` before SQLite does (SQLite gives
 * its WAL and shared-memory files the database file's mode), or brings an existing
 * file of this user's to that mode. A file of another user is left as it is.
 */
export function prepareDatabaseFile(dbPath: string, modes: FileModes): void {
  const fd = openSync(dbPath, constants.O_RDWR | constants.O_CREAT, modes.fileMode);
  try {
    fitMode(fd, modes.fileMode);
  } finally {
    closeSync(fd);
  }
}

/**
 * After the primary opened the database: the `-wal` and `-shm` files, when they
 * exist, must be regular files (not symlinks) and get `modes.fileMode` (a WAL left
 * 0644 by an older version is tightened). Throws {@link UnsafePathError} for a
 * symlink or a file of another user.
 */
export function enforceSidecarModes(dbPath: string, modes: FileModes): void {
  for (const suffix of ['-wal', '-shm']) {
    const path = `${dbPath}${suffix}`;
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      if (code === 'ELOOP') throw new UnsafePathError(path, 'is a symlink', `stop every scribe process of ${dbPath}, remove ${path} and start again`, { cause: e });
      throw e;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new UnsafePathError(path, 'is not a regular file', `stop every scribe process of ${dbPath}, remove ${path} and start again`);
      if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
        throw new UnsafePathError(path, `belongs to another user (uid ${st.uid})`, `stop every scribe process of ${dbPath} and remove ${path} (or chown it to the database's owner)`);
      }
      fitMode(fd, modes.fileMode);
    } finally {
      closeSync(fd);
    }
  }
}

function fitMode(fd: number, mode: number): void {
  const st = fstatSync(fd);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) return;
  if ((st.mode & 0o777) !== mode) fchmodSync(fd, mode);
}
