import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import {
  HEARTBEAT_TOPIC,
  RPC_METHODS,
  SHUTDOWN_TOPIC,
  WriteError,
  changeTopic,
  parseWriteRequest,
  type ClusterStatus,
  type MemberInfo,
  type MemberReport,
  type NodeInfo,
  type PluginInfo,
  type Role,
  type WriteRequest,
} from '@scribe/protocol';
import {
  PrimaryLock,
  Store,
  createQuerier,
  type Querier,
  type RequestRecord,
  type StoredChange,
  type WriteRegistry,
} from '@scribe/store';
import { WriteCoordinator } from '@scribe/coordinator';
import { RpcClient, RpcServer, EventSubscriber } from '@scribe/transport';
import { WriteForwarder, type RecordedOutcome } from '@scribe/proxy';
import { ChangeFeed, type ChangesOptions } from './change-feed.js';
import { startMaintenance } from './maintenance.js';
import { knownVersion, pluginInfos, resolvePlugins, schemaProblem, type ResolvedPlugins } from './plugins.js';
import { HttpEndpoint } from './http-endpoint.js';
import { NodeMetrics } from './node-metrics.js';
import { NodeStatus } from './node-status.js';
import { readDiscovery, writeDiscovery, type DiscoveryRecord } from './discovery.js';
import type { NodeEvent, NodeListener } from './node-events.js';
import { checkEndpointPolicy } from './endpoint-policy.js';
import { resolveNodeTimings, type NodeTimings, type OpenNodeOptions } from './node-options.js';
import { removeStaleSockets, resolveRuntimePaths, type RuntimePaths } from './runtime-paths.js';
import { ensureSafeDir } from './safe-dir.js';
import { assertSafeIpcEndpoint, primaryEndpoints, removeTempSocketDir } from './socket-dir.js';
import { enforceSidecarModes, prepareDatabaseFile, resolveFileModes, type FileModes } from './file-modes.js';
import { ipcPath } from '@scribe/transport';
import { dirname } from 'node:path';

/** What a primary holds beyond what every node holds. */
interface PrimaryParts {
  readonly epoch: number;
  readonly store: Store;
  readonly coordinator: WriteCoordinator;
  readonly server: RpcServer;
  readonly endpoints: { router: string; pub: string };
  readonly heartbeat: NodeJS.Timeout;
  /** Stops the maintenance tasks. */
  readonly stopMaintenance: () => void;
  /** Secondaries by instance id, as they last reported themselves. */
  readonly members: Map<string, MemberInfo>;
}

/** What a secondary holds beyond what every node holds. */
interface SecondaryParts {
  primary: DiscoveryRecord;
  client: RpcClient;
  subscriber: EventSubscriber;
  lastHeartbeatAt: number | undefined;
  /** The timer of this secondary's `db.member` reports. */
  report: NodeJS.Timeout | undefined;
}

/**
 * One cluster member. Open it with {@link openNode}; the first process to take the
 * primary lock becomes primary, the others secondaries, and a secondary takes over
 * when the primary dies. The {@link ScribeNode.querier} works the same in every role.
 */
export class ScribeNode {
  readonly instanceId: string;
  readonly paths: RuntimePaths;
  readonly #options: OpenNodeOptions;
  readonly #timings: NodeTimings;
  readonly #modes: FileModes;
  readonly #registry: WriteRegistry;
  readonly #root: Logger;
  #log: Logger;
  readonly #lock: PrimaryLock;
  readonly #forwarder: WriteForwarder;
  readonly #listeners = new Set<NodeListener>();
  readonly #startedAt = Date.now();
  #readStore: Store | undefined;
  #querier: Querier | undefined;
  #primary: PrimaryParts | undefined;
  #secondary: SecondaryParts | undefined;
  #role: Role | undefined;
  #epoch = 0;
  #ticker: NodeJS.Timeout | undefined;
  #tickRunning = false;
  #closing: Promise<void> | undefined;
  readonly #feed = new ChangeFeed(() => this.#readStore);
  /** Set once someone reads the change feed: secondaries then subscribe to `db.` events. */
  #wantChanges = false;
  /** The plugins, combined with the registry, migrations and maintenance options. */
  readonly #plugins: ResolvedPlugins;
  readonly #metrics: NodeMetrics;
  #http: HttpEndpoint | undefined;
  #failovers = 0;
  #lastCommitAt = Date.now();
  #schemaCheckedAt = 0;
  #schemaProblem: WriteError | undefined;
  readonly #status: NodeStatus;

