import { randomBytes } from 'node:crypto';
import { pino, type Logger } from 'pino';
import { RPC_METHODS, WriteError, type ClusterStatus, type NodeInfo, type PluginInfo, type Role } from '@scribe/protocol';
import {
  PrimaryLock,
  Store,
  createQuerier,
  type Querier,
  type RequestRecord,
  type StoredChange,
  type WriteRegistry,
} from '@scribe/store';
import { WriteForwarder, type RecordedOutcome } from '@scribe/proxy';
import { ChangeFeed, type ChangesOptions } from './change-feed.js';
import { HttpEndpoint } from './http-endpoint.js';
import { Leadership } from './leadership.js';
import type { NodeContext } from './node-context.js';
import type { NodeEvent, NodeListener } from './node-events.js';
import type { PrimaryLivenessView } from './primary-liveness.js';
import { nodeHealth, type NodeHealth } from './node-health.js';
import { knownVersion, pluginInfos, resolvePlugins, schemaProblem, type ResolvedPlugins } from './plugins.js';
import { NodeMetrics } from './node-metrics.js';
import { NodeStatus } from './node-status.js';
import { changeTail } from './status-change-tail.js';
import { membersFromReports } from './status-snapshot.js';
import { resolveNodeTimings, type NodeTimings, type OpenNodeOptions } from './node-options.js';
import { PgScribeNode } from './pg-node.js';
import { isPgNodeOptions, type OpenPgNodeOptions } from './pg-node-options.js';
import { checkEndpointPolicy } from './endpoint-policy.js';
import { resolveFileModes, type FileModes } from './file-modes.js';
import { resolveRuntimePaths, type RuntimePaths } from './runtime-paths.js';
import { ensureSafeDir } from './safe-dir.js';
import { coordinatorCounts } from './coordinator-counts.js';

/**
 * One cluster member. Open it with {@link openNode}; the first process to take the
 * primary lock becomes primary, the others secondaries, and a secondary takes over
 * when the primary dies. The {@link ScribeNode.querier} works the same in every role.
 * Roles are the business of one loop ({@link Leadership}); this class wires the
 * parts together and answers for the node.
 */
