import type { FailoverRecord } from '@scribe/protocol';

/** How many failovers a node remembers. */
export const DEFAULT_FAILOVERS_KEPT = 20;

/** The primary a node knew before a failover, and when it last saw it alive. */
export interface PreviousPrimary {
  instance_id: string;
  pid: number;
  epoch: number;
  /** Last sign of life this node had: a heartbeat heard or a commit seen (ms since the Unix epoch). */
  lastAliveAt: number | undefined;
}

/**
 * The failovers a node took part in (it was promoted) or saw (it followed a new
 * primary), newest first, in memory. A new primary therefore also reports the
 * failovers it saw while it was a secondary.
 */
export class FailoverLog {
  readonly #records: FailoverRecord[] = [];
  readonly #keep: number;

  constructor(keep = DEFAULT_FAILOVERS_KEPT) {
    this.#keep = keep;
  }

  /** This node became primary of `epoch` at `readyAt` (ms), taking over from `from`. */
  promoted(to: { instance_id: string; pid: number; epoch: number }, from: PreviousPrimary | undefined, readyAt: number): void {
    this.#add(to, from, readyAt, 'promoted');
  }

  /** This node saw `to` become primary (it noticed at `seenAt`, ms; `startedAt` is when the new primary published itself). */
  followed(to: { instance_id: string; pid: number; epoch: number }, from: PreviousPrimary | undefined, seenAt: number, startedAt: number | undefined): void {
    const ready = startedAt !== undefined && Number.isFinite(startedAt) ? startedAt : seenAt;
    this.#add(to, from, ready, 'followed', seenAt);
  }

  /** The records, newest first. */
  list(): FailoverRecord[] {
    return this.#records.slice();
  }

  #add(
    to: { instance_id: string; pid: number; epoch: number },
    from: PreviousPrimary | undefined,
    readyAt: number,
    kind: FailoverRecord['kind'],
    at = readyAt,
  ): void {
    const alive = from?.lastAliveAt;
    this.#records.unshift({
      at: new Date(at).toISOString(),
      from: from === undefined ? null : { instance_id: from.instance_id, pid: from.pid, epoch: from.epoch },
      to: { instance_id: to.instance_id, pid: to.pid, epoch: to.epoch },
      writes_waited_ms: alive === undefined ? null : Math.max(0, Math.round(readyAt - alive)),
      kind,
    });
    this.#records.length = Math.min(this.#records.length, this.#keep);
  }
}
