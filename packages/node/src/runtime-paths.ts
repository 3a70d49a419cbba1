import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

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
  /** Directory for ipc sockets: the runtime directory, or a short owner-only one under the temp dir when that path is too long for a Unix socket. */
  readonly socketDir: string;
}

/** Longest path a Unix socket address may hold on Linux (sun_path is 108 bytes with the NUL). */
const MAX_SOCKET_PATH = 100;

/** Computes the runtime paths of a database; creates nothing. */
export function resolveRuntimePaths(dbPath: string, runtimeDir?: string): RuntimePaths {
  const db = resolve(dbPath);
  const dir = runtimeDir === undefined ? join(dirname(db), `.${basename(db)}.scribe`) : resolve(runtimeDir);
  let socketDir = dir;
  if (Buffer.byteLength(join(dir, 'router-000000.sock')) > MAX_SOCKET_PATH) {
    const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
    const hash = createHash('sha256').update(db).digest('hex').slice(0, 16);
    socketDir = join(tmpdir(), `scribe-${uid}`, hash);
  }
  return Object.freeze({
    dbPath: db,
    runtimeDir: dir,
    lockPath: join(dir, 'primary.lock'),
    discoveryPath: join(dir, 'discovery.json'),
    socketDir,
  });
}

/** The default (ipc) endpoints of the primary of a given epoch. Epoch-specific names keep an old primary from ever unlinking a new one's socket. */
export function defaultEndpoints(paths: RuntimePaths, epoch: number): { router: string; pub: string } {
  const n = String(epoch).padStart(6, '0');
  return {
    router: `ipc://${join(paths.socketDir, `router-${n}.sock`)}`,
    pub: `ipc://${join(paths.socketDir, `pub-${n}.sock`)}`,
  };
}

/**
 * Creates a directory readable by its owner only (0700), tightening it if it exists.
 * Throws an error naming the directory when that cannot be done, so a node fails at
 * start-up rather than at its first write.
 */
export function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = statSync(dir);
    if (!st.isDirectory()) throw new Error(`${dir} exists and is not a directory`);
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
      throw new Error(`${dir} belongs to another user (uid ${st.uid})`);
    }
    if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  } catch (e) {
    throw new Error(`runtime directory: create ${dir} (owner-only)`, { cause: e });
  }
}

/** Removes the sockets of earlier epochs, left by a primary that died without cleaning up. */
export function removeStaleSockets(paths: RuntimePaths, epoch: number, log: Logger): void {
  try {
    for (const name of readdirSync(paths.socketDir)) {
      const m = /^(router|pub)-(\d+)\.sock$/.exec(name);
      if (m !== null && Number(m[2]) < epoch) rmSync(join(paths.socketDir, name), { force: true });
    }
  } catch (e) {
    log.warn({ err: e }, 'could not remove stale sockets');
  }
}
