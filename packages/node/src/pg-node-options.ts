import type { ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { MaintenanceTask, Migration, ScribePlugin, WriteRegistry } from '@scribe/store';
import type { HttpOptions } from './http-endpoint.js';

/** How often a change iterator reads the log while the LISTEN connection is down (its fallback). */

/**
 * The PostgreSQL node's default group-commit bound: 32 writes of two subtransactions
 * each stay within the 64 a backend caches (PGPROC_MAX_CACHED_SUBXIDS).
 */
export const PG_DEFAULT_MAX_BATCH_SIZE = 32;
export const DEFAULT_PG_FALLBACK_POLL_MS = 500;
/** How often it reads the log while LISTEN is up (a safety net behind the notifications). */
export const DEFAULT_PG_LISTEN_POLL_MS = 5_000;

/**
 * Everything {@link openNode} takes to run this process as a peer of a PostgreSQL
 * server: `url` chooses the engine. Every process of the application is a peer (no
 * primary, no sockets); each group-commits its own writes, and exactly-once, the
 * change order and migrations hold across them through the database.
 */
export interface OpenPgNodeOptions {
  /** `postgres://user:password@host:port/database?…` (or `postgresql://`). Never logged with its password. */
  url: string;
  /** This member's id; default `<pid>-<random>`. */
  instanceId?: string;
  /** Parent logger; the node logs through `{ node, role: 'peer', component }` children. Default: silent. */
  logger?: Logger;
  /** Most connections this process opens for writes and reads (default 10); one more is the change feed's LISTEN connection. */
  poolSize?: number;
  /** TLS, passed through to node-postgres (`true`, or `tls.connect` options: `ca`, `cert`, `key`, `rejectUnauthorized`, …). */
  ssl?: boolean | ConnectionOptions;
  /** The server-side `application_name` (default `scribe`). */
  applicationName?: string;
  /** How long to wait for a connection (default 10 s). */
  connectTimeoutMs?: number;
  /** Plugins: writes registered, migrations applied (under an advisory lock, once), maintenance run by one peer at a time. */
  plugins?: readonly ScribePlugin[];
  /** The base write registry (default: scribe's built-in writes). */
  registry?: WriteRegistry;
  /** Application migrations (namespace `application`, versions 1000 and up). */
  migrations?: readonly Migration[];
  /** Apply pending migrations on open (default true); false only checks the database is not newer (SCHEMA_MISMATCH). */
  autoMigrate?: boolean;
  /** Default budget of a write, retries included. Default 5 s. */
  writeTimeoutMs?: number;
  /** Budget of writes marked long. Default 30 s. */
  longWriteTimeoutMs?: number;
  /**
   * Group-commit bound (writes per transaction). Default {@link PG_DEFAULT_MAX_BATCH_SIZE}
   * (32), not the SQLite node's 512: each write runs in two savepoints, and past 64
   * subtransactions in one transaction PostgreSQL's per-backend cache overflows, which
   * makes every other session's visibility checks read `pg_subtrans`.
   */
  maxBatchSize?: number;
  /** Queue bound; past it writes get OVERLOADED. */
  maxQueueDepth?: number;
  /** Serve the status page `/`, `/status.json`, `/healthz` and `/metrics` over HTTP (loopback unless `allowRemote`). */
  http?: HttpOptions;
  /**
   * How often this peer records itself in the database's peer table (`_scribe_peers`),
   * where the other peers' status views find it; it counts as not answering after 3
   * missed intervals. Default 1000 ms (`DEFAULT_HEARTBEAT_INTERVAL_MS`, as on SQLite).
   */
  heartbeatIntervalMs?: number;
  /** Sweeps to run periodically, in one peer at a time. */
  maintenance?: readonly MaintenanceTask[];
  /** Level of the per-write provenance line. Default `debug`. */
  provenanceLevel?: 'info' | 'debug' | 'trace' | 'silent';
  /** Change-feed reads while the LISTEN connection is down (default {@link DEFAULT_PG_FALLBACK_POLL_MS}). */
  changePollMs?: number;
  /** Request records kept (newest). */
  requestRetention?: number;
  /** Change events kept (newest); a reader further behind gets RESYNC_NEEDED. */
  changeRetention?: number;
}

/** The options that choose the PostgreSQL engine: a `url` and no `dbPath`. */
export function isPgNodeOptions(options: unknown): options is OpenPgNodeOptions {
  return typeof options === 'object' && options !== null && 'url' in options && (options as { url?: unknown }).url !== undefined;
}

const SQLITE_ONLY = ['dbPath', 'runtimeDir', 'endpoints', 'synchronous', 'fileMode', 'curve', 'allowInsecure', 'recreateDatabase', 'promote', 'pollIntervalMs', 'startTimeoutMs', 'maxMessageBytes'] as const;

function positiveInteger(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 1)) {
    throw new TypeError(`Expected '${name}' to be an integer from 1 and up, got ${String(value)} (${typeof value})`);
  }
}

/**
 * Checks what the PostgreSQL node takes itself; the pool and the coordinator check
 * theirs. A TypeError says what to change; an option of the SQLite cluster (a
 * `dbPath`, endpoints, `synchronous`, …) beside `url` is refused, never ignored.
 */
export function checkPgNodeOptions(options: OpenPgNodeOptions): void {
  if (typeof options.url !== 'string' || !/^postgres(ql)?:\/\//.test(options.url)) {
    throw new TypeError(`Expected 'url' to be a postgres:// or postgresql:// connection URL, got ${typeof options.url === 'string' ? 'another string' : typeof options.url}`);
  }
  for (const key of SQLITE_ONLY) {
    if ((options as unknown as Record<string, unknown>)[key] !== undefined) {
      throw new TypeError(`'${key}' is an option of the SQLite cluster; with 'url' every process is a peer of the PostgreSQL server: remove '${key}'`);
    }
  }
  positiveInteger('poolSize', options.poolSize);
  positiveInteger('connectTimeoutMs', options.connectTimeoutMs);
  positiveInteger('changePollMs', options.changePollMs);
  positiveInteger('writeTimeoutMs', options.writeTimeoutMs);
  positiveInteger('longWriteTimeoutMs', options.longWriteTimeoutMs);
  positiveInteger('heartbeatIntervalMs', options.heartbeatIntervalMs);
  if (options.ssl !== undefined && typeof options.ssl !== 'boolean' && (typeof options.ssl !== 'object' || options.ssl === null)) {
    throw new TypeError(`Expected 'ssl' to be a boolean or TLS options (ca, cert, key, rejectUnauthorized, …), got ${typeof options.ssl}`);
  }
  for (const [i, task] of (options.maintenance ?? []).entries()) {
    if (typeof task?.run !== 'function' || typeof task.name !== 'string') {
      throw new TypeError(`Expected 'maintenance[${i}]' to be { name, intervalMs, run }, got ${String(task)}`);
    }
    if (typeof task.intervalMs !== 'number' || !(task.intervalMs > 0)) {
      throw new TypeError(`Expected 'maintenance[${i}].intervalMs' to be a number above 0, got ${String(task.intervalMs)}`);
    }
  }
}
