import { WriteError, type ClusterStatus, type Role } from '@scribe/protocol';

/** How long a secondary waits for its primary's `db.status` before saying it does not answer. */
export const STATUS_FETCH_TIMEOUT_MS = 1_500;
/** How long a fetched primary view is reused (several viewers, one call). */
export const STATUS_CACHE_MS = 500;

/** What `GET /status.json` answers. */
export interface StatusReport {
  /** When this report was made (RFC 3339). */
  at: string;
  /** The node whose HTTP listener answered. */
  served_by: { instance_id: string; role: Role | null; pid: number; epoch: number; http: string | null };
  /**
   * True when `cluster` is a fresh view from the primary (this node's own when it is
   * primary). On a peer of a PostgreSQL server: true when the server answered for the
   * view (its members and change feed are fresh).
   */
  primary_answers: boolean;
  /** Why there is no fresh view, in words; null when there is one. */
  problem: string | null;
  /**
   * The primary's view, or null when no primary answers. A peer always has its own
   * view: when its server does not answer, its own samples and errors with the members
   * and changes it read last (and `problem` says so).
   */
  cluster: ClusterStatus | null;
  /** The primary this node follows (or is), from its discovery record; null when it knows none (always on a peer). */
  known_primary: { instance_id: string; pid: number; epoch: number } | null;
}

/** What a {@link StatusReporter} asks the node. */
export interface StatusReportSource {
  self(): StatusReport['served_by'];
  knownPrimary(): StatusReport['known_primary'];
  /**
   * The primary's view: built locally on a primary, asked with `db.status` on a
   * secondary. Rejects (a WriteError) when no primary answers.
   */
  cluster(timeoutMs: number): Promise<ClusterStatus>;
  /** Why a view that `cluster` built is not fresh (a peer whose server does not answer); null when it is. */
  problem?(): string | null;
}

/**
 * Answers `/status.json`: the primary's view with who served it, and in plain words
 * why not when no primary answers. Concurrent and close requests share one call.
 */
export class StatusReporter {
  readonly #source: StatusReportSource;
  readonly #clock: () => number;
  #cached: { at: number; epoch: number; role: Role | null; value: Promise<ClusterStatus> } | undefined;

  constructor(source: StatusReportSource, clock: () => number = Date.now) {
    this.#source = source;
    this.#clock = clock;
  }

  /** The report for `/status.json`. Never rejects. */
  async report(): Promise<StatusReport> {
    const self = this.#source.self();
    const known = this.#source.knownPrimary();
    const base = { at: new Date(this.#clock()).toISOString(), served_by: self, known_primary: known };
    if (self.role === null) return { ...base, primary_answers: false, problem: 'this node has no role yet', cluster: null };
    try {
      const cluster = await this.#cluster(self.role, self.epoch);
      const problem = this.#source.problem?.() ?? null;
      return { ...base, primary_answers: problem === null, problem, cluster };
    } catch (e) {
      const code = e instanceof WriteError ? e.code : 'INTERNAL';
      const who = known === null ? 'no primary is known' : `the primary ${known.instance_id} (pid ${known.pid}, epoch ${known.epoch}) did not answer (${code})`;
      return { ...base, primary_answers: false, problem: `no primary answers: ${who}`, cluster: null };
    }
  }

  #cluster(role: Role, epoch: number): Promise<ClusterStatus> {
    const now = this.#clock();
    const c = this.#cached;
    if (c !== undefined && c.role === role && c.epoch === epoch && now - c.at < STATUS_CACHE_MS) return c.value;
    const value = this.#source.cluster(STATUS_FETCH_TIMEOUT_MS);
    this.#cached = { at: now, epoch, role, value };
    // A failure is not reused: the next request asks again.
    value.catch(() => {
      if (this.#cached?.value === value) this.#cached = undefined;
    });
    return value;
  }
}
