import { HEARTBEAT_TOPIC, RPC_METHODS, SHUTDOWN_TOPIC, WriteError } from '@scribe/protocol';
import { EventSubscriber, RpcClient } from '@scribe/transport';
import type { DiscoveryRecord } from './discovery.js';
import { startMemberReports } from './membership.js';
import { assertSafeIpcEndpoint } from './socket-dir.js';
import type { NodeContext } from './node-context.js';
import { PrimaryLiveness, type LivenessChange } from './primary-liveness.js';

/** What a node holds while it is a secondary of one primary. Built by {@link startSecondaryDuty}. */
export interface SecondaryDuty {
  readonly role: 'secondary';
  /** The primary this secondary follows. */
  readonly primary: DiscoveryRecord;
  /** The DEALER to the primary's ROUTER. */
  readonly client: RpcClient;
  /** When the primary's heartbeat was last heard (ms since epoch), if ever. */
  readonly lastHeartbeatAt: number | undefined;
  /** The primary's liveness from the heartbeat alone (the lock stays the authority). */
  readonly liveness: PrimaryLiveness;
  /** Subscribes again (to `db.` events too, once someone reads the change feed). */
  resubscribe(): Promise<void>;
  /**
   * Closes the client and the subscriber; calls in flight to the primary fail as
   * UNREACHABLE and the forwarder retries them against whoever is next. Safe to call twice.
   */
  dispose(reason?: string): Promise<void>;
}

/** What the secondary tells the leadership loop. */
export interface SecondaryHooks {
  /** The primary announced its shutdown: look for the next one now rather than at the next poll. */
  wake(): void;
  /** The file's schema version differs from the one this node was built for (checked before each forwarded write). */
  schemaMismatch(): WriteError | undefined;
}

/**
 * Follows `primary`: connects a client and a subscriber, reports this member every
 * heartbeat, and points the node's forwarder at the primary.
 */
export function startSecondaryDuty(ctx: NodeContext, primary: DiscoveryRecord, hooks: SecondaryHooks): SecondaryDuty {
  return new Following(ctx, primary, hooks);
}

class Following implements SecondaryDuty {
  readonly role = 'secondary' as const;
  readonly client: RpcClient;
  lastHeartbeatAt: number | undefined;
  readonly liveness: PrimaryLiveness;
  readonly #ctx: NodeContext;
  readonly #hooks: SecondaryHooks;
  #subscriber: EventSubscriber;
  readonly #stopReports: () => void;
  #disposing: Promise<void> | undefined;

  constructor(
    ctx: NodeContext,
    readonly primary: DiscoveryRecord,
    hooks: SecondaryHooks,
  ) {
    // Never connect to a socket in a directory someone else could have swapped.
    assertSafeIpcEndpoint(primary.router, ctx.modes);
    assertSafeIpcEndpoint(primary.pub, ctx.modes);
    this.#ctx = ctx;
    this.#hooks = hooks;
    const log = ctx.root.child({ role: 'secondary' });
    this.client = new RpcClient({ endpoint: primary.router, logger: log, ...curveClient(ctx) });
    this.client.connect();
    this.liveness = new PrimaryLiveness({ intervalMs: ctx.timings.heartbeatIntervalMs, onChange: (c) => this.#livenessChanged(c) });
    this.liveness.start();
    this.#subscriber = this.#subscribe();
    const client = this.client;
    this.#stopReports = startMemberReports(
      client,
      () => ({
        instance_id: ctx.instanceId,
        pid: process.pid,
        role: 'secondary',
        epoch: primary.epoch,
        uptime_s: Math.round((Date.now() - ctx.startedAt) / 1000),
        last_heartbeat_at: this.lastHeartbeatAt === undefined ? null : new Date(this.lastHeartbeatAt).toISOString(),
        plugins: ctx.pluginInfo(),
        schema_version: ctx.readStore().schemaVersion(),
        http: ctx.httpUrl(),
        primary_responsive: this.liveness.responsive,
        primary_lapses: this.liveness.lapses,
      }),
      ctx.timings.heartbeatIntervalMs,
    );
    ctx.forwarder.setTarget((request, timeoutMs) => {
      const mismatch = hooks.schemaMismatch();
      if (mismatch !== undefined) return Promise.reject(mismatch.withMethod(request.method));
      return client.call(RPC_METHODS.write, request, { timeoutMs });
    });
  }

  async resubscribe(): Promise<void> {
    if (this.#disposing !== undefined) return;
    const old = this.#subscriber;
    this.#subscriber = this.#subscribe();
    await old.close().catch(() => undefined);
  }

  dispose(): Promise<void> {
    this.#disposing ??= (async () => {
      this.#stopReports();
      this.liveness.stop();
      await this.client.close().catch(() => undefined);
      await this.#subscriber.close().catch(() => undefined);
    })();
    return this.#disposing;
  }

  /** The heartbeat went silent or came back: log it and tell the application (once per change). */
  #livenessChanged(change: LivenessChange): void {
    if (this.#disposing !== undefined) return;
    const { instance_id, epoch, pid } = this.primary;
    const log = this.#ctx.root.child({ role: 'secondary', component: 'node' });
    if (change.responsive) {
      log.info({ primary: instance_id, epoch, silent_ms: change.silentMs }, 'primary heartbeat heard again: responsive');
      this.#ctx.emit({ type: 'primary:responsive', instance_id, epoch, silent_ms: change.silentMs });
    } else {
      const last = change.lastHeartbeatAt === undefined ? null : new Date(change.lastHeartbeatAt).toISOString();
      log.warn({ primary: instance_id, pid, epoch, silent_ms: change.silentMs, last_heartbeat_at: last }, 'primary missed its heartbeats: unresponsive (it still holds the lock)');
      this.#ctx.emit({ type: 'primary:unresponsive', instance_id, epoch, last_heartbeat_at: last, silent_ms: change.silentMs });
    }
  }

  /** A SUB to the primary's PUB: cluster notices, and change doorbells once someone reads changes. */
  #subscribe(): EventSubscriber {
    const ctx = this.#ctx;
    const topics = ctx.wantsChanges() ? ['sys.', 'db.'] : ['sys.'];
    const subscriber = new EventSubscriber({
      endpoint: this.primary.pub,
      topics,
      logger: ctx.root.child({ role: 'secondary' }),
      ...curveClient(ctx),
    });
    subscriber.onEvent((topic) => {
      if (topic.startsWith('db.')) ctx.feed.notify();
      else if (topic === HEARTBEAT_TOPIC) {
        this.lastHeartbeatAt = Date.now();
        this.liveness.heard();
      }
      else if (topic === SHUTDOWN_TOPIC) this.#hooks.wake();
    });
    subscriber.connect();
    return subscriber;
  }
}

/** The client side of the cluster's CURVE keys, when it has some. */
export function curveClient(ctx: NodeContext): { curve?: { serverKey: string; publicKey: string; secretKey: string } } {
  const c = ctx.options.curve;
  return c === undefined ? {} : { curve: { serverKey: c.publicKey, publicKey: c.publicKey, secretKey: c.secretKey } };
}
