import type { Logger } from 'pino';
import type { MemberStatus } from '@scribe/protocol';
import { mapPgError, type PeerRecord, type PeerRow } from '@scribe/postgres';
import { MISSED_REPORTS } from './status-snapshot.js';

/** What {@link PeerPresence} needs of the peer table (`PgPeerTable` implements it). */
export interface PeerTable {
  beat(peer: PeerRecord): Promise<void>;
  leave(instanceId: string): Promise<void>;
  list(): Promise<PeerRow[]>;
}

/** Options of {@link PeerPresence}. */
export interface PeerPresenceOptions {
  table: PeerTable;
  /** How often this peer records itself. */
  intervalMs: number;
  /** What it records, read at each heartbeat. */
  record(): PeerRecord;
  log: Logger;
}

/**
 * A PostgreSQL peer's presence among the other peers of its database: it records
 * itself in the peer table now and once a heartbeat (at most one statement in flight;
 * a heartbeat that fails is logged once per outage and tried again at the next),
 * deletes its row when it closes, and lists the others for the status view. Nothing
 * here runs on the write path.
 */
export class PeerPresence {
  readonly #o: PeerPresenceOptions;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  #lastBeatOk = false;
  #failing = false;
  #closed = false;

  constructor(options: PeerPresenceOptions) {
    this.#o = options;
  }

  /** Records this peer now (resolves when that first record is done or failed) and every interval from then on. */
  async start(): Promise<void> {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setInterval(() => void this.#beat(), this.#o.intervalMs);
    this.#timer.unref();
    await this.#beat();
  }

  /**
   * Stops the heartbeat and deletes this peer's row, so the others stop listing it at
   * once. When the last heartbeat failed (the server is away) the row is left to go
   * silent. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#beating;
    if (!this.#lastBeatOk) return;
    try {
      await this.#o.table.leave(this.#o.record().instance_id);
    } catch (e) {
      this.#o.log.warn({ code: mapPgError(e, null).code }, 'could not remove this peer from the peer table; the others see it go silent');
    }
  }

  /** The peers recorded in the database, as members of the status view; rejects when the server does not answer. */
  async others(): Promise<MemberStatus[]> {
    return (await this.#o.table.list()).map(peerMember);
  }

  #beat(): Promise<void> {
    if (this.#beating !== undefined || this.#closed) return this.#beating ?? Promise.resolve();
    const beating = this.#o.table.beat(this.#o.record()).then(
      () => {
        if (this.#failing) this.#o.log.info('recording this peer in the peer table again');
        this.#failing = false;
        this.#lastBeatOk = true;
      },
      (e: unknown) => {
        if (!this.#failing) this.#o.log.warn({ code: mapPgError(e, null).code }, 'could not record this peer in the peer table; the others will see it as not answering until it can');
        this.#failing = true;
        this.#lastBeatOk = false;
      },
    );
    this.#beating = beating.finally(() => {
      this.#beating = undefined;
    });
    return this.#beating;
  }
}

/** A peer's row as a member of the status view: not answering after {@link MISSED_REPORTS} of its own intervals, by the server's clock. */
export function peerMember(row: PeerRow): MemberStatus {
  return {
    instance_id: row.instance_id,
    role: 'peer',
    pid: row.pid,
    epoch: 0,
    uptime_s: row.uptime_s,
    schema_version: row.schema_version,
    plugins: row.plugins,
    last_heartbeat_at: null,
    seen_at: row.seen_at,
    answering: row.age_ms <= MISSED_REPORTS * row.interval_ms,
    http: row.http,
    host: row.host,
    queue_depth: row.load.queue_depth,
    committed_per_s: row.load.committed_per_s,
  };
}
