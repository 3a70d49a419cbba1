import type { ClusterStatus, FailoverRecord, MemberInfo, MemberStatus, NodeInfo, StatusChange, StatusEngine } from '@scribe/protocol';
import type { StatusHistory } from './status-history.js';

/** How many changes of the feed's tail a snapshot carries. */
export const STATUS_CHANGES = 20;
/** A member that has not reported for this many of its heartbeat intervals is marked as not answering. */
export const MISSED_REPORTS = 3;

/** A value now, or once read (the SQLite file is read synchronously, a PostgreSQL server is not). */
export type MaybePromise<T> = T | Promise<T>;

/**
 * What a status snapshot is built from: only what the node already knows. The members
 * other than the serving node come from the node's member source: on a SQLite primary
 * the secondaries' reports ({@link membersFromReports}), on a PostgreSQL peer the peer
 * table.
 */
export interface StatusSnapshotSource {
  /** Where the view comes from. */
  readonly engine: StatusEngine;
  /** The PostgreSQL server, credentials blanked (postgres only). */
  readonly server?: string;
  /** The serving node's host name, when members run on several machines (postgres only). */
  readonly host?: string;
  /** The serving node itself, as `db.ping` reports it. */
  info(): NodeInfo;
  /** Its HTTP listener (`http://host:port`), or null. */
  http(): string | null;
  /** The other members as this node knows them at `now`, in any order. */
  others(now: number): MaybePromise<MemberStatus[]>;
  /** The change log's last `limit` entries, oldest first. */
  changeTail(limit: number): MaybePromise<StatusChange[]>;
  failovers(): FailoverRecord[];
  readonly history: StatusHistory;
}

/**
 * The cluster as the serving node sees it, as `db.status` answers it (the primary's
 * view) and the status page and `scribe top` show it; on PostgreSQL, the serving
 * peer's view. Reads counters, member records and the change log; writes nothing.
 */
export async function buildClusterStatus(source: StatusSnapshotSource, now = Date.now()): Promise<ClusterStatus> {
  const info = source.info();
  const http = source.http();
  const at = new Date(now).toISOString();
  const samples = source.history.samples();
  const self: MemberStatus = {
    instance_id: info.instance_id,
    role: info.role,
    pid: info.pid,
    epoch: info.epoch,
    uptime_s: info.uptime_s,
    schema_version: info.schema_version,
    plugins: info.plugins,
    last_heartbeat_at: null,
    seen_at: at,
    answering: true,
    http,
    ...(source.host === undefined ? {} : { host: source.host, queue_depth: info.queue_depth, committed_per_s: lastCommitted(samples) }),
  };
  const [found, tail] = await Promise.all([source.others(now), source.changeTail(STATUS_CHANGES)]);
  const others = found.filter((m) => m.instance_id !== info.instance_id).sort((a, b) => a.instance_id.localeCompare(b.instance_id));
  return {
    at,
    engine: source.engine,
    ...(source.server === undefined ? {} : { server: source.server }),
    primary: { ...info, http },
    members: [self, ...others],
    samples,
    failovers: source.failovers(),
    changes: tail.slice().reverse(),
    errors: { totals: source.history.errorTotals(), recent: source.history.recentErrors() },
  };
}

/** A SQLite primary's other members: the secondaries' last reports, silent after {@link MISSED_REPORTS} heartbeats. */
export function membersFromReports(reports: Iterable<MemberInfo>, heartbeatIntervalMs: number, now: number): MemberStatus[] {
  const silentAfter = MISSED_REPORTS * heartbeatIntervalMs;
  const members: MemberStatus[] = [];
  for (const r of reports) {
    members.push({
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
  return members;
}

/** Committed writes per second in the newest sample that has a figure, or null. */
export function lastCommitted(samples: readonly { committed: number | null }[]): number | null {
  for (let i = samples.length - 1; i >= 0; i--) {
    const c = samples[i]!.committed;
    if (c !== null) return c;
  }
  return null;
}
