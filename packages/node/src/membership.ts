import { RPC_METHODS, WriteError, type MemberInfo, type MemberReport, type NodeInfo } from '@scribe/protocol';
import type { RpcClient, RpcServer } from '@scribe/transport';

/**
 * The primary's list of members: secondaries report themselves with `db.member`
 * every heartbeat, and `db.members` answers the primary first, then every secondary
 * heard from within three heartbeats, by instance id.
 */
export class Membership {
  readonly #members = new Map<string, MemberInfo>();
  readonly #heartbeatIntervalMs: number;

  constructor(heartbeatIntervalMs: number) {
    this.#heartbeatIntervalMs = heartbeatIntervalMs;
  }

  /** Adds `db.member` and `db.members` to the primary's server; `self` is what `db.ping` answers. */
  serve(server: RpcServer, self: () => NodeInfo): void {
    server.addMethod(RPC_METHODS.member, (params) => {
      this.report(params);
      return null;
    });
    server.addMethod(RPC_METHODS.members, () => this.list(self()));
  }

  /** Records a secondary's report; INVALID_PARAMS when it is not one. */
  report(params: unknown): void {
    const r = params as Partial<MemberReport> | undefined | null;
    if (r === undefined || r === null || typeof r.instance_id !== 'string' || typeof r.pid !== 'number') {
      throw new WriteError('INVALID_PARAMS', 'Expected params to be a member report {instance_id, pid, role, epoch, uptime_s, last_heartbeat_at}', { field: 'params' });
    }
    this.#members.set(r.instance_id, {
      instance_id: r.instance_id,
      pid: r.pid,
      role: r.role === 'primary' ? 'primary' : 'secondary',
      epoch: typeof r.epoch === 'number' ? r.epoch : 0,
      uptime_s: typeof r.uptime_s === 'number' ? r.uptime_s : 0,
      last_heartbeat_at: typeof r.last_heartbeat_at === 'string' ? r.last_heartbeat_at : null,
      ...(Array.isArray(r.plugins) ? { plugins: r.plugins } : {}),
      ...(typeof r.primary_responsive === 'boolean' ? { primary_responsive: r.primary_responsive } : {}),
      ...(typeof r.primary_lapses === 'number' ? { primary_lapses: r.primary_lapses } : {}),
      ...(typeof r.schema_version === 'number' ? { schema_version: r.schema_version } : {}),
      ...(typeof r.http === 'string' ? { http: r.http } : {}),
      queue_depth: 0,
      seen_at: new Date().toISOString(),
    });
  }

  /** The secondaries' last reports, silent ones included for a minute (the status page marks them). */
  reports(): Iterable<MemberInfo> {
    return this.#members.values();
  }

  /** The primary (from `me`), then the secondaries heard from within three heartbeats. */
  list(me: NodeInfo): MemberInfo[] {
    // Silent members stay known for a minute (the status page marks them), but
    // db.members lists only those heard within three heartbeats.
    const forget = Date.now() - Math.max(60_000, 3 * this.#heartbeatIntervalMs);
    for (const [id, m] of this.#members) if (Date.parse(m.seen_at) < forget) this.#members.delete(id);
    const stale = Date.now() - 3 * this.#heartbeatIntervalMs;
    const self: MemberInfo = {
      instance_id: me.instance_id,
      pid: me.pid,
      role: 'primary',
      epoch: me.epoch,
      uptime_s: me.uptime_s,
      last_heartbeat_at: null,
      plugins: me.plugins,
      queue_depth: me.queue_depth,
      seen_at: new Date().toISOString(),
    };
    const heard = [...this.#members.values()].filter((m) => Date.parse(m.seen_at) >= stale);
    return [self, ...heard.sort((a, b) => a.instance_id.localeCompare(b.instance_id))];
  }
}

/**
 * A secondary's side of membership: reports itself to its primary now and every
 * `intervalMs`. Returns the function that stops the reports.
 */
export function startMemberReports(client: RpcClient, report: () => MemberReport, intervalMs: number): () => void {
  const send = (): void => {
    client.call(RPC_METHODS.member, report(), { timeoutMs: intervalMs }).catch(() => undefined);
  };
  const timer = setInterval(send, intervalMs);
  timer.unref();
  const first = setImmediate(send);
  return () => {
    clearInterval(timer);
    clearImmediate(first);
  };
}
