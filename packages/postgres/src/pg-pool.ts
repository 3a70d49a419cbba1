import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import type { Logger } from 'pino';
import { SCRIBE_PG_TYPES } from './pg-type-parsers.js';
import { redactUrl } from './redact-url.js';

/** Default upper bound on the connections one process opens. */
export const DEFAULT_POOL_SIZE = 10;
/** Default time to wait for a connection (new or from the pool) before failing. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Default time an idle connection stays open. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** Default `application_name` the server shows in `pg_stat_activity`. */
export const DEFAULT_APPLICATION_NAME = 'scribe';

/** How to reach the server: what the pool and every dedicated connection take. */
export interface PgConnectionOptions {
  /** `postgres://user:password@host:port/database?…` (or a `host=… dbname=…` string). Never logged as given. */
  readonly url: string;
  /** TLS, passed through to node-postgres (`true`, or Node's `tls.connect` options: `ca`, `cert`, `key`, `rejectUnauthorized`, …). Overrides `sslmode` in the URL. */
  readonly ssl?: boolean | ConnectionOptions;
  /** The server-side `application_name` (default {@link DEFAULT_APPLICATION_NAME}). */
  readonly applicationName?: string;
  /** How long to wait for a connection before failing (default {@link DEFAULT_CONNECT_TIMEOUT_MS}). */
  readonly connectTimeoutMs?: number;
}

/** Options of {@link createPgPool}. */
export interface PgPoolOptions extends PgConnectionOptions {
  /** Most connections open at once (default {@link DEFAULT_POOL_SIZE}); callers beyond it wait. */
  readonly max?: number;
  /** How long an idle connection stays open (default {@link DEFAULT_IDLE_TIMEOUT_MS}). */
  readonly idleTimeoutMs?: number;
  /** Where the pool says what it does; every line names the server by {@link redactUrl}. */
  readonly logger?: Logger;
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`Expected '${name}' to be an integer from 1 and up, got ${String(value)} (${typeof value})`);
  }
  return value;
}

/**
 * A bounded node-postgres pool whose rows have SQLite's shapes (see
 * `pg-type-parsers.ts`). An error on an idle connection (the server restarted, the
 * network dropped) is logged and the connection discarded; the next checkout opens a
 * new one, so the process keeps serving.
 */
export function createPgPool(options: PgPoolOptions): pg.Pool {
  if (typeof options?.url !== 'string' || options.url === '') {
    throw new TypeError(`Expected 'url' to be a PostgreSQL connection string, got ${typeof options?.url}`);
  }
  const max = positiveInteger('max', options.max ?? DEFAULT_POOL_SIZE);
  const connectionTimeoutMillis = positiveInteger('connectTimeoutMs', options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  const idleTimeoutMillis = positiveInteger('idleTimeoutMs', options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
  const applicationName = options.applicationName ?? DEFAULT_APPLICATION_NAME;
  if (typeof applicationName !== 'string') throw new TypeError(`Expected 'applicationName' to be a string, got ${typeof applicationName}`);
  const server = redactUrl(options.url);
  const pool = new pg.Pool({
    connectionString: options.url,
    max,
    connectionTimeoutMillis,
    idleTimeoutMillis,
    application_name: applicationName,
    types: SCRIBE_PG_TYPES,
    ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
  });
  const log = options.logger?.child({ component: 'pg-pool', server });
  pool.on('error', (error: Error & { code?: string }) => {
    // An idle connection failed; pg has already removed it from the pool.
    log?.warn({ code: error.code }, 'postgres: an idle connection failed; it is discarded and the next query opens a new one');
  });
  log?.debug({ max }, 'postgres: pool created');
  return pool;
}

/**
 * A connection of its own, outside the pool (the change listener's LISTEN, the
 * maintenance lease's session lock): the pool's TLS, connect timeout and row shapes,
 * shown in `pg_stat_activity` as `applicationName (purpose)`. Not connected yet.
 */
export function createPgClient(options: PgConnectionOptions, purpose: string): pg.Client {
  return new pg.Client({
    connectionString: options.url,
    application_name: `${options.applicationName ?? DEFAULT_APPLICATION_NAME} (${purpose})`,
    types: SCRIBE_PG_TYPES,
    connectionTimeoutMillis: positiveInteger('connectTimeoutMs', options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
    ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
  });
}
