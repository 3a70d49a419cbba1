import type { Registry } from 'prom-client';
import type { ClusterStatus, MemberInfo, NodeInfo, Role, StatusChange } from '@scribe/protocol';
import { FailoverLog, type PreviousPrimary } from './failover-log.js';
import { StatusHistory } from './status-history.js';
import { buildClusterStatus } from './status-snapshot.js';
import { StatusReporter, type StatusReport } from './status-report.js';

/** A change log the status view can read its tail from (the node's read-only store). */
export interface StatusChangeLog {
  latestChangeSeq(): number;
  changesSince(seq: number, limit: number): StatusChange[];
}

/** What a node exposes to its status view. Everything here is read, never written. */
export interface NodeStatusSource {
  readonly registry: Registry;
  readonly heartbeatIntervalMs: number;
  role(): Role | undefined;
  epoch(): number;
  instanceId(): string;
  /** `db.ping`'s answer; only called while the node has a role. */
  info(): NodeInfo;
  /** The HTTP listener's URL, or null. */
  http(): string | null;
  queueDepth(): number;
  /** The secondaries' last reports; empty unless primary. */
  reports(): Iterable<MemberInfo>;
  changeLog(): StatusChangeLog | undefined;
  /** The primary this node follows or is. */
  knownPrimary(): { instance_id: string; pid: number; epoch: number } | undefined;
  /** Asks the primary for `db.status` (on a secondary). */
  askPrimary(timeoutMs: number): Promise<ClusterStatus>;
}

/**
 * A node's status view: the one-second history of its write path, the failovers it
 * saw, `db.status` on a primary and `/status.json` on any node.
 */
export class NodeStatus {
  readonly history: StatusHistory;
  readonly failovers = new FailoverLog();
  readonly #source: NodeStatusSource;
  readonly #reporter: StatusReporter;

  constructor(source: NodeStatusSource) {
    this.#source = source;
    this.history = new StatusHistory({ registry: source.registry, isPrimary: () => source.role() === 'primary', queueDepth: () => source.queueDepth() });
    this.#reporter = new StatusReporter({
      self: () => ({
        instance_id: source.instanceId(),
        role: source.role() ?? null,
        pid: process.pid,
        epoch: source.epoch(),
        http: source.http(),
      }),
      knownPrimary: () => source.knownPrimary() ?? null,
      cluster: async (timeoutMs) => (source.role() === 'primary' ? this.snapshot() : source.askPrimary(timeoutMs)),
    });
  }

  /** What `db.status` answers on a primary. */
  snapshot(): ClusterStatus {
    const s = this.#source;
    return buildClusterStatus({
      info: () => s.info(),
      http: () => s.http(),
      reports: () => s.reports(),
      heartbeatIntervalMs: s.heartbeatIntervalMs,
      changeTail: (limit) => this.#changeTail(limit),
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
   * heartbeat heard and the last commit in the change log.
   */
  previousPrimary(known: { instance_id: string; pid: number; epoch: number }, lastHeartbeatAt: number | undefined): PreviousPrimary {
    const lastCommit = this.#changeTail(1)[0];
    const committedAt = lastCommit === undefined ? undefined : Date.parse(lastCommit.at);
    const times = [lastHeartbeatAt, committedAt].filter((t): t is number => t !== undefined && Number.isFinite(t));
    return { instance_id: known.instance_id, pid: known.pid, epoch: known.epoch, lastAliveAt: times.length === 0 ? undefined : Math.max(...times) };
  }

  #changeTail(limit: number): StatusChange[] {
    const log = this.#source.changeLog();
    if (log === undefined) return [];
    try {
      const latest = log.latestChangeSeq();
      return log.changesSince(Math.max(0, latest - limit), limit).map((c) => ({
        seq: c.seq,
        entity: c.entity,
        key: c.key,
        op: c.op,
        source_instance_id: c.source_instance_id,
        at: c.at,
      }));
    } catch {
      return [];
    }
  }
}
