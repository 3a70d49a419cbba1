import type { Registry } from 'prom-client';
import type { ClusterStatus, MemberStatus, NodeInfo, Role, StatusChange, StatusEngine } from '@scribe/protocol';
import { FailoverLog, type PreviousPrimary } from './failover-log.js';
import { StatusHistory } from './status-history.js';
import { buildClusterStatus, type MaybePromise } from './status-snapshot.js';
import { StatusReporter, type StatusReport } from './status-report.js';

/** What a node exposes to its status view. Everything here is read, never written. */
export interface NodeStatusSource {
  readonly registry: Registry;
  /** Where the view comes from: a SQLite cluster, or a peer of a PostgreSQL server. */
  readonly engine: StatusEngine;
  /** The PostgreSQL server, credentials blanked (postgres only). */
  readonly server?: string;
  /** This node's host name, shown when members run on several machines (postgres only). */
  readonly host?: string;
  role(): Role | undefined;
  epoch(): number;
  instanceId(): string;
  /** `db.ping`'s answer; only called while the node has a role. */
  info(): NodeInfo;
  /** The HTTP listener's URL, or null. */
  http(): string | null;
  queueDepth(): number;
  /**
   * The members other than this node as it knows them at `now`: a SQLite primary's
   * secondaries (their reports), a PostgreSQL peer's other peers (the peer table).
   * Only called while this node builds the view itself (primary or peer).
   */
  others(now: number): MaybePromise<MemberStatus[]>;
  /** The change log's last `limit` entries, oldest first (empty when it cannot be read). */
  changeTail(limit: number): MaybePromise<StatusChange[]>;
  /** The primary this node follows or is (SQLite); undefined for a peer. */
  knownPrimary(): { instance_id: string; pid: number; epoch: number } | undefined;
  /** Asks the primary for `db.status` (on a secondary). */
  askPrimary(timeoutMs: number): Promise<ClusterStatus>;
  /**
   * Why the view this node built is not fresh, in words (a peer whose server does not
   * answer shows its own figures and the members and changes it read last); null when it is.
   */
  problem?(): string | null;
}

/**
 * A node's status view: the one-second history of its write path, the failovers it
 * saw, `db.status` on a primary and `/status.json` on any node. A SQLite primary and a
 * PostgreSQL peer build the view themselves; a secondary asks its primary.
 */
export class NodeStatus {
  readonly history: StatusHistory;
  readonly failovers = new FailoverLog();
  readonly #source: NodeStatusSource;
  readonly #reporter: StatusReporter;

  constructor(source: NodeStatusSource) {
    this.#source = source;
    this.history = new StatusHistory({ registry: source.registry, commits: () => commitsWrites(source.role()), queueDepth: () => source.queueDepth() });
    this.#reporter = new StatusReporter({
      self: () => ({
        instance_id: source.instanceId(),
        role: source.role() ?? null,
        pid: process.pid,
        epoch: source.epoch(),
        http: source.http(),
      }),
      knownPrimary: () => source.knownPrimary() ?? null,
      cluster: async (timeoutMs) => (commitsWrites(source.role()) ? this.snapshot() : source.askPrimary(timeoutMs)),
      problem: () => source.problem?.() ?? null,
    });
  }

  /** What `db.status` answers on a primary; a peer's own view. */
  snapshot(): Promise<ClusterStatus> {
    const s = this.#source;
    return buildClusterStatus({
      engine: s.engine,
      ...(s.server === undefined ? {} : { server: s.server }),
      ...(s.host === undefined ? {} : { host: s.host }),
      info: () => s.info(),
      http: () => s.http(),
      others: (now) => s.others(now),
      changeTail: (limit) => s.changeTail(limit),
      failovers: () => this.failovers.list(),
      history: this.history,
    });
  }

  /** What `/status.json` answers. */
  report(): Promise<StatusReport> {
    return this.#reporter.report();
  }

  /**
   * The primary this node knew, with its last sign of life: the later of the last
   * heartbeat heard and the last commit in the change log (SQLite: read at once).
   */
  previousPrimary(known: { instance_id: string; pid: number; epoch: number }, lastHeartbeatAt: number | undefined): PreviousPrimary {
    const tail = this.#source.changeTail(1);
    // Only a SQLite node has failovers, and its log is read synchronously.
    const lastCommit = Array.isArray(tail) ? tail[0] : undefined;
    const committedAt = lastCommit === undefined ? undefined : Date.parse(lastCommit.at);
    const times = [lastHeartbeatAt, committedAt].filter((t): t is number => t !== undefined && Number.isFinite(t));
    return { instance_id: known.instance_id, pid: known.pid, epoch: known.epoch, lastAliveAt: times.length === 0 ? undefined : Math.max(...times) };
  }
}

/** True for the roles that commit writes and build the status view themselves: a primary and a peer. */
export function commitsWrites(role: Role | undefined): boolean {
  return role === 'primary' || role === 'peer';
}