  /** @internal use {@link openNode}. */
  constructor(options: OpenNodeOptions) {
    this.#timings = resolveNodeTimings(options);
    this.#modes = resolveFileModes(options.fileMode);
    this.#options = options;
    this.instanceId = options.instanceId ?? `${process.pid}-${randomBytes(3).toString('hex')}`;
    this.paths = resolveRuntimePaths(options.dbPath, options.runtimeDir);
    this.#plugins = resolvePlugins(options);
    this.#registry = this.#plugins.registry;
    this.#root = (options.logger ?? pino({ level: 'silent' })).child({ node: this.instanceId });
    this.#log = this.#root.child({ component: 'node' });
    this.#lock = new PrimaryLock({ path: this.paths.lockPath });
    this.#metrics = new NodeMetrics(
      {
        role: () => this.#role,
        epoch: () => this.#epoch,
        coordinator: () => {
          const c = this.#primary?.coordinator;
          return c === undefined ? undefined : { queueDepth: c.depth, outcomes: c.outcomes() };
        },
        failovers: () => this.#failovers,
        walPath: `${this.paths.dbPath}-wal`,
      },
      { node: this.instanceId },
    );
    this.#status = new NodeStatus({
      registry: this.#metrics.registry,
      heartbeatIntervalMs: this.#timings.heartbeatIntervalMs,
      role: () => this.#role,
      epoch: () => this.#epoch,
      instanceId: () => this.instanceId,
      info: () => this.info(),
      http: () => this.#httpUrl(),
      queueDepth: () => this.#primary?.coordinator.depth ?? 0,
      reports: () => this.#primary?.members.values() ?? [],
      changeLog: () => this.#readStore,
      knownPrimary: () => {
        const p = this.#secondary?.primary;
        if (p !== undefined) return { instance_id: p.instance_id, pid: p.pid, epoch: p.epoch };
        return this.#primary === undefined ? undefined : { instance_id: this.instanceId, pid: process.pid, epoch: this.#primary.epoch };
      },
      askPrimary: (timeoutMs) => {
        const s = this.#secondary;
        if (s === undefined) return Promise.reject(new WriteError('UNREACHABLE', 'no primary is known'));
        return s.client.call<ClusterStatus>(RPC_METHODS.status, null, { timeoutMs });
      },
    });
    this.#forwarder = new WriteForwarder({
      instanceId: this.instanceId,
      isLong: (method) => this.#registry.get(method)?.long === true,
      findOutcome: (id) => this.#findOutcome(id),
      ...(options.writeTimeoutMs === undefined ? {} : { defaultTimeoutMs: options.writeTimeoutMs }),
      ...(options.longWriteTimeoutMs === undefined ? {} : { longTimeoutMs: options.longWriteTimeoutMs }),
      logger: this.#root,
    });
  }

  /** `primary` or `secondary`. */
  get role(): Role {
    if (this.#role === undefined) throw new Error('node: not started');
    return this.#role;
  }

  /** The primary epoch this node knows: its own when primary, its primary's otherwise. */
  get epoch(): number {
    return this.#epoch;
  }

  /** The typed querier: local reads, writes through the primary's coordinator. */
  get querier(): Querier {
    if (this.#querier === undefined) throw new Error('node: not started');
    return this.#querier;
  }

  /** The endpoints of the primary this node uses (its own when primary). */
  get primaryEndpoints(): { router: string; pub: string } | undefined {
    if (this.#primary !== undefined) return this.#primary.endpoints;
    if (this.#secondary !== undefined) return { router: this.#secondary.primary.router, pub: this.#secondary.primary.pub };
    return undefined;
  }

  /** Registers a listener of role and primary changes; returns the function that removes it. */
  on(listener: NodeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Role, identity, schema version and queue depth, as `db.ping` reports them. */
  info(): NodeInfo {
    const metrics = this.#primary?.coordinator.metrics();
    return {
      role: this.role,
      instance_id: this.instanceId,
      pid: process.pid,
      epoch: this.#epoch,
      schema_version: (this.#primary?.store ?? this.#readStore)?.schemaVersion() ?? 0,
      plugins: this.#pluginInfo(),
      queue_depth: metrics?.queueDepth ?? 0,
      uptime_s: Math.round((Date.now() - this.#startedAt) / 1000),
      writes: {
        accepted: metrics?.accepted ?? 0,
        completed: metrics?.completed ?? 0,
        failed: metrics?.failed ?? 0,
        rejected: metrics?.rejected ?? 0,
      },
    };
  }

  /**
   * Committed changes in seq order, each exactly once, whatever this node's role and
   * across reconnects and failovers: an async iterable over the change log in the
   * database file, woken by the primary's PUB events. Keep the last `seq` you
   * applied and pass it as `since` to resume. Throws {@link ResyncNeededError} when
   * the changes after `since` were pruned.
   */
  changes(options: ChangesOptions = {}): AsyncGenerator<StoredChange, void, undefined> {
    if (!this.#wantChanges) {
      this.#wantChanges = true;
      const s = this.#secondary;
      if (s !== undefined) void this.#resubscribe(s);
    }
    return this.#feed.changes(options);
  }

  /**
   * The primary's record of a request id, read from the database file: whether the
   * write committed (`ok`, `result`) or failed for good, and which write it was.
   * Undefined while nothing is recorded, which after a TIMEOUT means "not yet", not
   * "never": retry with the same request id to settle it. Records are kept for the
   * most recent writes only (see the store's retention).
   */
  findRequest(requestId: string): RequestRecord | undefined {
    return this.#readStore?.findRequest(requestId);
  }

  /** When this secondary last heard its primary's heartbeat (ms since epoch), if ever. */
  get lastHeartbeatAt(): number | undefined {
    return this.#secondary?.lastHeartbeatAt;
  }

  /** The address of the HTTP listener (`/healthz`, `/metrics`), when one was asked for. */
  get httpAddress(): { host: string; port: number } | undefined {
    return this.#http?.address;
  }

  /** The node's Prometheus registry (what `/metrics` serves). */
  get metricsRegistry(): NodeMetrics['registry'] {
    return this.#metrics.registry;
  }

  /**
   * Whether this node can do its job now. Primary: the database takes the write
   * lock and the queue is moving (no writes waiting without a commit for 5 s).
   * Secondary: the primary answers a ping within a second.
   */
  async health(): Promise<{ ok: boolean; role: Role | undefined; reason: string }> {
    const role = this.#role;
    const p = this.#primary;
    if (this.#closing !== undefined) return { ok: false, role, reason: 'the node is closing' };
    if (p !== undefined) {
      if (p.coordinator.state !== 'open') return { ok: false, role, reason: 'the primary is shutting down' };
      try {
        p.store.probeWritable();
      } catch (e) {
        return { ok: false, role, reason: `the database is not writable (${e instanceof WriteError ? e.code : 'INTERNAL'})` };
      }
      const waiting = p.coordinator.depth;
      const since = Date.now() - this.#lastCommitAt;
      if (waiting > 0 && since > 5_000) {
        return { ok: false, role, reason: `the write queue is stuck: ${waiting} writes waiting, last commit ${since} ms ago` };
      }
      return { ok: true, role, reason: `primary of epoch ${p.epoch}, ${waiting} writes queued` };
    }
    const s = this.#secondary;
    if (s === undefined) return { ok: false, role, reason: 'no role yet' };
    try {
      await s.client.call(RPC_METHODS.ping, null, { timeoutMs: 1_000 });
      return { ok: true, role, reason: `secondary of ${s.primary.instance_id} (epoch ${s.primary.epoch}), which answers` };
    } catch (e) {
      return {
        ok: false,
        role,
        reason: `the primary ${s.primary.instance_id} (pid ${s.primary.pid}) does not answer (${e instanceof WriteError ? e.code : 'INTERNAL'})`,
      };
    }
  }

  /** @internal Takes a role; resolves once this node can serve. */
  async start(): Promise<void> {
    for (const endpoint of checkEndpointPolicy(this.#options.endpoints, this.#options)) {
      this.#log.warn({ endpoint }, 'insecure: every local user can connect to this endpoint without CURVE keys (use the default ipc sockets or curve)');
    }
    ensureSafeDir(this.paths.runtimeDir, this.#modes);
    this.#status.history.start();
    if (this.#options.http !== undefined) {
      this.#http = new HttpEndpoint(
        this.#options.http,
        {
          health: () => this.health(),
          metrics: async () => ({ contentType: this.#metrics.registry.contentType, body: await this.#metrics.registry.metrics() }),
          status: () => this.#status.report(),
        },
        this.#log,
      );
      const at = await this.#http.listen();
      this.#log.info({ http: `http://${at.host}:${at.port}` }, 'health and metrics listening');
    }
    const deadline = Date.now() + this.#timings.startTimeoutMs;
    for (;;) {
      const epoch = this.#options.promote === false ? undefined : this.#lock.tryAcquire();
      if (epoch !== undefined) {
        await this.#becomePrimary(epoch);
        break;
      }
      const primary = readDiscovery(this.paths.discoveryPath);
      if (primary !== undefined) {
        await this.#becomeSecondary(primary);
        break;
      }
      if (Date.now() >= deadline) {
        throw new WriteError(
          'UNREACHABLE',
          `node: no primary appeared for ${this.paths.dbPath} within ${this.#timings.startTimeoutMs} ms`,
        );
      }
      await delay(this.#timings.pollIntervalMs);
    }
    this.#ticker = setInterval(() => void this.#tick(), this.#timings.pollIntervalMs);
    this.#ticker.unref();
  }

  /**
   * Leaves the cluster. A primary stops taking writes (SHUTTING_DOWN, which
   * secondaries retry), commits what is queued, publishes a shutdown notice and
   * releases the lock so a secondary takes over at once. Safe to call twice.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#status.history.stop();
    this.#feed.close();
    await this.#http?.close();
    await this.#stopPrimary('close');
    await this.#stopSecondary();
    this.#forwarder.close(new WriteError('SHUTTING_DOWN', 'this node is closed', { retryable: false }));
    this.#lock.release();
    this.#readStore?.close();
    this.#log.info('node closed');
  }

  async #becomePrimary(epoch: number): Promise<void> {
    const previous = this.#role;
    const log = this.#root.child({ role: 'primary', epoch });
    let store: Store | undefined;
    let server: RpcServer | undefined;
    let coordinator: WriteCoordinator | undefined;
    try {
      prepareDatabaseFile(this.paths.dbPath, this.#modes);
      store = Store.open({
        path: this.paths.dbPath,
        registry: this.#registry,
        ...(this.#options.synchronous === undefined ? {} : { synchronous: this.#options.synchronous }),
        plugins: this.#plugins.plugins,
        ...(this.#options.migrations === undefined ? {} : { migrations: this.#options.migrations }),
        ...(this.#options.autoMigrate === undefined ? {} : { autoMigrate: this.#options.autoMigrate }),
        logger: log,
      });
      enforceSidecarModes(this.paths.dbPath, this.#modes);
      const writeStore = store;
      coordinator = new WriteCoordinator({
        store: {
          validate: (method, params) => writeStore.registry.validate(method, params),
          executeBatch: (items) => writeStore.executeBatch(items, { validated: true }),
        },
        logger: log,
        ...(this.#options.maxBatchSize === undefined ? {} : { maxBatchSize: this.#options.maxBatchSize }),
        ...(this.#options.maxQueueDepth === undefined ? {} : { maxQueueDepth: this.#options.maxQueueDepth }),
        ...(this.#options.provenanceLevel === undefined ? {} : { provenanceLevel: this.#options.provenanceLevel }),
      });
      const asked = primaryEndpoints(this.paths, this.#options.endpoints, epoch, this.#modes);
      server = new RpcServer({
        routerEndpoint: asked.router,
        pubEndpoint: asked.pub,
        ...(this.#options.curve === undefined
          ? {}
          : {
              curve: {
                publicKey: this.#options.curve.publicKey,
                secretKey: this.#options.curve.secretKey,
                allowedClientKeys: [this.#options.curve.publicKey, ...(this.#options.curve.allowedClientKeys ?? [])],
              },
            }),
        logger: log,
        ...(this.#options.maxMessageBytes === undefined ? {} : { maxMessageBytes: this.#options.maxMessageBytes }),
      });
      const c = coordinator;
      const registry = writeStore.registry;
      server.addMethod(RPC_METHODS.write, (params) => {
        let request: WriteRequest;
        try {
          request = parseWriteRequest(params);
        } catch (e) {
          this.#metrics.countRefused(e, (m) => registry.has(m));
          throw e;
        }
        return c.submit(request);
      });
      server.addMethod(RPC_METHODS.ping, () => this.info());
      server.addMethod(RPC_METHODS.status, () => this.#status.snapshot());
      const members = new Map<string, MemberInfo>();
      server.addMethod(RPC_METHODS.member, (params) => {
        const r = params as Partial<MemberReport> | undefined;
        if (r === undefined || typeof r.instance_id !== 'string' || typeof r.pid !== 'number') {
          throw new WriteError('INVALID_PARAMS', 'Expected params to be a member report {instance_id, pid, role, epoch, uptime_s, last_heartbeat_at}', { field: 'params' });
        }
        members.set(r.instance_id, {
          instance_id: r.instance_id,
          pid: r.pid,
          role: r.role === 'primary' ? 'primary' : 'secondary',
          epoch: typeof r.epoch === 'number' ? r.epoch : 0,
          uptime_s: typeof r.uptime_s === 'number' ? r.uptime_s : 0,
          last_heartbeat_at: typeof r.last_heartbeat_at === 'string' ? r.last_heartbeat_at : null,
          ...(Array.isArray(r.plugins) ? { plugins: r.plugins } : {}),
          ...(typeof r.schema_version === 'number' ? { schema_version: r.schema_version } : {}),
          ...(typeof r.http === 'string' ? { http: r.http } : {}),
          queue_depth: 0,
          seen_at: new Date().toISOString(),
        });
        return null;
      });
      server.addMethod(RPC_METHODS.members, () => {
        // Silent members stay known for a minute (the status page marks them), but
        // db.members lists only those heard within three heartbeats.
        const forget = Date.now() - Math.max(60_000, 3 * this.#timings.heartbeatIntervalMs);
        for (const [id, m] of members) if (Date.parse(m.seen_at) < forget) members.delete(id);
        const stale = Date.now() - 3 * this.#timings.heartbeatIntervalMs;
        const me = this.info();
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
        const heard = [...members.values()].filter((m) => Date.parse(m.seen_at) >= stale);
        return [self, ...heard.sort((a, b) => a.instance_id.localeCompare(b.instance_id))];
      });
      await server.bind();
      // The bound addresses: a tcp port of `*` becomes the port the OS gave.
      const endpoints = { router: server.routerEndpoint, pub: server.pubEndpoint };
      const s = server;
      coordinator.on((event) => {
        if (event.type !== 'batch:committed') return;
        this.#lastCommitAt = Date.now();
        this.#metrics.observeBatch(event.size, event.durationMs);
        this.#feed.notify();
        for (const change of event.changes) {
          s.publish(changeTopic(change.entity, change.op), change).catch((e: unknown) => {
            log.warn({ err: e }, 'publish change event failed');
          });
        }
      });
      this.#readStore ??= Store.open({ path: this.paths.dbPath, readonly: true, registry: this.#registry, logger: log });
      this.#querier ??= createQuerier({ store: this.#readStore, write: this.#forwarder.write });
      const heartbeat = setInterval(() => {
        s.publish(HEARTBEAT_TOPIC, {
          instance_id: this.instanceId,
          epoch,
          pid: process.pid,
          queue_depth: c.depth,
          at: new Date().toISOString(),
        }).catch(() => undefined);
      }, this.#timings.heartbeatIntervalMs);
      heartbeat.unref();
      const stopMaintenance = startMaintenance(this.#plugins.maintenance, () => this.#querier, log);
      this.#primary = { epoch, store, coordinator, server, endpoints, heartbeat, stopMaintenance, members };
      const before = readDiscovery(this.paths.discoveryPath);
      if (before !== undefined && before.router !== endpoints.router) removeTempSocketDir(before.router);
      writeDiscovery(this.paths.discoveryPath, {
        instance_id: this.instanceId,
        pid: process.pid,
        epoch,
        router: endpoints.router,
        pub: endpoints.pub,
        schema_version: store.schemaVersion(),
        started_at: new Date().toISOString(),
        ...(this.#options.curve === undefined ? {} : { curve_public_key: this.#options.curve.publicKey }),
      });
    } catch (e) {
      this.#primary = undefined;
      await server?.close().catch(() => undefined);
      store?.close();
      this.#lock.release();
      throw new Error('promote: become primary', { cause: e });
    }
    const oldSecondary = this.#secondary;
    this.#secondary = undefined;
    this.#forwarder.setTarget((request: WriteRequest) => coordinator.submit(request));
    this.#epoch = epoch;
    this.#role = 'primary';
    this.#log = this.#root.child({ role: 'primary', component: 'node' });
    const socketPath = ipcPath(this.#primary.endpoints.router);
    if (socketPath !== undefined) removeStaleSockets(dirname(socketPath), epoch, this.#log);
    this.#log.info(
      {
        db: this.paths.dbPath,
        epoch,
        router: this.#primary.endpoints.router,
        pub: this.#primary.endpoints.pub,
        synchronous: this.#options.synchronous ?? 'FULL',
        previous: previous ?? null,
      },
      'role: primary',
    );
    // Closing the old client fails its calls in flight as UNREACHABLE; the forwarder
    // retries them at once against the local coordinator with the same request ids.
    if (oldSecondary !== undefined) {
      clearInterval(oldSecondary.report);
      await oldSecondary.client.close().catch(() => undefined);
      await oldSecondary.subscriber.close().catch(() => undefined);
    }
    if (previous === 'secondary') this.#failovers++;
    if (oldSecondary !== undefined) {
      const from = this.#status.previousPrimary(oldSecondary.primary, oldSecondary.lastHeartbeatAt);
      this.#status.failovers.promoted({ instance_id: this.instanceId, pid: process.pid, epoch }, from, Date.now());
    }
    this.#emit({ type: 'role:changed', role: 'primary', previous, epoch });
  }

  async #becomeSecondary(primary: DiscoveryRecord): Promise<void> {
    this.#readStore ??= Store.open({
      path: this.paths.dbPath,
      readonly: true,
      registry: this.#registry,
      logger: this.#root.child({ role: 'secondary' }),
    });
    this.#querier ??= createQuerier({ store: this.#readStore, write: this.#forwarder.write });
    this.#secondary = this.#connect(primary);
    this.#epoch = primary.epoch;
    this.#role = 'secondary';
    this.#log = this.#root.child({ role: 'secondary', component: 'node' });
    this.#log.info({ db: this.paths.dbPath, primary: primary.instance_id, epoch: primary.epoch, router: primary.router }, 'role: secondary');
    this.#emit({ type: 'role:changed', role: 'secondary', previous: undefined, epoch: primary.epoch });
  }

  #connect(primary: DiscoveryRecord): SecondaryParts {
    assertSafeIpcEndpoint(primary.router, this.#modes);
    assertSafeIpcEndpoint(primary.pub, this.#modes);
    const log = this.#root.child({ role: 'secondary' });
    const client = new RpcClient({ endpoint: primary.router, logger: log, ...this.#curveClient() });
    client.connect();
    const parts: SecondaryParts = { primary, client, subscriber: this.#subscribe(primary), lastHeartbeatAt: undefined, report: undefined };
    const report = (): void => {
      if (this.#secondary !== parts) return;
      const me: MemberReport = {
        instance_id: this.instanceId,
        pid: process.pid,
        role: 'secondary',
        epoch: this.#epoch,
        uptime_s: Math.round((Date.now() - this.#startedAt) / 1000),
        last_heartbeat_at: parts.lastHeartbeatAt === undefined ? null : new Date(parts.lastHeartbeatAt).toISOString(),
        plugins: this.#pluginInfo(),
        schema_version: this.#readStore?.schemaVersion() ?? 0,
        http: this.#httpUrl(),
      };
      client.call(RPC_METHODS.member, me, { timeoutMs: this.#timings.heartbeatIntervalMs }).catch(() => undefined);
    };
    parts.report = setInterval(report, this.#timings.heartbeatIntervalMs);
    parts.report.unref();
    setImmediate(report);
    this.#forwarder.setTarget((request, timeoutMs) => {
      const mismatch = this.#schemaMismatch();
      if (mismatch !== undefined) return Promise.reject(mismatch.withMethod(request.method));
      return client.call(RPC_METHODS.write, request, { timeoutMs });
    });
    return parts;
  }

  #httpUrl(): string | null {
    const a = this.#http?.address;
    if (a === undefined) return null;
    return `http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
  }

  #curveClient(): { curve?: { serverKey: string; publicKey: string; secretKey: string } } {
    const c = this.#options.curve;
    return c === undefined ? {} : { curve: { serverKey: c.publicKey, publicKey: c.publicKey, secretKey: c.secretKey } };
  }

  /** A SUB to the primary's PUB: cluster notices, and change doorbells once someone reads changes. */
  #subscribe(primary: DiscoveryRecord): EventSubscriber {
    const topics = this.#wantChanges ? ['sys.', 'db.'] : ['sys.'];
    const subscriber = new EventSubscriber({ endpoint: primary.pub, topics, logger: this.#root.child({ role: 'secondary' }), ...this.#curveClient() });
    subscriber.onEvent((topic) => {
      if (topic.startsWith('db.')) this.#feed.notify();
      else if (topic === HEARTBEAT_TOPIC) {
        if (this.#secondary !== undefined) this.#secondary.lastHeartbeatAt = Date.now();
      } else if (topic === SHUTDOWN_TOPIC) void this.#tick();
    });
    subscriber.connect();
    return subscriber;
  }

  async #resubscribe(parts: SecondaryParts): Promise<void> {
    const old = parts.subscriber;
    parts.subscriber = this.#subscribe(parts.primary);
    await old.close().catch(() => undefined);
  }

  /** The secondary's loop: take the lock when the primary is gone, follow a new primary. */
  async #tick(): Promise<void> {
    if (this.#tickRunning || this.#closing !== undefined || this.#role !== 'secondary') return;
    this.#tickRunning = true;
    try {
      if (this.#options.promote !== false) {
        const epoch = this.#lock.tryAcquire();
        if (epoch !== undefined) {
          try {
            await this.#becomePrimary(epoch);
          } catch (e) {
            this.#log.error({ err: e }, 'promotion failed; staying secondary');
            this.#emit({ type: 'promotion:failed', error: e as Error });
          }
          return;
        }
      }
      const current = this.#secondary;
      const seen = readDiscovery(this.paths.discoveryPath);
      if (current !== undefined && seen !== undefined && (seen.epoch !== current.primary.epoch || seen.instance_id !== current.primary.instance_id)) {
        this.#secondary = this.#connect(seen);
        this.#epoch = seen.epoch;
        this.#log.info({ primary: seen.instance_id, epoch: seen.epoch, router: seen.router }, 'following new primary');
        // Calls in flight to the old primary fail as UNREACHABLE and are retried
        // against the new one with the same request id.
        clearInterval(current.report);
        await current.client.close().catch(() => undefined);
        await current.subscriber.close().catch(() => undefined);
        this.#failovers++;
        this.#status.failovers.followed(
          { instance_id: seen.instance_id, pid: seen.pid, epoch: seen.epoch },
          this.#status.previousPrimary(current.primary, current.lastHeartbeatAt),
          Date.now(),
          Date.parse(seen.started_at),
        );
        this.#emit({ type: 'primary:changed', instance_id: seen.instance_id, epoch: seen.epoch, router: seen.router });
      }
    } catch (e) {
      this.#log.error({ err: e }, 'secondary tick failed');
    } finally {
      this.#tickRunning = false;
    }
  }

  async #stopPrimary(reason: string): Promise<void> {
    const p = this.#primary;
    if (p === undefined) return;
    clearInterval(p.heartbeat);
    p.stopMaintenance();
    await p.coordinator.close({ drain: true });
    await p.server
      .publish(SHUTDOWN_TOPIC, { instance_id: this.instanceId, epoch: p.epoch, reason, at: new Date().toISOString() })
      .catch(() => undefined);
    await p.server.close();
    removeTempSocketDir(p.endpoints.router);
    p.store.close();
    const seen = readDiscovery(this.paths.discoveryPath);
    if (seen?.instance_id === this.instanceId) rmSync(this.paths.discoveryPath, { force: true });
    this.#primary = undefined;
    this.#lock.release();
    this.#log.info({ epoch: p.epoch, metrics: p.coordinator.metrics() }, 'primary stopped; lock released');
  }

  async #stopSecondary(): Promise<void> {
    const s = this.#secondary;
    if (s === undefined) return;
    this.#secondary = undefined;
    clearInterval(s.report);
    await s.client.close().catch(() => undefined);
    await s.subscriber.close().catch(() => undefined);
  }

  /**
   * A secondary forwards writes only while the file has every migration this process
   * knows (scribe's, its plugins', its application's) and none newer: a write shaped
   * for another schema could fail in confusing ways or write what the other code
   * cannot read. See {@link schemaProblem}. Checked at most once a second.
   */
  #schemaMismatch(): WriteError | undefined {
    const now = Date.now();
    if (now - this.#schemaCheckedAt < 1_000) return this.#schemaProblem;
    this.#schemaCheckedAt = now;
    const store = this.#readStore;
    this.#schemaProblem = store === undefined ? undefined : schemaProblem(store.appliedMigrations(), this.#plugins.known);
    return this.#schemaProblem;
  }

  /** This node's plugins with their schema versions: the file's on a primary, the known ones on a secondary. */
  #pluginInfo(): PluginInfo[] {
    const store = this.#primary?.store;
    const versions = store?.schemaVersions();
    return pluginInfos(this.#plugins.plugins, (name) => {
      const plugin = this.#plugins.plugins.find((p) => p.name === name)!;
      return versions === undefined ? knownVersion(plugin) : (versions.get(name) ?? 0);
    });
  }

  #findOutcome(requestId: string): RecordedOutcome | undefined {
    if (this.#closing !== undefined) return undefined;
    const record = this.#readStore?.findRequest(requestId);
    if (record === undefined) return undefined;
    if (record.ok) return { ok: true, result: record.result, method: record.method };
    const r = (record.result ?? {}) as { code?: unknown; message?: unknown; field?: unknown };
    return {
      ok: false,
      method: record.method,
      error: WriteError.fromJsonRpc(
        { code: 0, message: typeof r.message === 'string' ? r.message : 'the write failed', data: { ...r, method: record.method } },
        record.method,
      ),
    };
  }

  #emit(event: NodeEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (e) {
        this.#log.error({ err: e, event: event.type }, 'node listener threw');
      }
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Joins (or founds) the cluster of the database at `options.dbPath` and resolves
 * once this process can serve: as primary if it took the lock, otherwise as a
 * secondary of the primary named in the discovery file.
 */
export async function openNode(options: OpenNodeOptions): Promise<ScribeNode> {
  const node = new ScribeNode(options);
  try {
    await node.start();
  } catch (e) {
    await node.close().catch(() => undefined);
    throw e;
  }
  return node;
}