export class ScribeNode {
  readonly instanceId: string;
  readonly paths: RuntimePaths;
  readonly #options: OpenNodeOptions;
  readonly #timings: NodeTimings;
  readonly #modes: FileModes;
  readonly #registry: WriteRegistry;
  readonly #root: Logger;
  readonly #forwarder: WriteForwarder;
  readonly #listeners = new Set<NodeListener>();
  readonly #startedAt = Date.now();
  readonly #leadership: Leadership;
  #readStore: Store | undefined;
  #querier: Querier | undefined;
  #closing: Promise<void> | undefined;
  readonly #feed = new ChangeFeed(() => this.#readStore);
  /** Set once someone reads the change feed: secondaries then subscribe to `db.` events. */
  #wantChanges = false;
  /** The plugins, combined with the registry, migrations and maintenance options. */
  readonly #plugins: ResolvedPlugins;
  readonly #metrics: NodeMetrics;
  #http: HttpEndpoint | undefined;
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
    this.#metrics = new NodeMetrics(
      {
        role: () => this.#leadership.role,
        epoch: () => this.#leadership.epoch,
        coordinator: () => {
          const c = this.#primary()?.coordinator;
          return c === undefined ? undefined : { queueDepth: c.depth, outcomes: c.outcomes() };
        },
        failovers: () => this.#leadership.failovers,
        walPath: `${this.paths.dbPath}-wal`,
      },
      { node: this.instanceId },
    );
    this.#status = new NodeStatus({
      registry: this.#metrics.registry,
      engine: 'sqlite',
      role: () => this.#leadership.role,
      epoch: () => this.#leadership.epoch,
      instanceId: () => this.instanceId,
      info: () => this.info(),
      http: () => this.#httpUrl(),
      queueDepth: () => this.#primary()?.coordinator.depth ?? 0,
      others: (now) => membersFromReports(this.#primary()?.membership.reports() ?? [], this.#timings.heartbeatIntervalMs, now),
      changeTail: (limit) => changeTail(this.#readStore, limit),
      knownPrimary: () => {
        const d = this.#leadership.duty;
        if (d?.role === 'secondary') return { instance_id: d.primary.instance_id, pid: d.primary.pid, epoch: d.primary.epoch };
        return d === undefined ? undefined : { instance_id: this.instanceId, pid: process.pid, epoch: d.epoch };
      },
      askPrimary: (timeoutMs) => {
        const d = this.#leadership.duty;
        if (d?.role !== 'secondary') return Promise.reject(new WriteError('UNREACHABLE', 'no primary is known'));
        return d.client.call<ClusterStatus>(RPC_METHODS.status, null, { timeoutMs });
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
    const ctx: NodeContext = {
      instanceId: this.instanceId,
      paths: this.paths,
      options,
      timings: this.#timings,
      modes: this.#modes,
      registry: this.#registry,
      plugins: this.#plugins,
      root: this.#root,
      lock: new PrimaryLock({ path: this.paths.lockPath }),
      forwarder: this.#forwarder,
      feed: this.#feed,
      metrics: this.#metrics,
      startedAt: this.#startedAt,
      wantsChanges: () => this.#wantChanges,
      info: () => this.info(),
      pluginInfo: () => this.#pluginInfo(),
      status: this.#status,
      httpUrl: () => this.#httpUrl(),
      readStore: () => this.#openReadStore(),
      querier: () => this.#querier,
      emit: (event) => this.#emit(event),
    };
    this.#leadership = new Leadership(ctx, { schemaMismatch: () => this.#schemaMismatch() });
  }

  /** `primary` or `secondary`. */
  get role(): Role {
    const role = this.#leadership.role;
    if (role === undefined) throw new Error('node: not started');
    return role;
  }

  /** The primary epoch this node knows: its own when primary, its primary's otherwise. */
  get epoch(): number {
    return this.#leadership.epoch;
  }

  /** The typed querier: local reads, writes through the primary's coordinator. */
  get querier(): Querier {
    if (this.#querier === undefined) throw new Error('node: not started');
    return this.#querier;
  }

  /** The endpoints of the primary this node uses (its own when primary). */
  get primaryEndpoints(): { router: string; pub: string } | undefined {
    const d = this.#leadership.duty;
    if (d === undefined) return undefined;
    if (d.role === 'primary') return { router: d.endpoints.router, pub: d.endpoints.pub };
    return { router: d.primary.router, pub: d.primary.pub };
  }

  /** Registers a listener of role and primary changes; returns the function that removes it. */
  on(listener: NodeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Role, identity, schema version and queue depth, as `db.ping` reports them. */
  info(): NodeInfo {
    const p = this.#primary();
    const metrics = p?.coordinator.metrics();
    return {
      role: this.role,
      instance_id: this.instanceId,
      pid: process.pid,
      epoch: this.#leadership.epoch,
      schema_version: (p?.store ?? this.#readStore)?.schemaVersion() ?? 0,
      plugins: this.#pluginInfo(),
      uptime_s: Math.round((Date.now() - this.#startedAt) / 1000),
      ...coordinatorCounts(metrics),
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
      const d = this.#leadership.duty;
      if (d?.role === 'secondary') void d.resubscribe();
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
  async findRequest(requestId: string): Promise<RequestRecord | undefined> {
    // A promise, as on the PostgreSQL node, whose record is on the server.
    return this.#readStore?.findRequest(requestId);
  }

  /**
   * On a secondary, its primary's liveness from the heartbeat alone (unresponsive
   * after 3 silent intervals, `DEFAULT_MISSED_HEARTBEATS`); undefined on a primary.
   */
  get primaryLiveness(): PrimaryLivenessView | undefined {
    const d = this.#leadership.duty;
    return d?.role === 'secondary' ? d.liveness.view() : undefined;
  }

  /** When this secondary last heard its primary's heartbeat (ms since epoch), if ever. */
  get lastHeartbeatAt(): number | undefined {
    const d = this.#leadership.duty;
    return d?.role === 'secondary' ? d.lastHeartbeatAt : undefined;
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
  health(): Promise<NodeHealth> {
    return nodeHealth({ closing: this.#closing !== undefined, duty: this.#leadership.duty, problem: this.#leadership.problem });
  }

  /** @internal Takes a role; resolves once this node can serve. */
  async start(): Promise<void> {
    for (const endpoint of checkEndpointPolicy(this.#options.endpoints, this.#options)) {
      this.#root
        .child({ component: 'node' })
        .warn({ endpoint }, 'insecure: every local user can connect to this endpoint without CURVE keys (use the default ipc sockets or curve)');
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
        this.#root.child({ component: 'node' }),
      );
      const at = await this.#http.listen();
      this.#root.child({ component: 'node' }).info({ http: `http://${at.host}:${at.port}` }, 'health and metrics listening');
    }
    await this.#leadership.start();
  }

  /**
   * Leaves the cluster. A primary stops taking writes (SHUTTING_DOWN, which
   * secondaries retry), commits what is queued, publishes a shutdown notice and
   * releases the lock so a secondary takes over at once. A promotion in progress is
   * abandoned and undone. When the promise resolves, nothing this node started is
   * still running. Safe to call twice.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    // Abort the loop first, synchronously: a promotion it is in stops at its next step.
    const stopping = this.#leadership.stop();
    this.#status.history.stop();
    this.#feed.close();
    await this.#http?.close();
    await stopping;
    this.#forwarder.close(new WriteError('SHUTTING_DOWN', 'this node is closed', { retryable: false }));
    this.#readStore?.close();
    this.#leadership.log.info('node closed');
  }

  #httpUrl(): string | null {
    return this.#http?.url ?? null;
  }

  #primary(): Extract<Leadership['duty'], { role: 'primary' }> | undefined {
    const d = this.#leadership.duty;
    return d?.role === 'primary' ? d : undefined;
  }

  /** The node's read-only store and querier, opened once the file exists (the first primary creates it). */
  #openReadStore(): Store {
    this.#readStore ??= Store.open({
      path: this.paths.dbPath,
      readonly: true,
      registry: this.#registry,
      logger: this.#root.child({ component: 'reads' }),
    });
    this.#querier ??= createQuerier({ store: this.#readStore, write: this.#forwarder.write });
    return this.#readStore;
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
    const store = this.#primary()?.store;
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
        this.#leadership.log.error({ err: e, event: event.type }, 'node listener threw');
      }
    }
  }
}

/**
 * Joins (or founds) the cluster of the database at `options.dbPath` and resolves
 * once this process can serve: as primary if it took the lock, otherwise as a
 * secondary of the primary named in the discovery file. With `options.url`
 * (`postgres://…`) instead, this process is a peer of that PostgreSQL server
 * ({@link PgScribeNode}): the same querier, changes(), findRequest, health and
 * plugins; the options alone choose the engine.
 */
export function openNode(options: OpenPgNodeOptions): Promise<PgScribeNode>;
export function openNode(options: OpenNodeOptions): Promise<ScribeNode>;
export async function openNode(options: OpenNodeOptions | OpenPgNodeOptions): Promise<ScribeNode | PgScribeNode> {
  const node = isPgNodeOptions(options) ? new PgScribeNode(options) : new ScribeNode(options as OpenNodeOptions);
  try {
    await node.start();
  } catch (e) {
    await node.close().catch(() => undefined);
    throw e;
  }
  return node;
}
