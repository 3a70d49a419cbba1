import type { PluginInfo } from '@scribe/protocol';
import type { PgQueryable } from './pg-sql-tx.js';

/** How long a silent peer's row stays (shown as not answering) before a heartbeat of any peer deletes it. */
export const DEFAULT_PEER_FORGET_MS = 60_000;

/** What a peer's last second looked like, as it records it with its heartbeat. */
export interface PeerLoad {
  /** Writes waiting in its queue. */
  queue_depth: number;
  /** Writes it committed per second in its last status sample; null before the first. */
  committed_per_s: number | null;
}

/** What a peer records about itself once a heartbeat. */
export interface PeerRecord {
  instance_id: string;
  pid: number;
  /** The host name it runs on (`os.hostname()`). */
  host: string;
  /** Its HTTP listener (`http://host:port`), or null. */
  http: string | null;
  /** scribe's schema version in the database as it sees it. */
  schema_version: number;
  plugins: PluginInfo[];
  load: PeerLoad;
  /** Its heartbeat interval: the others judge its silence by it. */
  interval_ms: number;
  uptime_s: number;
  /** When it started, by its own clock (RFC 3339). */
  started_at: string;
}

/** A row of `_scribe_peers` as read back. */
export interface PeerRow extends PeerRecord {
  /** When it last recorded itself, by the server's clock (RFC 3339). */
  seen_at: string;
  /** How long ago that was, by the server's clock, ms (no clock of any peer involved). */
  age_ms: number;
}

// Times come from the server's clock, so peers on hosts whose clocks differ still agree
// on who is silent. The prune rides on the heartbeat's own statement (one round trip):
// rows silent for the forget period (or three of their own intervals, if longer) go,
// never the beating peer's own. A heartbeat is not worth a WAL flush (a crash loses at
// most the last one, which the next replaces): its implicit transaction commits with
// synchronous_commit off (set_config(…, true) lasts until that commit), so it never waits
// for the disk, whatever the server's setting for the writes.
const SERVER_NOW = `to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const BEAT = `WITH no_flush AS (
  SELECT set_config('synchronous_commit', 'off', true)
), pruned AS (
  DELETE FROM _scribe_peers
  WHERE instance_id <> $1
    AND seen_at::timestamptz < clock_timestamp() - make_interval(secs => greatest($11::bigint, 3 * interval_ms) / 1000.0)
)
INSERT INTO _scribe_peers (instance_id, pid, host, http, schema_version, plugins, load, interval_ms, uptime_s, started_at, seen_at)
SELECT $1::text, $2::bigint, $3::text, $4::text, $5::bigint, $6::text, $7::text, $8::bigint, $9::bigint, $10::text, ${SERVER_NOW} FROM no_flush
ON CONFLICT (instance_id) DO UPDATE SET
  pid = EXCLUDED.pid, host = EXCLUDED.host, http = EXCLUDED.http, schema_version = EXCLUDED.schema_version,
  plugins = EXCLUDED.plugins, load = EXCLUDED.load, interval_ms = EXCLUDED.interval_ms,
  uptime_s = EXCLUDED.uptime_s, started_at = EXCLUDED.started_at, seen_at = EXCLUDED.seen_at`;
const LEAVE = 'DELETE FROM _scribe_peers WHERE instance_id = $1';
const LIST = `SELECT instance_id, pid, host, http, schema_version, plugins, load, interval_ms, uptime_s, started_at, seen_at,
  (extract(epoch FROM clock_timestamp() - seen_at::timestamptz) * 1000)::float8 AS age_ms
FROM _scribe_peers ORDER BY instance_id`;

/**
 * `_scribe_peers` on PostgreSQL: how the peers of one database learn about each other
 * (there is no primary to report to). Each peer upserts its row once a heartbeat and
 * deletes it when it closes cleanly; a peer that died leaves a row that stops being
 * refreshed, and is deleted by the heartbeat of any peer once silent for
 * `forgetMs`. One small statement per peer per heartbeat, on the pool, never inside a
 * write's transaction.
 */
export class PgPeerTable {
  readonly #db: PgQueryable;
  readonly #forgetMs: number;

  /** `db` runs single statements (the store's pool). */
  constructor(db: PgQueryable, options: { forgetMs?: number } = {}) {
    const forget = options.forgetMs ?? DEFAULT_PEER_FORGET_MS;
    if (!Number.isInteger(forget) || forget < 1) throw new TypeError(`Expected 'forgetMs' to be an integer from 1 and up, got ${String(forget)}`);
    this.#db = db;
    this.#forgetMs = forget;
  }

  /** Records (or refreshes) this peer, and deletes peers silent for longer than the forget period. */
  async beat(peer: PeerRecord): Promise<void> {
    await this.#db.query({
      text: BEAT,
      values: [
        peer.instance_id,
        peer.pid,
        peer.host,
        peer.http,
        peer.schema_version,
        JSON.stringify(peer.plugins),
        JSON.stringify(peer.load),
        peer.interval_ms,
        peer.uptime_s,
        peer.started_at,
        this.#forgetMs,
      ],
    });
  }

  /** Deletes this peer's row (a clean close). */
  async leave(instanceId: string): Promise<void> {
    await this.#db.query({ text: LEAVE, values: [instanceId] });
  }

  /** Every peer recorded, by instance id, with how long ago each was seen. */
  async list(): Promise<PeerRow[]> {
    const { rows } = await this.#db.query({ text: LIST, values: [] });
    return (rows as Array<Record<string, unknown>>).map(toPeerRow);
  }
}

function toPeerRow(r: Record<string, unknown>): PeerRow {
  return {
    instance_id: String(r['instance_id']),
    pid: Number(r['pid']),
    host: String(r['host']),
    http: typeof r['http'] === 'string' ? r['http'] : null,
    schema_version: Number(r['schema_version']),
    plugins: parseJson(r['plugins'], isPluginList, []),
    load: parseJson(r['load'], isLoad, { queue_depth: 0, committed_per_s: null }),
    interval_ms: Number(r['interval_ms']),
    uptime_s: Number(r['uptime_s']),
    started_at: String(r['started_at']),
    seen_at: String(r['seen_at']),
    age_ms: Number(r['age_ms']),
  };
}

// A row written by another version of scribe may hold other shapes: read what fits, never throw.
function parseJson<T>(text: unknown, fits: (v: unknown) => v is T, fallback: T): T {
  if (typeof text !== 'string') return fallback;
  try {
    const v: unknown = JSON.parse(text);
    return fits(v) ? v : fallback;
  } catch {
    return fallback;
  }
}

function isPluginList(v: unknown): v is PluginInfo[] {
  return Array.isArray(v) && v.every((p) => typeof p === 'object' && p !== null && typeof (p as PluginInfo).name === 'string' && typeof (p as PluginInfo).schema_version === 'number');
}

function isLoad(v: unknown): v is PeerLoad {
  return typeof v === 'object' && v !== null && typeof (v as PeerLoad).queue_depth === 'number' && ((v as PeerLoad).committed_per_s === null || typeof (v as PeerLoad).committed_per_s === 'number');
}
