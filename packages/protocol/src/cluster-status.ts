import type { ChangeOp } from './topics.js';
import type { NodeInfo, PluginInfo, Role } from './methods.js';

/** One member as the status view shows it (the result rows of `db.status`). */
export interface MemberStatus {
  instance_id: string;
  role: Role;
  pid: number;
  epoch: number;
  uptime_s: number;
  /** The schema version of the file as this member sees it, when it reported one. */
  schema_version: number | null;
  /** The plugins this member runs, with their schema versions; empty when it reported none. */
  plugins: PluginInfo[];
  /** When this member last heard the primary's heartbeat (RFC 3339); null for the primary and for peers (they have none). */
  last_heartbeat_at: string | null;
  /**
   * When the primary last heard from this member (RFC 3339); for peers of a PostgreSQL
   * server, when the peer last recorded itself in the database, by the server's clock.
   */
  seen_at: string;
  /** False when the member missed its last reports (it may be stopped, hung or dead). */
  answering: boolean;
  /** The member's HTTP listener (`http://host:port`), when it has one. */
  http: string | null;
  /** The host the member runs on: peers of a PostgreSQL server report it (absent on SQLite, one machine). */
  host?: string;
  /** Writes waiting in the member's queue at its last report (peers; absent on SQLite). */
  queue_depth?: number;
  /** Writes the member committed per second in its last sample, null before one (peers; absent on SQLite). */
  committed_per_s?: number | null;
}

/**
 * One second of the primary's write path, sampled from its metrics once a second.
 * Rates are per second over the sample's interval; latencies are interpolated
 * from the commit-latency histogram's buckets (as Prometheus' histogram_quantile does).
 */
export interface StatusSample {
  /** End of the interval, ms since the Unix epoch. */
  t: number;
  /** Writes committed (outcome ok) per second; null when this node was not primary. */
  committed: number | null;
  /** Writes refused or failed per second, by error code (only codes that occurred). */
  refused: Record<string, number>;
  /** Median and 99th percentile of batch commit time in the interval, ms; null without commits. */
  p50_ms: number | null;
  p99_ms: number | null;
  /** Writes waiting in the queue at the end of the interval. */
  queue_depth: number;
  /** Mean writes per committed transaction in the interval; null without commits. */
  batch_size: number | null;
}

/** A change of primary that a node took part in or saw. */
export interface FailoverRecord {
  /** When the new primary took writes, or when this node saw it (RFC 3339). */
  at: string;
  /** The previous primary, when known. */
  from: { instance_id: string; pid: number; epoch: number } | null;
  to: { instance_id: string; pid: number | null; epoch: number };
  /**
   * How long writes could not commit: from the last sign of life of the old primary
   * this node had (heartbeat heard or commit seen) to the new primary taking writes, ms.
   * Null when the node did not see the old primary alive.
   */
  writes_waited_ms: number | null;
  /** `promoted`: the recording node became primary; `followed`: it saw another node do so. */
  kind: 'promoted' | 'followed';
}

/** One entry of the change feed's tail. */
export interface StatusChange {
  seq: number;
  entity: string;
  key: string;
  op: ChangeOp;
  source_instance_id: string;
  at: string;
}

/** Refused or failed writes of one code seen in one sampling second. */
export interface StatusError {
  /** End of the second they were counted in (RFC 3339). */
  at: string;
  code: string;
  method: string;
  count: number;
}

/** The engines a status view can come from: a SQLite cluster or peers of a PostgreSQL server. */
export const STATUS_ENGINES = ['sqlite', 'postgres'] as const;
/** One of {@link STATUS_ENGINES}. */
export type StatusEngine = (typeof STATUS_ENGINES)[number];

/**
 * What `db.status` answers: the primary's view of the cluster. Read-only. A peer of
 * a PostgreSQL server builds the same view of its own (served on its `/status.json`;
 * there is no `db.status` there, no primary and no sockets): `engine` is `postgres`,
 * `primary` is the serving peer (role `peer`), `members` are the peers recorded in the
 * database, `failovers` is empty.
 */
export interface ClusterStatus {
  /** When the snapshot was taken (RFC 3339). */
  at: string;
  /** Where the view comes from; absent from nodes older than this field (they are `sqlite`). */
  engine?: StatusEngine;
  /** The PostgreSQL server, its password blanked (`engine` `postgres` only). */
  server?: string;
  /**
   * The member that built this view, as `db.ping` reports it, plus its HTTP listener:
   * the answering primary; on PostgreSQL, the serving peer (role `peer`).
   */
  primary: NodeInfo & { http: string | null };
  /** The primary (or the serving peer) first, then the others by instance id. */
  members: MemberStatus[];
  /** The last minutes of the primary's (the serving peer's own) write path, oldest first, one sample a second. */
  samples: StatusSample[];
  /** The last failovers this primary took part in or saw, newest first. */
  failovers: FailoverRecord[];
  /** The last committed changes, newest first. */
  changes: StatusChange[];
  /** Refused or failed writes: totals by code since the primary started, and the last seconds that had any, newest first. */
  errors: { totals: Record<string, number>; recent: StatusError[] };
}
