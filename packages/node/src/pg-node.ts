import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import { WriteError, type NodeInfo, type PluginInfo, type Role } from '@scribe/protocol';
import { StoreReads, createQuerier, type Querier, type RequestRecord, type StoredChange } from '@scribe/store';
import { WriteCoordinator } from '@scribe/coordinator';
import { PgAdvisoryLease, PgChangeListener, PgPeerTable, PgStore, mapPgError, redactUrl } from '@scribe/postgres';
import { WriteForwarder } from '@scribe/proxy';
import { ChangeFeed, type ChangesOptions } from './change-feed.js';
import { HttpEndpoint } from './http-endpoint.js';
import { startMaintenance } from './maintenance.js';
import type { NodeHealth } from './node-health.js';
import type { NodeListener } from './node-events.js';
import { NodeMetrics } from './node-metrics.js';
import { DEFAULT_PG_FALLBACK_POLL_MS, DEFAULT_PG_LISTEN_POLL_MS, PG_DEFAULT_MAX_BATCH_SIZE, checkPgNodeOptions, type OpenPgNodeOptions } from './pg-node-options.js';
import { knownVersion, pluginInfos, resolvePlugins, schemaProblem, type ResolvedPlugins } from './plugins.js';
import { coordinatorCounts } from './coordinator-counts.js';
import type { NodeStatus } from './node-status.js';
import { DEFAULT_HEARTBEAT_INTERVAL_MS } from './node-options.js';
import { PeerPresence } from './peer-presence.js';
import { pgNodeStatus } from './pg-node-status.js';
import { lastCommitted } from './status-snapshot.js';

/**
 * One process of an application on a PostgreSQL server: a peer among any number of
 * others (on this machine or any other), with the same public API as the SQLite
 * node. Its writes go through its own coordinator (group commit) into the server;
 * exactly-once, the change order and migrations hold across peers through the
 * database itself (see docs/postgresql.md). Open it with `openNode({ url })`.
 */
export class PgScribeNode {
  /** This member's id. */
  readonly instanceId: string;
  /** The engine this node runs on. */
  readonly engine = 'postgres' as const;
  /** The server, credentials blanked. */
  readonly server: string;
  readonly #options: OpenPgNodeOptions;
  readonly #plugins: ResolvedPlugins;
  readonly #root: Logger;
  readonly #log: Logger;
  readonly #forwarder: WriteForwarder;
  readonly #metrics: NodeMetrics;
  readonly #feed: ChangeFeed;
  readonly #startedAt = Date.now();
  readonly #listeners = new Set<NodeListener>();
  readonly #host = hostname();
  readonly #status: NodeStatus;
  #presence: PeerPresence | undefined;
  #store: PgStore | undefined;
  #coordinator: WriteCoordinator | undefined;
  #listener: PgChangeListener | undefined;
  #lease: PgAdvisoryLease | undefined;
  #stopMaintenance: (() => void) | undefined;
  #stopCommits: (() => void) | undefined;
  #querier: Querier | undefined;
  #http: HttpEndpoint | undefined;
  #versions = new Map<string, number>();
  #schemaProblem: WriteError | undefined;
  #closing: Promise<void> | undefined;
  /** The last batch failure because the server could not be reached, until a batch commits again. */
  #unreachable: WriteError | undefined;

