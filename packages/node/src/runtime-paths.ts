import { createHash } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import type { Logger } from 'pino';
import { canonicalDbPath } from './database-identity.js';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { ensureSafeDir, OWNER_ONLY } from './safe-dir.js';

/** Where a node keeps its lock, its discovery file and its ipc sockets. */
export interface RuntimePaths {
  /** Absolute path of the database file. */
  readonly dbPath: string;
  /** Owner-only directory beside the database (`.<db name>.scribe/`). */
  readonly runtimeDir: string;
  /** The primary lock (a sidecar SQLite file). */
  readonly lockPath: string;
  /** The discovery file the primary writes and secondaries read. */
  readonly discoveryPath: string;
  /**
   * Directory for ipc sockets when it is known in advance: the runtime directory,
   * or `$XDG_RUNTIME_DIR/scribe-<hash>` when the runtime directory's path is too
   * long for a Unix socket. Undefined when neither fits: each primary then creates a
   * fresh owner-only directory with a random name under the temp dir (see
   * `createSocketDir`), which its endpoints in the discovery file record.
   */
  readonly socketDir: string | undefined;
}

/** Longest path a Unix socket address may hold on Linux (sun_path is 108 bytes with the NUL). */
export const MAX_SOCKET_PATH = 100;

/** The longest socket file name the node uses (`router-` + a six-digit epoch + `.sock`). */
const LONGEST_SOCKET_NAME = 'router-000000.sock';

/** True when sockets named as the node names them fit a Unix socket address inside `dir`. */
export function fitsSocketPath(dir: string): boolean {
  return Buffer.byteLength(join(dir, LONGEST_SOCKET_NAME)) <= MAX_SOCKET_PATH;
}

/**
 * Computes the runtime paths of a database; creates nothing. `env` (default
 * `process.env`) supplies `XDG_RUNTIME_DIR`.
 */
export function resolveRuntimePaths(dbPath: string, runtimeDir?: string, env: NodeJS.ProcessEnv = process.env): RuntimePaths {
  // Keyed on the file, not on how its path is spelled: a symlink alias finds the same runtime directory.
  const db = canonicalDbPath(dbPath);
  const dir = runtimeDir === undefined ? join(dirname(db), `.${basename(db)}.scribe`) : resolve(runtimeDir);
  let socketDir: string | undefined = dir;
  if (!fitsSocketPath(dir)) {
    const xdg = env.XDG_RUNTIME_DIR;
    const hash = createHash('sha256').update(db).digest('hex').slice(0, 16);
    socketDir = xdg !== undefined && isAbsolute(xdg) && fitsSocketPath(join(xdg, `scribe-${hash}`)) ? join(xdg, `scribe-${hash}`) : undefined;
  }
  return Object.freeze({
    dbPath: db,
    runtimeDir: dir,
    lockPath: join(dir, 'primary.lock'),
    discoveryPath: join(dir, 'discovery.json'),
    socketDir,
  });
}

/**
 * The default (ipc) endpoints of the primary of a given epoch, in `socketDir`.
 * Epoch-specific names keep an old primary from ever unlinking a new one's socket.
 */
export function defaultEndpoints(socketDir: string, epoch: number): { router: string; pub: string } {
  const n = String(epoch).padStart(6, '0');
  return {
    router: `ipc://${join(socketDir, `router-${n}.sock`)}`,
    pub: `ipc://${join(socketDir, `pub-${n}.sock`)}`,
  };
}

/**
 * Creates a directory readable by its owner only (0700), or accepts an existing
 * one that this user owns and no one else can write (tightening its read bits),
 * after checking that no directory above it can be swapped by another user. Throws
 * an `UnsafePathError` or an error naming the directory, so a node fails at
 * start-up rather than at its first write.
 */
export function ensurePrivateDir(dir: string): void {
  ensureSafeDir(dir, OWNER_ONLY);
}

/** Removes the sockets of earlier epochs in `socketDir`, left by a primary that died without cleaning up. */
export function removeStaleSockets(socketDir: string, epoch: number, log: Logger): void {
  try {
    for (const name of readdirSync(socketDir)) {
      const m = /^(router|pub)-(\d+)\.sock$/.exec(name);
      if (m !== null && Number(m[2]) < epoch) rmSync(join(socketDir, name), { force: true });
    }
  } catch (e) {
    log.warn({ err: e }, 'could not remove stale sockets');
  }
}
