/**
 * The directory a primary binds its ipc sockets in, and the check a secondary makes
 * before it connects to one: sockets live only in directories this user owns and no
 * one else can write.
 */
import { lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { ipcPath } from '@scribe/transport';
import type { RuntimePaths } from './runtime-paths.js';
import { defaultEndpoints, fitsSocketPath } from './runtime-paths.js';
import { assertOwnDir, assertSafeAncestors, ensureSafeDir, UnsafePathError, type AccessPolicy, OWNER_ONLY } from './safe-dir.js';

/** Name prefix of the fresh socket directories made under the temp dir. */
export const TEMP_SOCKET_DIR_PREFIX = 'scribe-sock-';

const TEMP_NAME = /^scribe-sock-[A-Za-z0-9]{6}$/;

/**
 * Returns a directory for this primary's ipc sockets, created or checked safe:
 * `paths.socketDir` when there is one (the runtime directory, or a per-user one
 * under `$XDG_RUNTIME_DIR` when that directory is itself safe), otherwise a fresh
 * directory with a random name under the temp dir (mkdtemp: created 0700 by this
 * call, so no one can have prepared it). Throws {@link UnsafePathError} saying what
 * to do when no safe place exists.
 */
export function createSocketDir(paths: RuntimePaths, policy: AccessPolicy = OWNER_ONLY): string {
  if (paths.socketDir !== undefined) {
    if (paths.socketDir !== paths.runtimeDir) {
      // A per-user runtime dir ($XDG_RUNTIME_DIR) must itself be private; else fall back to a fresh temp dir.
      try {
        assertOwnDir(dirname(paths.socketDir), OWNER_ONLY);
        assertSafeAncestors(paths.socketDir, policy);
      } catch {
        return createTempSocketDir(policy);
      }
    }
    ensureSafeDir(paths.socketDir, policy);
    return paths.socketDir;
  }
  return createTempSocketDir(policy);
}

function createTempSocketDir(policy: AccessPolicy): string {
  const base = tmpdir();
  const remedy = 'set TMPDIR (or XDG_RUNTIME_DIR) to a directory only you can write, or use a shorter database path';
  if (!fitsSocketPath(join(base, `${TEMP_SOCKET_DIR_PREFIX}XXXXXX`))) {
    throw new UnsafePathError(base, 'is too long a path for the ipc sockets', remedy);
  }
  try {
    assertSafeAncestors(join(base, 'x'), policy);
  } catch (e) {
    if (e instanceof UnsafePathError) throw new UnsafePathError(e.path, 'cannot hold the ipc sockets safely', `${remedy} (${e.message})`);
    throw e;
  }
  const dir = mkdtempSync(join(base, TEMP_SOCKET_DIR_PREFIX));
  assertOwnDir(dir, policy, { tighten: true });
  return dir;
}

/**
 * Removes a socket directory made by {@link createSocketDir} under the temp dir for
 * the ipc `endpoint` (of this primary at close, or of a dead earlier primary at
 * promotion). Anything else (the runtime directory, a directory not ours, a
 * symlink) is left alone.
 */
export function removeTempSocketDir(endpoint: string): void {
  const path = ipcPath(endpoint);
  if (path === undefined) return;
  const dir = dirname(path);
  if (dirname(dir) !== tmpdir() || !TEMP_NAME.test(basename(dir))) return;
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory() || (typeof process.getuid === 'function' && st.uid !== process.getuid())) return;
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // already gone
  }
}

/**
 * Throws {@link UnsafePathError} unless the socket of an `ipc://` endpoint sits in
 * a directory this user owns that no one else can write or swap (a discovery
 * record written by an older version may point elsewhere). Other transports pass.
 */
export function assertSafeIpcEndpoint(endpoint: string, policy: AccessPolicy = OWNER_ONLY): void {
  const path = ipcPath(endpoint);
  if (path === undefined) return;
  const dir = dirname(path);
  try {
    assertSafeAncestors(dir, policy);
    assertOwnDir(dir, policy);
  } catch (e) {
    if (e instanceof UnsafePathError) {
      throw new UnsafePathError(e.path, `cannot be trusted for the primary's socket ${endpoint}: ${e.message}`, 'restart the primary with this version of scribe, which keeps its sockets in a private directory', { cause: e });
    }
    throw e;
  }
}

/**
 * The endpoints a primary of `epoch` binds: the ones asked for (an ipc one only in
 * a safe directory) or the default ipc sockets in {@link createSocketDir}'s
 * directory.
 */
export function primaryEndpoints(
  paths: RuntimePaths,
  asked: { router: string; pub: string } | undefined,
  epoch: number,
  policy: AccessPolicy = OWNER_ONLY,
): { router: string; pub: string } {
  if (asked !== undefined) {
    assertSafeIpcEndpoint(asked.router, policy);
    assertSafeIpcEndpoint(asked.pub, policy);
    return asked;
  }
  return defaultEndpoints(createSocketDir(paths, policy), epoch);
}
