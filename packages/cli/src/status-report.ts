import { RPC_METHODS, WriteError, type MemberInfo, type NodeInfo } from '@scribe/protocol';
import { readDiscovery, resolveRuntimePaths, type DiscoveryRecord } from '@scribe/node';
import { RpcClient } from '@scribe/transport';

/** What `scribe status` found. */
export type StatusReport =
  | { ok: true; db: string; discovery: DiscoveryRecord; primary: NodeInfo; members: MemberInfo[] }
  | { ok: false; db: string; reason: string; discovery?: DiscoveryRecord };

/** Reads the discovery file and asks the primary it names for `db.ping`. */
export async function getStatus(
  dbPath: string,
  timeoutMs: number,
  curve?: { publicKey: string; secretKey: string },
): Promise<StatusReport> {
  const paths = resolveRuntimePaths(dbPath);
  const discovery = readDiscovery(paths.discoveryPath);
  if (discovery === undefined) {
    return { ok: false, db: paths.dbPath, reason: `no scribe cluster runs on ${paths.dbPath} (no primary has published itself)` };
  }
  if (discovery.curve_public_key !== undefined && curve === undefined) {
    return {
      ok: false,
      db: paths.dbPath,
      discovery,
      reason: `CURVE is on: the primary (pid ${discovery.pid}) at ${discovery.router} admits only clients holding the cluster's keys; give --curve-keys FILE (or SCRIBE_CURVE_KEYS)`,
    };
  }
  if (discovery.curve_public_key !== undefined && curve !== undefined && curve.publicKey !== discovery.curve_public_key) {
    return {
      ok: false,
      db: paths.dbPath,
      discovery,
      reason: `CURVE is on, and the --curve-keys given are not this cluster's (its public key is ${discovery.curve_public_key})`,
    };
  }
  const client = new RpcClient({
    endpoint: discovery.router,
    defaultTimeoutMs: timeoutMs,
    ...(curve === undefined ? {} : { curve: { serverKey: curve.publicKey, publicKey: curve.publicKey, secretKey: curve.secretKey } }),
  });
  client.connect();
  try {
    const primary = await client.call<NodeInfo>(RPC_METHODS.ping, null, { timeoutMs });
    const members = await client.call<MemberInfo[]>(RPC_METHODS.members, null, { timeoutMs });
    return { ok: true, db: paths.dbPath, discovery, primary, members };
  } catch (e) {
    const code = e instanceof WriteError ? e.code : 'INTERNAL';
    return {
      ok: false,
      db: paths.dbPath,
      discovery,
      reason: `the primary named in the discovery file (pid ${discovery.pid}, epoch ${discovery.epoch}) did not answer (${code}); it may have died and no secondary has taken over`,
    };
  } finally {
    await client.close();
  }
}

/** Renders a report as the human-readable table `scribe status` prints. */
export function formatStatus(report: StatusReport): string {
  if (!report.ok) return `${report.reason}\n`;
  const p = report.primary;
  const rows: Array<[string, string]> = [
    ['database', report.db],
    ['role', p.role],
    ['instance', p.instance_id],
    ['pid', String(p.pid)],
    ['epoch', String(p.epoch)],
    ['router', report.discovery.router],
    ['pub', report.discovery.pub],
    ['curve', report.discovery.curve_public_key === undefined ? 'off' : 'on'],
    ['schema version', String(p.schema_version)],
    ['plugins', p.plugins === undefined || p.plugins.length === 0 ? 'none' : p.plugins.map((x) => `${x.name} (schema ${x.schema_version})`).join(', ')],
    ['queue depth', String(p.queue_depth)],
    ['uptime', `${p.uptime_s} s`],
    ['writes', `${p.writes.accepted} accepted, ${p.writes.completed} completed, ${p.writes.failed} failed, ${p.writes.rejected} rejected`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const head = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
  const now = Date.now();
  const table: string[][] = [['ROLE', 'PID', 'INSTANCE', 'UPTIME', 'QUEUE', 'LAST HEARTBEAT', 'PRIMARY SEEN AS']];
  for (const m of report.members) {
    const heard = m.last_heartbeat_at === null ? (m.role === 'primary' ? '-' : 'never') : `${((now - Date.parse(m.last_heartbeat_at)) / 1000).toFixed(1)} s ago`;
    table.push([m.role, String(m.pid), m.instance_id, `${m.uptime_s} s`, String(m.queue_depth), heard, primarySeenAs(m)]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const members = table.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
  return `${head}\n\nmembers:\n${members}\n`;
}

/** A secondary's view of the primary's heartbeat: `responsive`, `UNRESPONSIVE`, with the lapses it has seen; `-` when it does not say. */
function primarySeenAs(m: MemberInfo): string {
  if (m.primary_responsive === undefined) return '-';
  const lapses = m.primary_lapses ?? 0;
  const past = lapses === 0 ? '' : ` (${lapses} lapse${lapses === 1 ? '' : 's'})`;
  return `${m.primary_responsive ? 'responsive' : 'UNRESPONSIVE'}${past}`;
}
