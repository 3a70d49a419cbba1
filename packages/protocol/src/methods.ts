/** JSON-RPC method names served on the primary's ROUTER socket. */
export const RPC_METHODS = Object.freeze({
  /** Execute one registered write: params {@link WriteRequest}, result the write's result. */
  write: 'db.write',
  /** Liveness and identity: no params, result {@link NodeInfo}. */
  ping: 'db.ping',
  /** A secondary reports itself (params {@link MemberReport}) every heartbeat; result null. */
  member: 'db.member',
  /** Every member the primary knows of: no params, result {@link MemberInfo}[] (the primary first). */
  members: 'db.members',
  /** The primary's view for the status page and `scribe top`: no params, result `ClusterStatus` (cluster-status.ts). Read-only. */
  status: 'db.status',
} as const);

/** One of the values of {@link RPC_METHODS}. */
export type RpcMethod = (typeof RPC_METHODS)[keyof typeof RPC_METHODS];

/** The roles a member can have: `primary` and `secondary` of a SQLite cluster, `peer` of a PostgreSQL server. */
export const ROLES = ['primary', 'secondary', 'peer'] as const;
/** One of {@link ROLES}. */
export type Role = (typeof ROLES)[number];

/** A plugin a member runs, as `db.ping` and `db.member` report it. */
export interface PluginInfo {
  /** The plugin's name, also the namespace of its migrations (e.g. `@scribe/shadow`). */
  name: string;
  /**
   * The plugin's schema version: on a primary, the highest version of its migrations
   * recorded in the database; on a secondary, the highest it knows (and needs). 0 for
   * a plugin without migrations.
   */
  schema_version: number;
}

/** What `db.ping` answers and what `scribe status` prints. */
export interface NodeInfo {
  role: Role;
  instance_id: string;
  pid: number;
  /** Grows by one on every promotion. */
  epoch: number;
  /** scribe's own (built-in) schema version: on a primary, the file's; on a secondary, the file as it reads it. */
  schema_version: number;
  /** The plugins this member runs, in the order it applies them. */
  plugins: PluginInfo[];
  queue_depth: number;
  /** Seconds since this node started. */
  uptime_s: number;
  /**
   * This primary's coordinator since it started: writes taken into the queue,
   * completed, failed, and refused before queueing (OVERLOADED, SHUTTING_DOWN,
   * invalid). All zero on a secondary.
   */
  writes: { accepted: number; completed: number; failed: number; rejected: number };
}

/** What a secondary reports about itself with `db.member`. */
export interface MemberReport {
  instance_id: string;
  pid: number;
  role: Role;
  epoch: number;
  uptime_s: number;
  /** When this member last heard the primary's heartbeat (RFC 3339), or null. */
  last_heartbeat_at: string | null;
  /**
   * A secondary's view of the primary from the heartbeat: false while it has missed
   * more than 3 heartbeat intervals (the lock still decides who is primary). Absent
   * from primaries and from members older than this field.
   */
  primary_responsive?: boolean;
  /** How many times this secondary has seen the primary's heartbeat go silent (absent where `primary_responsive` is). */
  primary_lapses?: number;
  /** The plugins this member runs (absent from members older than plugins). */
  plugins?: PluginInfo[];
  /** The file's schema version as this member sees it (optional: older members omit it). */
  schema_version?: number;
  /** This member's HTTP listener, `http://host:port`, or null (optional). */
  http?: string | null;
}

/** One row of `db.members`. */
export interface MemberInfo extends MemberReport {
  /** Writes waiting in the queue (the primary's; 0 for secondaries). */
  queue_depth: number;
  /** When the primary last heard from this member (RFC 3339). */
  seen_at: string;
}