  /** @internal use `openNode({ url })`. */
  constructor(options: OpenPgNodeOptions) {
    checkPgNodeOptions(options);
    this.#options = options;
    this.#plugins = resolvePlugins(options);
    this.instanceId = options.instanceId ?? `${process.pid}-${randomBytes(3).toString('hex')}`;
    this.#root = (options.logger ?? pino({ level: 'silent' })).child({ node: this.instanceId });
    this.#log = this.#root.child({ role: 'peer', component: 'node' });
    this.server = redactUrl(options.url);
    this.#metrics = new NodeMetrics(
      {
        role: () => 'peer',
        epoch: () => 0,
        coordinator: () => {
          const c = this.#coordinator;
          return c === undefined ? undefined : { queueDepth: c.depth, outcomes: c.outcomes() };
        },
        failovers: () => 0,
        walPath: '',
      },
      { node: this.instanceId },
    );
    this.#forwarder = new WriteForwarder({
      instanceId: this.instanceId,
      isLong: (method) => this.#plugins.registry.get(method)?.long === true,
      ...(options.writeTimeoutMs === undefined ? {} : { defaultTimeoutMs: options.writeTimeoutMs }),
      ...(options.longWriteTimeoutMs === undefined ? {} : { longTimeoutMs: options.longWriteTimeoutMs }),
      logger: this.#root,
    });
    this.#status = pgNodeStatus({
      registry: this.#metrics.registry,
      server: this.server,
      host: this.#host,
      instanceId: () => this.instanceId,
      info: () => this.info(),
      http: () => this.#http?.url ?? null,
      queueDepth: () => this.#coordinator?.depth ?? 0,
      presence: () => this.#presence,
      changeLog: () => this.#store,
    });
    const fallbackMs = options.changePollMs ?? DEFAULT_PG_FALLBACK_POLL_MS;
    this.#feed = new ChangeFeed(() => this.#store, {
      pollMs: () => (this.#listener?.listening === true ? DEFAULT_PG_LISTEN_POLL_MS : fallbackMs),
      transient: (e) => mapPgError(e, null).isRetryable(),
    });
  }

  /** Always `peer`: every process of a PostgreSQL database is one. */
  get role(): Role {
    return 'peer';
  }

  /** Always 0: peers have no epochs (nothing is promoted). */
  get epoch(): number {
    return 0;
  }

  /** The typed querier: reads from the server, writes through this process's coordinator. */
  get querier(): Querier {
    if (this.#querier === undefined) throw new Error('node: not started');
    return this.#querier;
  }

  /** Registers a listener of node events; returns the function that removes it (a peer has no role changes to tell). */
  on(listener: NodeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Role, identity, schema version and queue depth, as on the SQLite node. */
  info(): NodeInfo {
    const metrics = this.#coordinator?.metrics();
    return {
      role: 'peer',
      instance_id: this.instanceId,
      pid: process.pid,
      epoch: 0,
      schema_version: this.#versions.get('scribe') ?? 0,
      plugins: this.#pluginInfo(),
      uptime_s: Math.round((Date.now() - this.#startedAt) / 1000),
      ...coordinatorCounts(metrics),
    };
  }

  /**
   * Committed changes of every peer in seq order, each exactly once: an async
   * iterable over the change log on the server, woken by LISTEN/NOTIFY and polling
   * while the LISTEN connection is down. Pass the last `seq` you applied as `since`
   * to resume; {@link ResyncNeededError} when the changes after it were pruned.
   */
  changes(options: ChangesOptions = {}): AsyncGenerator<StoredChange, void, undefined> {
    return this.#feed.changes(options);
  }

  /**
   * The server's record of a request id (whichever peer ran it): whether the write
   * committed (`ok`, `result`) or failed for good. Undefined while nothing is recorded.
   */
  async findRequest(requestId: string): Promise<RequestRecord | undefined> {
    if (this.#store === undefined) return undefined;
    return this.#store.findRequest(requestId);
  }

  /** The address of the HTTP listener, when one was asked for. */
  get httpAddress(): { host: string; port: number } | undefined {
    return this.#http?.address;
  }

  /** The node's Prometheus registry (what `/metrics` serves; the same metric names as the SQLite node). */
  get metricsRegistry(): NodeMetrics['registry'] {
    return this.#metrics.registry;
  }

  /**
   * Whether this peer can do its job now: the server answers and takes writes, the
   * database has every migration this process knows and none newer, and the queue
   * is open.
   */
  async health(): Promise<NodeHealth> {
    const role = 'peer' as const;
    if (this.#closing !== undefined) return { ok: false, role, reason: 'the node is closing' };
    const store = this.#store;
    if (store === undefined || this.#coordinator === undefined) return { ok: false, role, reason: 'not started' };
    try {
      await store.probeWritable();
      await this.#refreshSchema();
    } catch (e) {
      const code = e instanceof WriteError ? e.code : 'INTERNAL';
      return { ok: false, role, reason: `the server ${this.server} does not take writes now (${code})` };
    }
    if (this.#schemaProblem !== undefined) return { ok: false, role, reason: this.#schemaProblem.message };
    const listening = this.#listener?.listening === true ? 'change feed listening' : 'change feed polling (LISTEN connection down)';
    return { ok: true, role, reason: `peer of ${this.server}, ${this.#coordinator.depth} writes queued, ${listening}` };
  }

  /** @internal Connects, migrates (once, across peers), and starts serving. */
  async start(): Promise<void> {
    const o = this.#options;
    const log = this.#root.child({ role: 'peer' });
    this.#store = await PgStore.open({
      url: o.url,
      registry: this.#plugins.registry,
      plugins: this.#plugins.plugins,
      ...(o.migrations === undefined ? {} : { migrations: o.migrations }),
      ...(o.autoMigrate === undefined ? {} : { autoMigrate: o.autoMigrate }),
      ...(o.poolSize === undefined ? {} : { max: o.poolSize }),
      ...(o.ssl === undefined ? {} : { ssl: o.ssl }),
      ...(o.applicationName === undefined ? {} : { applicationName: o.applicationName }),
      ...(o.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: o.connectTimeoutMs }),
      ...(o.requestRetention === undefined ? {} : { requestRetention: o.requestRetention }),
      ...(o.changeRetention === undefined ? {} : { changeRetention: o.changeRetention }),
      logger: log,
    });
    await this.#refreshSchema();
    // A process that does not migrate writes only on a database shaped for it.
    if (this.#schemaProblem !== undefined) throw this.#schemaProblem;
    const store = this.#store;
    this.#coordinator = new WriteCoordinator({
      store: {
        validate: (method, params) => store.validate(method, params),
        executeBatch: async (items) => {
          try {
            const result = await store.executeBatch(items, { validated: true });
            this.#unreachable = undefined;
            return result;
          } catch (e) {
            if (e instanceof WriteError && e.code === 'UNREACHABLE') this.#unreachable = e;
            throw e;
          }
        },
      },
      logger: log,
      maxBatchSize: o.maxBatchSize ?? PG_DEFAULT_MAX_BATCH_SIZE,
      ...(o.maxQueueDepth === undefined ? {} : { maxQueueDepth: o.maxQueueDepth }),
      ...(o.provenanceLevel === undefined ? {} : { provenanceLevel: o.provenanceLevel }),
    });
    const coordinator = this.#coordinator;
    this.#stopCommits = coordinator.on((event) => {
      if (event.type !== 'batch:committed') return;
      this.#metrics.observeBatch(event.size, event.durationMs);
      if (event.changes.length > 0) this.#feed.notify();
    });
    this.#forwarder.setTarget((request) =>
      coordinator.submit(request).catch((e: unknown) => {
        // A write whose deadline passed in the queue while the server could not be reached was
        // not executed because of that: say UNREACHABLE (retryable), as for the batches before it.
        if (e instanceof WriteError && e.code === 'TIMEOUT' && this.#unreachable !== undefined) {
          throw new WriteError('UNREACHABLE', `the server ${this.server} could not be reached before the write's deadline; it was not executed`, {
            method: e.method,
            cause: this.#unreachable,
          });
        }
        throw e;
      }),
    );
    this.#querier = createQuerier({
      store: { reads: new StoreReads(store.reader), query: (sql, params) => store.query(sql, params) },
      write: this.#forwarder.write,
    });
    this.#listener = new PgChangeListener({
      url: o.url,
      ...(o.ssl === undefined ? {} : { ssl: o.ssl }),
      ...(o.applicationName === undefined ? {} : { applicationName: o.applicationName }),
      ...(o.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: o.connectTimeoutMs }),
      onNotify: () => this.#feed.notify(),
      onState: (listening) => {
        // Readers switch between the slow safety poll and the fast fallback at once.
        if (!listening) this.#feed.notify();
      },
      logger: log,
    });
    await this.#listener.start();
    if (this.#plugins.maintenance.length > 0) {
      const lease = new PgAdvisoryLease({
        url: o.url,
        ...(o.ssl === undefined ? {} : { ssl: o.ssl }),
        ...(o.applicationName === undefined ? {} : { applicationName: o.applicationName }),
        logger: log,
      });
      this.#lease = lease;
      await lease.start();
      // Each sweep runs only in the peer that holds the lease: one process at a time.
      this.#stopMaintenance = startMaintenance(
        this.#plugins.maintenance,
        () => (lease.held ? this.#querier : undefined),
        log.child({ component: 'maintenance' }),
      );
    }
    this.#status.history.start();
    if (o.http !== undefined) {
      this.#http = new HttpEndpoint(
        o.http,
        {
          health: () => this.health(),
          metrics: async () => ({ contentType: this.#metrics.registry.contentType, body: await this.#metrics.registry.metrics() }),
          status: () => this.#status.report(),
        },
        this.#log,
      );
      await this.#http.listen();
      this.#log.info({ http: this.#http.url }, 'status page, health and metrics listening');
    }
    // After the listener: the first record carries its address.
    const intervalMs = o.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    this.#presence = new PeerPresence({
      table: new PgPeerTable(store.pool),
      intervalMs,
      record: () => {
        const info = this.info();
        return {
          instance_id: this.instanceId,
          pid: process.pid,
          host: this.#host,
          http: this.#http?.url ?? null,
          schema_version: info.schema_version,
          plugins: info.plugins,
          load: { queue_depth: info.queue_depth, committed_per_s: lastCommitted(this.#status.history.samples()) },
          interval_ms: intervalMs,
          uptime_s: info.uptime_s,
          started_at: new Date(this.#startedAt).toISOString(),
        };
      },
      log: this.#root.child({ role: 'peer', component: 'peers' }),
    });
    await this.#presence.start();
    this.#log.info({ server: this.server, plugins: this.#plugins.plugins.map((p) => p.name) }, 'peer of the PostgreSQL server');
  }

  /**
   * Leaves: stops taking writes (SHUTTING_DOWN), commits what is queued, ends the
   * change feed, lets go of the maintenance lease and ends the pool. When the
   * promise resolves nothing this node started is still running. Safe to call twice.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#stopMaintenance?.();
    this.#status.history.stop();
    this.#feed.close();
    await this.#http?.close();
    await this.#coordinator?.close({ drain: true });
    this.#stopCommits?.();
    // The other peers stop listing this one at once (before the pool ends).
    await this.#presence?.close();
    this.#forwarder.close(new WriteError('SHUTTING_DOWN', 'this node is closed', { retryable: false }));
    await this.#lease?.close();
    await this.#listener?.close();
    await this.#store?.close();
    this.#log.info('node closed');
  }

  async #refreshSchema(): Promise<void> {
    const store = this.#store;
    if (store === undefined) return;
    const applied = await store.appliedMigrations();
    const versions = new Map<string, number>();
    for (const m of applied) versions.set(m.plugin, Math.max(versions.get(m.plugin) ?? 0, m.version));
    this.#versions = versions;
    this.#schemaProblem = schemaProblem(applied, this.#plugins.known);
  }

  #pluginInfo(): PluginInfo[] {
    return pluginInfos(this.#plugins.plugins, (name) => this.#versions.get(name) ?? knownVersion(this.#plugins.plugins.find((p) => p.name === name)!));
  }
}
