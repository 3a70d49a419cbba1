import type { Logger } from 'pino';
import { COMMIT_SYNC_MODES, SYNCHRONOUS_LEVELS, type CommitSync, type MaintenanceTask, type Migration, type ScribePlugin, type Synchronous, type WriteRegistry } from '@scribe/store';
import type { HttpOptions } from './http-endpoint.js';
import { checkEndpointPolicy } from './endpoint-policy.js';
import { resolveFileModes } from './file-modes.js';

/** How often a secondary tries the primary lock and re-reads the discovery file. */
export const DEFAULT_POLL_INTERVAL_MS = 100;
/** How often the primary publishes a heartbeat. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1_000;
/** How long openNode waits for a primary to appear before it gives up. */
export const DEFAULT_START_TIMEOUT_MS = 10_000;

/** The `synchronous` levels a node accepts: the store's list (one definition). */
export { SYNCHRONOUS_LEVELS };
/** One of {@link SYNCHRONOUS_LEVELS}. */
export type SynchronousLevel = Synchronous;

export type { MaintenanceTask } from '@scribe/store';

/** Everything {@link openNode} takes. Only `dbPath` is required. */
export interface OpenNodeOptions {
  /** The shared database file (created by the first primary). */
  dbPath: string;
  /** This member's id; default `<pid>-<random>`. */
  instanceId?: string;
  /** Parent logger; the node logs through `{ node, role, component }` children. Default: silent. */
  logger?: Logger;
  /**
   * Mode of the database, its `-wal` and `-shm` files: 0o600 (default, owner only),
   * 0o640 (the file's group reads) or 0o660 (the group reads and writes). The
   * runtime and socket directories get the matching directory mode (0o700, 0o750,
   * 0o770). Applied whatever the umask; see the security section of docs/operations.md.
   */
  fileMode?: number;
  /** Where lock, discovery file and sockets live. Default `.<db file name>.scribe/` beside the database. */
  runtimeDir?: string;
  /** Endpoints to bind when primary (e.g. `tcp://127.0.0.1:7000`). Default: owner-only ipc sockets in the runtime directory. */
  endpoints?: { router: string; pub: string };
  /** SQLite `synchronous` for the primary's connection. Default FULL: an acknowledged write survives power loss. */
  synchronous?: SynchronousLevel;
  /**
   * At FULL and EXTRA, where the primary's commit fsync runs: `inline` (default)
   * syncs inside COMMIT on the event loop, so no reader ever sees a commit before it
   * is durable; `pipelined` syncs the `-wal` file off the event loop and answers a
   * batch's writes (and publishes its changes) only once it completed, while the
   * next batch runs. See docs/performance.md.
   */
  commitSync?: CommitSync;
  /**
   * What extends this node: each plugin's writes are registered, its migrations
   * applied by the primary (after scribe's, in this order, each in its own namespace),
   * its maintenance run on the primary only. Every process passes the plugins it
   * uses; a process may use a subset of the primary's. See {@link ScribePlugin} and
   * docs/cluster.md.
   */
  plugins?: readonly ScribePlugin[];
  /** The base write registry (default: scribe's built-in writes); the plugins' writes are added to a copy. */
  registry?: WriteRegistry;
  /** Application migrations (namespace `application`, versions 1000 and up), applied after the plugins'. Prefer a plugin. */
  migrations?: readonly Migration[];
  /** Apply pending migrations when becoming primary. Default true. */
  autoMigrate?: boolean;
  /** Request records the primary keeps (newest), as on the PostgreSQL node. Default the store's `DEFAULT_REQUEST_RETENTION`. */
  requestRetention?: number;
  /** Change events the primary keeps (newest); a change-feed reader further behind gets RESYNC_NEEDED. Default the store's `DEFAULT_CHANGE_RETENTION`. */
  changeRetention?: number;
  /**
   * Create a new, empty database file even where the runtime directory records that
   * one was in use (it was deleted). Default false: a node refuses with DATABASE_GONE
   * rather than silently start over. The first start always creates the file.
   */
  recreateDatabase?: boolean;
  /** Whether this node may become primary when the primary dies. Default true. */
  promote?: boolean;
  /** Default budget of a write, retries included. Default 5 s. */
  writeTimeoutMs?: number;
  /** Budget of writes marked long. Default 30 s. */
  longWriteTimeoutMs?: number;
  /** Group-commit bound. */
  maxBatchSize?: number;
  /** Queue bound; past it writes get OVERLOADED. */
  maxQueueDepth?: number;
  /** Largest request accepted on the wire, bytes. Default 1 MiB. */
  maxMessageBytes?: number;
  pollIntervalMs?: number;
  heartbeatIntervalMs?: number;
  startTimeoutMs?: number;
  /**
   * The cluster's CURVE key pair (Z85, from `scribe keygen` or zeromq's
   * curveKeyPair()). Every member gets the same pair: the primary serves with it and
   * admits only clients presenting it (or a key in `allowedClientKeys`), secondaries
   * connect with it. Required for tcp beyond loopback.
   */
  curve?: { publicKey: string; secretKey: string; allowedClientKeys?: readonly string[] };
  /**
   * Allow endpoints that others can reach without CURVE keys: tcp beyond loopback
   * (other machines) and abstract `ipc://@name` sockets (every local user). Off by
   * default: `openNode` then refuses them with an {@link InsecureEndpointError}.
   * Set it only when every process that can reach the endpoint is trusted (see the
   * security section of docs/operations.md).
   */
  allowInsecure?: boolean;
  /** Serve `/healthz` and `/metrics` over HTTP (loopback unless `allowRemote`). Off by default. */
  http?: HttpOptions;
  /** Sweeps to run periodically while this node is primary (see {@link MaintenanceTask}). */
  maintenance?: readonly MaintenanceTask[];
  /** Level of the per-write provenance line on the primary. Default `debug`. */
  provenanceLevel?: 'info' | 'debug' | 'trace' | 'silent';
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`Expected '${name}' to be a number above 0, got ${String(value)} (${typeof value})`);
  }
  return value;
}

