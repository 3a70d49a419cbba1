import type pg from 'pg';
import type { Logger } from 'pino';
import { createPgClient, type PgConnectionOptions } from './pg-pool.js';

/** The advisory lock key plugin maintenance runs under ("scribemt" in ASCII). */
export const MAINTENANCE_LOCK_KEY = 0x73_63_72_69_62_65_6d_74n;
/** How often a peer without the lease tries to take it. */
export const DEFAULT_LEASE_RETRY_MS = 1_000;

/** Options of {@link PgAdvisoryLease}. */
export interface PgAdvisoryLeaseOptions extends PgConnectionOptions {
  /** The lock key (default {@link MAINTENANCE_LOCK_KEY}). */
  readonly key?: bigint;
  /** How often to try while another process holds it (default {@link DEFAULT_LEASE_RETRY_MS}). */
  readonly retryMs?: number;
  readonly logger?: Logger;
}

/**
 * A lease that one process of all the peers of a database holds at a time: a
 * session-level `pg_try_advisory_lock` on a dedicated connection. The server releases
 * it when that connection ends, so when the holder dies (or loses its connection) the
 * next try of another peer takes it over. Used so that plugin sweeps run in exactly
 * one process at a time.
 */
export class PgAdvisoryLease {
  readonly #o: PgAdvisoryLeaseOptions;
  readonly #key: string;
  #client: pg.Client | undefined;
  #held = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #trying: Promise<void> | undefined;

  constructor(options: PgAdvisoryLeaseOptions) {
    this.#o = options;
    this.#key = (options.key ?? MAINTENANCE_LOCK_KEY).toString();
  }

  /** True while this process holds the lease. */
  get held(): boolean {
    return this.#held;
  }

  /** Starts trying to take the lease (now, then every `retryMs` while another holds it). */
  start(): Promise<void> {
    this.#trying ??= this.#try();
    return this.#trying;
  }

  async #try(): Promise<void> {
    if (this.#closed) return;
    try {
      if (this.#client === undefined) {
        const client = createPgClient(this.#o, 'maintenance');
        const lost = (error?: Error & { code?: string }): void => {
          if (this.#client !== client) return;
          this.#client = undefined;
          if (this.#held) this.#o.logger?.warn({ code: error?.code }, 'postgres: the maintenance lease connection was lost; another peer may take the lease');
          this.#held = false;
          client.end().catch(() => undefined);
        };
        client.on('error', lost);
        client.on('end', () => lost());
        this.#client = client;
        await client.connect();
      }
      if (!this.#held) {
        const r = await this.#client.query<{ ok: number }>('SELECT pg_try_advisory_lock($1) AS ok', [this.#key]);
        if (r.rows[0]?.ok === 1 && !this.#closed) {
          this.#held = true;
          this.#o.logger?.info('postgres: this peer holds the maintenance lease; it runs the sweeps');
        }
      }
    } catch (e) {
      this.#o.logger?.debug({ err: e }, 'postgres: taking the maintenance lease failed; trying again');
      const client = this.#client;
      this.#client = undefined;
      this.#held = false;
      await client?.end().catch(() => undefined);
    } finally {
      if (!this.#closed) {
        this.#timer = setTimeout(() => {
          this.#trying = this.#try();
        }, this.#o.retryMs ?? DEFAULT_LEASE_RETRY_MS);
        this.#timer.unref();
      }
    }
  }

  /** Lets go of the lease (its connection ends) and stops trying. Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#trying?.catch(() => undefined);
    const client = this.#client;
    this.#client = undefined;
    this.#held = false;
    await client?.end().catch(() => undefined);
  }
}
