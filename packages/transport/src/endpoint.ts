/**
 * Endpoint checks done before binding.
 *
 * libzmq unlinks an existing `ipc://` socket file before it binds, so a second
 * bind on a live ipc endpoint silently steals it from the first owner instead of
 * failing. {@link isIpcEndpointLive} lets the server refuse with EADDRINUSE instead.
 */
import { connect } from 'node:net';
import { lstat } from 'node:fs/promises';

/** The file path of an `ipc://` endpoint, or undefined for other transports and abstract sockets. */
export function ipcPath(endpoint: string): string | undefined {
  if (!endpoint.startsWith('ipc://')) return undefined;
  const path = endpoint.slice('ipc://'.length);
  if (path.length === 0 || path.startsWith('@') || path === '*') return undefined;
  return path;
}

/**
 * True when something accepts connections on the socket file of an `ipc://`
 * endpoint. A stale file left by a dead process (connection refused) is not live:
 * libzmq replaces it.
 */
export async function isIpcEndpointLive(endpoint: string): Promise<boolean> {
  const path = ipcPath(endpoint);
  if (path === undefined) return false;
  try {
    const stat = await lstat(path);
    if (!stat.isSocket()) return false; // not ours to judge; the bind reports what it finds
  } catch {
    return false; // no file: free
  }
  return new Promise<boolean>((resolve) => {
    const probe = connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