/** The timing options, checked, with defaults. */
export interface NodeTimings {
  readonly pollIntervalMs: number;
  readonly heartbeatIntervalMs: number;
  readonly startTimeoutMs: number;
}

/**
 * Checks the options that openNode does not hand on to another package; throws a
 * TypeError saying what to change (an {@link InsecureEndpointError} for an endpoint
 * others could reach without CURVE).
 */
export function resolveNodeTimings(options: OpenNodeOptions): NodeTimings {
  if (typeof options.dbPath !== 'string' || options.dbPath.length === 0) {
    throw new TypeError(`Expected 'dbPath' to be a path to the database file, got ${String(options.dbPath)}`);
  }
  if (options.synchronous !== undefined && !SYNCHRONOUS_LEVELS.includes(options.synchronous)) {
    throw new TypeError(
      `Expected 'synchronous' to be one of ${SYNCHRONOUS_LEVELS.join(', ')}, got ${String(options.synchronous)}`,
    );
  }
  for (const name of ['requestRetention', 'changeRetention'] as const) {
    const v = options[name];
    // Checked here too (the store checks it when a primary opens it): a bad value fails the start, not a later promotion.
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new TypeError(`Expected '${name}' to be an integer from 1 and up, got ${String(v)}`);
  }
  if (options.commitSync !== undefined && !COMMIT_SYNC_MODES.includes(options.commitSync)) {
    throw new TypeError(`Expected 'commitSync' to be one of ${COMMIT_SYNC_MODES.join(', ')}, got ${String(options.commitSync)}`);
  }
  if (options.endpoints !== undefined) {
    for (const key of ['router', 'pub'] as const) {
      const ep = options.endpoints[key];
      if (typeof ep !== 'string' || !/^(ipc|tcp):\/\/.+/.test(ep)) {
        throw new TypeError(`Expected 'endpoints.${key}' to be an ipc:// or tcp:// endpoint, got ${String(ep)}`);
      }
    }
  }
  if (options.allowInsecure !== undefined && typeof options.allowInsecure !== 'boolean') {
    throw new TypeError(`Expected 'allowInsecure' to be a boolean, got ${String(options.allowInsecure)}`);
  }
  checkEndpointPolicy(options.endpoints, options);
  resolveFileModes(options.fileMode);
  for (const [i, task] of (options.maintenance ?? []).entries()) {
    if (typeof task?.run !== 'function' || typeof task.name !== 'string') {
      throw new TypeError(`Expected 'maintenance[${i}]' to be { name, intervalMs, run }, got ${String(task)}`);
    }
    positive(`maintenance[${i}].intervalMs`, task.intervalMs, 1);
  }
  return Object.freeze({
    pollIntervalMs: positive('pollIntervalMs', options.pollIntervalMs, DEFAULT_POLL_INTERVAL_MS),
    heartbeatIntervalMs: positive('heartbeatIntervalMs', options.heartbeatIntervalMs, DEFAULT_HEARTBEAT_INTERVAL_MS),
    startTimeoutMs: positive('startTimeoutMs', options.startTimeoutMs, DEFAULT_START_TIMEOUT_MS),
  });
}
