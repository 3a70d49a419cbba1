/** Heartbeat intervals a secondary lets pass in silence before it reports its primary unresponsive. */
export const DEFAULT_MISSED_HEARTBEATS = 3;

/** A change of the primary's liveness as a secondary sees it through the heartbeat. */
export type LivenessChange =
  | { responsive: false; lastHeartbeatAt: number | undefined; silentMs: number }
  | { responsive: true; lastHeartbeatAt: number; silentMs: number };

/** A secondary's heartbeat view of its primary, as `health()`, `/healthz` and `db.member` report it. */
export interface PrimaryLivenessView {
  responsive: boolean;
  /** RFC 3339, or null when no heartbeat has been heard. */
  last_heartbeat_at: string | null;
  silent_ms: number;
  /** How many times the heartbeat went silent while this secondary followed this primary. */
  lapses: number;
}

/** Options of {@link PrimaryLiveness}. */
export interface PrimaryLivenessOptions {
  /** The primary's heartbeat interval. */
  intervalMs: number;
  /** Intervals of silence before the primary counts as unresponsive. Default {@link DEFAULT_MISSED_HEARTBEATS}. */
  missedBeats?: number;
  /** Called once per change (unresponsive, then responsive again); a throw is the caller's to avoid. */
  onChange: (change: LivenessChange) => void;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
}

/**
 * What a secondary knows of its primary's liveness from the heartbeat alone. The
 * primary lock stays the authority on whether the primary is alive (only its
 * release starts a promotion); this only notices that the heartbeat went quiet, so
 * that `status`, `/healthz` and the node's events can say so: a stalled or
 * overloaded primary, or a broken PUB path, shows up here while the lock is still
 * held.
 *
 * Silence is counted from the last heartbeat, or from {@link start} before the first
 * one. The check runs once per interval; it starts no work of its own beyond that
 * timer, which {@link stop} clears.
 */
export class PrimaryLiveness {
  readonly #intervalMs: number;
  readonly #limitMs: number;
  readonly #onChange: (change: LivenessChange) => void;
  readonly #clock: () => number;
  #since: number;
  #lastHeartbeatAt: number | undefined;
  #responsive = true;
  #lapses = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: PrimaryLivenessOptions) {
    const { intervalMs, missedBeats = DEFAULT_MISSED_HEARTBEATS } = options;
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new TypeError(`Expected 'intervalMs' to be a number above 0, got ${String(intervalMs)}`);
    if (!Number.isInteger(missedBeats) || missedBeats < 1) throw new TypeError(`Expected 'missedBeats' to be an integer from 1 and up, got ${String(missedBeats)}`);
    this.#intervalMs = intervalMs;
    this.#limitMs = intervalMs * missedBeats;
    this.#onChange = options.onChange;
    this.#clock = options.clock ?? Date.now;
    this.#since = this.#clock();
  }

  /** Starts the periodic check (idempotent); silence counts from now until the first heartbeat. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#since = this.#lastHeartbeatAt ?? this.#clock();
    this.#timer = setInterval(() => this.check(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops the check (idempotent). */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** A heartbeat arrived: the primary is responsive (reported as a change if it was not). */
  heard(): void {
    const now = this.#clock();
    const silentMs = now - this.#since;
    this.#lastHeartbeatAt = now;
    this.#since = now;
    if (!this.#responsive) {
      this.#responsive = true;
      this.#onChange({ responsive: true, lastHeartbeatAt: now, silentMs });
    }
  }

  /** Compares the silence with the limit now; reports the change to unresponsive once. Run by the timer; callable directly. */
  check(): void {
    const silentMs = this.#clock() - this.#since;
    if (this.#responsive && silentMs > this.#limitMs) {
      this.#responsive = false;
      this.#lapses++;
      this.#onChange({ responsive: false, lastHeartbeatAt: this.#lastHeartbeatAt, silentMs });
    }
  }

  /** False from the moment the heartbeat has been silent for more than the limit until the next one. */
  get responsive(): boolean {
    return this.#responsive;
  }

  /** When the last heartbeat arrived (ms since the epoch), if one has. */
  get lastHeartbeatAt(): number | undefined {
    return this.#lastHeartbeatAt;
  }

  /** How long the heartbeat has been silent now (ms). */
  get silentMs(): number {
    return this.#clock() - this.#since;
  }

  /** The state as JSON (`/healthz`'s `primary`). */
  view(): PrimaryLivenessView {
    return {
      responsive: this.#responsive,
      last_heartbeat_at: this.#lastHeartbeatAt === undefined ? null : new Date(this.#lastHeartbeatAt).toISOString(),
      silent_ms: this.silentMs,
      lapses: this.#lapses,
    };
  }

  /** How many times the primary went unresponsive while this object watched it. */
  get lapses(): number {
    return this.#lapses;
  }
}
