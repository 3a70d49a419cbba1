import type pg from 'pg';
import type { Logger } from 'pino';
import { CHANGES_CHANNEL } from './pg-change-log.js';
import { createPgClient, type PgConnectionOptions } from './pg-pool.js';

/** First pause before the LISTEN connection is opened again after it failed; doubles up to {@link MAX_LISTEN_RETRY_MS}. */
export const LISTEN_RETRY_MS = 100;
/** Longest pause between two attempts to open the LISTEN connection. */
export const MAX_LISTEN_RETRY_MS = 2_000;

/** Options of {@link PgChangeListener}. */
export interface PgChangeListenerOptions extends PgConnectionOptions {
  /** Called on every notification of {@link CHANGES_CHANNEL} (a batch with changes committed somewhere), and once after each (re)connect. */
  readonly onNotify: () => void;
  /** Called when the connection goes up or down (readers poll faster while it is down). */
  readonly onState?: (listening: boolean) => void;
  readonly logger?: Logger;
}

/**
 * The doorbell of the change feed on PostgreSQL: one dedicated connection (outside the
 * pool) that LISTENs on {@link CHANGES_CHANNEL}. Every batch that logs changes NOTIFYs
 * in its transaction, so the notification arrives after its commit, in every process.
 * The bell only wakes readers, who read the log by seq; a notification lost while the
 * connection was down costs nothing but latency: readers poll while it is down, and
 * after each reconnect the bell rings once. The connection is opened again with
 * backoff until {@link PgChangeListener.close}.
 */
export class PgChangeListener {
  readonly #o: PgChangeListenerOptions;
  #client: pg.Client | undefined;
  #listening = false;
  #closed = false;
  #retryMs = LISTEN_RETRY_MS;
  #timer: NodeJS.Timeout | undefined;
  #connecting: Promise<void> | undefined;

  constructor(options: PgChangeListenerOptions) {
    this.#o = options;
  }

  /** True while the LISTEN connection is up. */
  get listening(): boolean {
    return this.#listening;
  }

  /** The server process id of the LISTEN connection, while it is up (for tests and diagnostics). */
  get backendPid(): number | undefined {
    return this.#listening ? (this.#client as unknown as { processID?: number } | undefined)?.processID : undefined;
  }

  /** Opens the LISTEN connection; resolves after the first attempt, whether it succeeded or will be retried. */
  start(): Promise<void> {
    this.#connecting ??= this.#connect();
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const client = createPgClient(this.#o, 'changes');
    this.#client = client;
    let down = false;
    const lost = (error?: Error & { code?: string }): void => {
      if (down) return;
      down = true;
      if (this.#client === client) this.#client = undefined;
      client.removeAllListeners('notification');
      client.end().catch(() => undefined);
      this.#setListening(false);
      if (this.#closed) return;
      this.#o.logger?.warn({ code: error?.code, retry_ms: this.#retryMs }, 'postgres: the LISTEN connection of the change feed is down; readers poll until it is back');
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#connecting = this.#connect();
      }, this.#retryMs);
      this.#timer.unref();
      this.#retryMs = Math.min(this.#retryMs * 2, MAX_LISTEN_RETRY_MS);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (m) => {
      if (m.channel === CHANGES_CHANNEL) this.#o.onNotify();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
      if (this.#closed) {
        await client.end().catch(() => undefined);
        return;
      }
      this.#retryMs = LISTEN_RETRY_MS;
      this.#setListening(true);
      // Whatever committed while nobody listened: readers look once.
      this.#o.onNotify();
    } catch (e) {
      lost(e as Error & { code?: string });
    }
  }

  #setListening(value: boolean): void {
    if (this.#listening === value) return;
    this.#listening = value;
    this.#o.onState?.(value);
  }

  /** Closes the LISTEN connection and stops reconnecting. Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    this.#listening = false;
    await client?.end().catch(() => undefined);
  }
}
