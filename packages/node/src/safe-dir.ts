/**
 * Directories that no other user can swap: the runtime directory beside the
 * database and the directory of the ipc sockets. Every check uses lstat or a file
 * descriptor opened with O_NOFOLLOW, so a symlink planted by someone else is never
 * followed into their directory.
 */
import { closeSync, constants, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, realpathSync, type Stats } from 'node:fs';
import { dirname, parse, resolve, sep } from 'node:path';

/** The stable code of {@link UnsafePathError}. */
export const UNSAFE_PATH = 'ERR_SCRIBE_UNSAFE_PATH';

/**
 * A path the node refuses to use because another user could read or replace what
 * is in it: a symlink where a directory is expected, a directory owned by someone
 * else, or one that others may write to. The message says what to change.
 */
export class UnsafePathError extends Error {
  /** Always {@link UNSAFE_PATH}. */
  readonly code = UNSAFE_PATH;
  /** The offending path. */
  readonly path: string;

  constructor(path: string, problem: string, remedy: string, options?: { cause?: unknown }) {
    super(`${path} ${problem}; ${remedy}`, options);
    this.name = 'UnsafePathError';
    this.path = path;
  }
}

/** Who besides the owner may use the node's files and directories. */
export interface AccessPolicy {
  /** Mode of the runtime and socket directories: 0o700, or 0o750/0o770 for a group that shares the database. */
  readonly dirMode: number;
  /** True when the group may write (a shared group is trusted like the owner). */
  readonly groupWritable: boolean;
}

/** Owner-only: the default. */
export const OWNER_ONLY: AccessPolicy = Object.freeze({ dirMode: 0o700, groupWritable: false });

const STICKY = 0o1000;

function myUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8)}`;
}

/**
 * Throws {@link UnsafePathError} unless every directory above `path` (not `path`
 * itself) can only be changed by root or this user: owned by one of them, and not
 * writable by others unless the sticky bit keeps others from renaming what is not
 * theirs (as in /tmp). A symlink on the way is followed only after the directory
 * holding it passed, and its target is checked the same way.
 */
export function assertSafeAncestors(path: string, policy: AccessPolicy = OWNER_ONLY): void {
  const uid = myUid();
  if (uid === undefined) return; // no Unix permissions to check (Windows has no ipc sockets either)
  const absolute = resolve(path);
  const { root } = parse(absolute);
  const parts = absolute.slice(root.length).split(sep).filter((p) => p.length > 0);
  let current = root;
  checkAncestor(current, lstatSync(current), uid, policy);
  for (const part of parts.slice(0, -1)) {
    current = current === root ? `${root}${part}` : `${current}${sep}${part}`;
    const st = lstatSync(current);
    if (st.isSymbolicLink()) {
      // The link cannot be replaced by others (its directory passed); check where it leads.
      const target = realpathSync(current);
      assertSafeAncestors(`${target}${sep}x`, policy);
      continue;
    }
    checkAncestor(current, st, uid, policy);
  }
}

function checkAncestor(dir: string, st: Stats, uid: number, policy: AccessPolicy): void {
  if (!st.isDirectory()) {
    throw new UnsafePathError(dir, 'is not a directory', 'choose another database path (--db) or runtime directory');
  }
  if (st.uid !== 0 && st.uid !== uid) {
    throw new UnsafePathError(
      dir,
      `belongs to another user (uid ${st.uid}), who could replace the scribe directories below it`,
      'keep the database in a directory owned by you or root',
    );
  }
  const sticky = (st.mode & STICKY) !== 0;
  const othersWrite = (st.mode & 0o002) !== 0;
  const groupWrite = (st.mode & 0o020) !== 0 && !policy.groupWritable;
  if ((othersWrite || groupWrite) && !sticky) {
    throw new UnsafePathError(
      dir,
      `is writable by ${othersWrite ? 'every user' : 'its group'} (mode ${octal(st.mode)}) without the sticky bit, so others could replace the scribe directories below it`,
      `run chmod ${othersWrite ? 'o-w' : 'g-w'} ${dir}, or keep the database elsewhere${othersWrite ? '' : " (or set fileMode 0o660 if that group is trusted)"}`,
    );
  }
}

/**
 * Checks an existing directory through a descriptor opened without following a
 * symlink: it must be a directory, owned by this user, and not writable by others
 * (nor by its group unless the policy trusts the group). With `tighten`, its mode
 * is then set to `policy.dirMode` (removing read and search bits beyond it).
 * Throws {@link UnsafePathError} saying what to change.
 */
export function assertOwnDir(dir: string, policy: AccessPolicy = OWNER_ONLY, options: { tighten?: boolean } = {}): void {
  const uid = myUid();
  if (uid === undefined) return;
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR') {
      // O_DIRECTORY|O_NOFOLLOW on a symlink fails with either code, depending on the system.
      const link = lstatSync(dir, { throwIfNoEntry: false })?.isSymbolicLink() === true;
      throw new UnsafePathError(dir, link ? 'is a symlink' : 'is not a directory', `remove it (rm ${dir}); scribe creates the directory itself`, { cause: e });
    }
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (st.uid !== uid) {
      throw new UnsafePathError(dir, `belongs to another user (uid ${st.uid})`, `remove it or choose another database path; scribe needs a directory only you own`);
    }
    const forbidden = policy.groupWritable ? 0o002 : 0o022;
    if ((st.mode & forbidden) !== 0) {
      throw new UnsafePathError(
        dir,
        `is writable by others (mode ${octal(st.mode)}), who may have left files in it`,
        `check its contents, then run chmod ${octal(policy.dirMode)} ${dir} (or remove it)`,
      );
    }
    if (options.tighten === true && (st.mode & 0o777) !== policy.dirMode) fchmodSync(fd, policy.dirMode);
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates `dir` (mode `policy.dirMode`, whatever the umask) or accepts an existing
 * one, after checking that nobody else can swap it or anything above it. Missing
 * parent directories are created owner-only. Throws {@link UnsafePathError} (or the
 * system error, wrapped with the directory named) when that cannot be done.
 */
export function ensureSafeDir(dir: string, policy: AccessPolicy = OWNER_ONLY): void {
  const target = resolve(dir);
  try {
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
    assertSafeAncestors(target, policy);
    try {
      mkdirSync(target, { mode: policy.dirMode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    assertOwnDir(target, policy, { tighten: true });
  } catch (e) {
    if (e instanceof UnsafePathError) throw e;
    throw new Error(`runtime directory: create ${target} (owner-only)`, { cause: e });
  }
}
