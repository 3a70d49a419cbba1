import type { ClusterStatus, FailoverRecord, MemberInfo, MemberStatus, NodeInfo, StatusChange } from '@scribe/protocol';
import type { StatusHistory } from './status-history.js';

/** How many changes of the feed's tail a snapshot carries. */
export const STATUS_CHANGES = 20;
/** A secondary that has not reported for this many heartbeat intervals is marked as not answering. */
export const MISSED_REPORTS = 3;

/** What a primary's status snapshot is built from: only what the node already knows. */
export interface StatusSnapshotSource {
  /** The primary itself, as `db.ping` reports it. */
  info(): NodeInfo;
  /** The primary's HTTP listener (`http://host:port`), or null. */
  http(): string | null;
  /** The secondaries as they last reported themselves (`db.member`). */
  reports(): Iterable<MemberInfo>;
  /** The secondaries' report interval, ms. */
  readonly heartbeatIntervalMs: number;
  /** The change log's last `limit` entries, oldest first. */
  changeTail(limit: number): StatusChange[];
  failovers(): FailoverRecord[];
  readonly history: StatusHistory;
}

/**
 * The primary's view of the cluster, as `db.status` answers it and the status page
 * and `scribe top` show it. Reads counters, reports and the change log; writes nothing.
 */
export function buildClusterStatus(source: StatusSnapshotSource, now = Date.now()): ClusterStatus {
  const info = source.info();
  const http = source.http();
  const plugins = info.plugins;
  const at = new Date(now).toISOString();
  const self: MemberStatus = {
    instance_id: info.instance_id,
    role: 'primary',
    pid: info.pid,
    epoch: info.epoch,
    uptime_s: info.uptime_s,
    schema_version: info.schema_version,
    plugins,
    last_heartbeat_at: null,
    seen_at: at,
    answering: true,
    http,
  };
  const silentAfter = MISSED_REPORTS * source.heartbeatIntervalMs;
  const others: MemberStatus[] = [];
  for (const r of source.reports()) {
    if (r.instance_id === info.instance_id) continue;
    others.push({
      instance_id: r.instance_id,
      role: r.role,
      pid: r.pid,
      epoch: r.epoch,
      uptime_s: r.uptime_s,
      schema_version: typeof r.schema_version === 'number' ? r.schema_version : null,
      plugins: Array.isArray(r.plugins) ? r.plugins : [],
      last_heartbeat_at: r.last_heartbeat_at,
      seen_at: r.seen_at,
      answering: now - Date.parse(r.seen_at) <= silentAfter,
      http: typeof r.http === 'string' ? r.http : null,
    });
  }
  others.sort((a, b) => a.instance_id.localeCompare(b.instance_id));
  return {
    at,
    primary: { ...info, http },
    members: [self, ...others],
    samples: source.history.samples(),
    failovers: source.failovers(),
    changes: source.changeTail(STATUS_CHANGES).reverse(),
    errors: { totals: source.history.errorTotals(), recent: source.history.recentErrors() },
  };
}
