import { RPC_METHODS, type NodeInfo } from '@scribe/protocol';
import { RpcClient } from '@scribe/transport';
import type { DiscoveryRecord } from './discovery.js';
import type { NodeContext } from './node-context.js';
import { curveClient } from './secondary-duty.js';
import { assertSafeIpcEndpoint } from './socket-dir.js';

/** How long a node waits for a discovery record's primary to answer `db.ping` before it does not trust it. */
export const DEFAULT_PROBE_TIMEOUT_MS = 1_000;

/**
 * Asks the ROUTER a discovery record names who it is. True only when it answers
 * `db.ping` as the primary of exactly the record's instance and epoch: a forged or
 * stale record (a dead endpoint, an old primary, a node that stepped down) is never
 * followed.
 */
export async function answersAsPrimary(ctx: NodeContext, record: DiscoveryRecord, timeoutMs = DEFAULT_PROBE_TIMEOUT_MS): Promise<boolean> {
  // The cluster is one machine: a record whose process is gone needs no probe (and a
  // failover after a kill -9 does not wait out a ping to a dead socket).
  if (!processExists(record.pid)) return false;
  let client: RpcClient | undefined;
  try {
    // A record pointing into a directory someone else could swap is not even asked.
    assertSafeIpcEndpoint(record.router, ctx.modes);
    client = new RpcClient({ endpoint: record.router, logger: ctx.root.child({ component: 'probe' }), ...curveClient(ctx) });
    client.connect();
    const info = (await client.call(RPC_METHODS.ping, null, { timeoutMs })) as Partial<NodeInfo> | null;
    return info?.role === 'primary' && info.epoch === record.epoch && info.instance_id === record.instance_id;
  } catch {
    return false;
  } finally {
    await client?.close().catch(() => undefined);
  }
}

/** True when a process with this pid exists (another user's counts). */
export function processExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
