import type { Logger } from 'pino';
import type { Migration, MigrationSet } from './migrations.js';
import { COMMIT_SYNC_MODES, DEFAULT_COMMIT_SYNC, type CommitSync } from './wal-sync.js';
import type { WriteRegistry } from './write-registry.js';

/** Default number of request records kept for idempotency. */
export const DEFAULT_REQUEST_RETENTION = 100_000;
/** Default number of change events kept in the change log. */
export const DEFAULT_CHANGE_RETENTION = 100_000;
/** Default busy timeout of the store's connection. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** SQLite `synchronous` levels, weakest first. */
export const SYNCHRONOUS_LEVELS = ['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const;
/** One of {@link SYNCHRONOUS_LEVELS}. */
export type Synchronous = (typeof SYNCHRONOUS_LEVELS)[number];

/** Everything {@link Store.open} takes. */
export interface StoreOptions {
  /** The database file. */
  path: string;
  /** Open read-only (secondaries). The file must exist; writes throw NOT_PRIMARY. */
  readonly?: boolean;
  /** Default FULL: an acknowledged write survives power loss. NORMAL survives a process crash only. */
  synchronous?: Synchronous;
  /**
   * At FULL and EXTRA, where a commit's fsync runs: `inline` (default; COMMIT
   * syncs on the event loop; readers never see a commit before it is durable) or
   * `pipelined` (the connection runs at NORMAL and the `-wal` file is synced off
   * the event loop; `BatchResult.durable` settles once it is, see `WalSync`).
   */
  commitSync?: CommitSync;
  /** Default: {@link createDefaultRegistry}(). */
  registry?: WriteRegistry;
  /**
   * Plugins whose migrations this store applies, each in its own namespace (its name),
   * after the built-in ones and in this order. Only `name` and `migrations` are used
   * here: register the plugins' writes in `registry` (openNode does both).
   */
  plugins?: readonly MigrationSet[];
  /** Application migrations (versions 1000 and up, namespace `application`), applied after the plugins'. */
  migrations?: readonly Migration[];
  /** Apply pending migrations on open. Default true for read-write stores. */
  autoMigrate?: boolean;
  /** How long a statement waits for another connection's lock. Default {@link DEFAULT_BUSY_TIMEOUT_MS}. */
  busyTimeoutMs?: number;
  /** Request records kept (newest); older ones are pruned. Default {@link DEFAULT_REQUEST_RETENTION}. */
  requestRetention?: number;
  /** Change events kept (newest). Default {@link DEFAULT_CHANGE_RETENTION}. */
  changeRetention?: number;
  /** The time written to created_at, updated_at, committed_at and change events. Default: the system clock. */
  clock?: () => Date;
  /** Logs through a `{ component: 'store' }` child; nothing per write. Default: a silent pino logger. */
  logger?: Logger;
}

/** True when a read-write store at this level syncs the WAL itself, off the event loop (`WalSync`). */
export function syncsOffTheLoop(options: StoreOptions): boolean {
  const sync = options.synchronous ?? 'FULL';
  return options.readonly !== true && (options.commitSync ?? DEFAULT_COMMIT_SYNC) === 'pipelined' && (sync === 'FULL' || sync === 'EXTRA');
}

/**
 * Checks {@link StoreOptions} before anything is opened; throws a TypeError that says
 * which option to change and what it got.
 */
export function checkStoreOptions(options: StoreOptions): void {
  if (typeof options.path !== 'string' || options.path.length === 0) {
    throw new TypeError(`Expected 'path' to be a database file path, got ${String(options.path)}`);
  }
  const sync = options.synchronous ?? 'FULL';
  if (!(SYNCHRONOUS_LEVELS as readonly string[]).includes(sync)) {
    throw new TypeError(`Expected 'synchronous' to be one of ${SYNCHRONOUS_LEVELS.join(', ')}, got ${String(sync)}`);
  }
  if (options.commitSync !== undefined && !(COMMIT_SYNC_MODES as readonly string[]).includes(options.commitSync)) {
    throw new TypeError(`Expected 'commitSync' to be one of ${COMMIT_SYNC_MODES.join(', ')}, got ${String(options.commitSync)}`);
  }
  for (const [name, v] of [
    ['requestRetention', options.requestRetention],
    ['changeRetention', options.changeRetention],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
      throw new TypeError(`Expected '${name}' to be an integer from 1 and up, got ${String(v)}`);
    }
  }
  const busy = options.busyTimeoutMs;
  if (busy !== undefined && (!Number.isInteger(busy) || busy < 0)) {
    throw new TypeError(`Expected 'busyTimeoutMs' to be an integer from 0 and up, got ${String(busy)} (${typeof busy})`);
  }
  if (options.clock !== undefined && typeof options.clock !== 'function') {
    throw new TypeError(`Expected 'clock' to be a function returning a Date, got ${typeof options.clock}`);
  }
}
