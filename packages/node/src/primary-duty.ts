import { rmSync } from 'node:fs';
import type { Logger } from 'pino';
import { HEARTBEAT_TOPIC, RPC_METHODS, SHUTDOWN_TOPIC, WriteError, changeTopic, parseWriteRequest, type WriteRequest } from '@scribe/protocol';
import { Store, isStorageFault } from '@scribe/store';
import { WriteCoordinator } from '@scribe/coordinator';
import { RpcServer } from '@scribe/transport';
import { DatabaseGuard, checkBeforeOpen, fileIdentity, readDatabaseRecord, sameFile, writeDatabaseRecord } from './database-identity.js';
import { readDiscovery, writeDiscovery, type DiscoveryRecord } from './discovery.js';
import { answersAsPrimary } from './primary-probe.js';
import { startMaintenance } from './maintenance.js';
import { Membership } from './membership.js';
import { StorageFaults, type StorageFault } from './storage-faults.js';
import type { NodeContext } from './node-context.js';
import { enforceSidecarModes, prepareDatabaseFile } from './file-modes.js';
import { primaryEndpoints, removeTempSocketDir } from './socket-dir.js';

/**
 * How long the primary's connection waits inside the driver for another connection's
 * lock before it answers BUSY; the coordinator then tries again on a timer. Small, so
 * a lock held by another process never freezes the event loop for long.
 */
export const PRIMARY_BUSY_TIMEOUT_MS = 5;

/** What a node holds while it is primary. Built by {@link startPrimaryDuty}, ended by {@link PrimaryDuty.dispose}. */
export interface PrimaryDuty {
  readonly role: 'primary';
  readonly epoch: number;
  /** The read-write store. */
  readonly store: Store;
  readonly coordinator: WriteCoordinator;
  /** The bound endpoints (a tcp port of `*` resolved). */
  readonly endpoints: { readonly router: string; readonly pub: string };
  readonly membership: Membership;
  /** When a batch last committed (ms since epoch). */
  readonly lastCommitAt: number;
  /**
   * The fault that keeps writes from committing now, if any: the database file gone
   * (for good), the disk full or failing (until a batch commits again), another
   * connection holding the write lock (BUSY, until it lets go).
   */
  fault(): StorageFault | undefined;
  /**
   * Settles with the reason this node must stop being primary, when a heartbeat finds
   * one; never rejects. The leadership loop waits on it.
   */
  readonly lost: Promise<string>;
  /**
   * Stops being primary: refuses new writes (SHUTTING_DOWN), commits what is queued,
   * publishes a shutdown notice, closes the sockets and the store, removes its
   * discovery record. The lock is the loop's to release. Safe to call twice.
   */
  dispose(reason: string): Promise<void>;
}

/** Why a promotion stopped: the node was closed while promoting. */
export class PromotionAborted extends Error {
  override readonly name = 'PromotionAborted';
  constructor() {
    super('promote: the node was closed during its promotion');
  }
}

/**
 * Becomes primary of `epoch` (the caller holds the lock): opens the database
 * read-write, starts the coordinator, binds the sockets, writes the discovery record
 * and starts the heartbeat and maintenance. If `signal` aborts before it is done,
 * everything opened so far is closed and it rejects with {@link PromotionAborted};
 * on any other failure it closes what it opened and rejects with the cause.
 */
export async function startPrimaryDuty(ctx: NodeContext, epoch: number, signal: AbortSignal): Promise<PrimaryDuty> {
  const log = ctx.root.child({ role: 'primary', epoch });
  const { options } = ctx;
  let store: Store | undefined;
  let server: RpcServer | undefined;
  try {
    if (signal.aborted) throw new PromotionAborted();
    // Before anything creates the file: never a new, empty one where one was in use.
    checkBeforeOpen(ctx.paths.dbPath, ctx.paths.runtimeDir, options.recreateDatabase === true);
    prepareDatabaseFile(ctx.paths.dbPath, ctx.modes);
    store = Store.open({
      path: ctx.paths.dbPath,
      registry: ctx.registry,
      busyTimeoutMs: PRIMARY_BUSY_TIMEOUT_MS,
      ...(options.synchronous === undefined ? {} : { synchronous: options.synchronous }),
      ...(options.commitSync === undefined ? {} : { commitSync: options.commitSync }),
      plugins: ctx.plugins.plugins,
      ...(options.migrations === undefined ? {} : { migrations: options.migrations }),
      ...(options.autoMigrate === undefined ? {} : { autoMigrate: options.autoMigrate }),
      ...(options.requestRetention === undefined ? {} : { requestRetention: options.requestRetention }),
      ...(options.changeRetention === undefined ? {} : { changeRetention: options.changeRetention }),
      logger: log,
    });
    enforceSidecarModes(ctx.paths.dbPath, ctx.modes);
    const opened = fileIdentity(ctx.paths.dbPath);
    if (opened === undefined) throw new WriteError('DATABASE_GONE', 'the database file disappeared while it was being opened');
    // The file's identity (so that nobody recreates it unasked) and this primary's epoch.
    const record = readDatabaseRecord(ctx.paths.runtimeDir);
    if (!sameFile(record, opened) || record?.epoch !== epoch) writeDatabaseRecord(ctx.paths.runtimeDir, ctx.paths.dbPath, opened, epoch);
    const guard = new DatabaseGuard(ctx.paths.dbPath, opened);
    const faults = new StorageFaults(log);
    // Every node reads through its own read-only connection, kept across role changes.
    ctx.readStore();
    const writeStore = store;
    const coordinator = new WriteCoordinator({
      store: {
        validate: (method, params) => writeStore.registry.validate(method, params),
        executeBatch: async (items) => {
          // Before every transaction: a write committed into a file no longer at the path is lost.
          guard.check();
          try {
            const result = await writeStore.executeBatch(items, { validated: true });
            const hit = result.outcomes.find((o) => !o.ok && isStorageFault(o.error));
            faults.committed(hit === undefined || hit.ok ? undefined : hit.error);
            // A sync that fails after COMMIT is a storage fault too (the coordinator answers the batch with it).
            result.durable?.catch((e: unknown) => faults.failed(e));
            return result;
          } catch (e) {
            faults.failed(e);
            throw e;
          }
        },
      },
      logger: log,
      ...(options.maxBatchSize === undefined ? {} : { maxBatchSize: options.maxBatchSize }),
      ...(options.maxQueueDepth === undefined ? {} : { maxQueueDepth: options.maxQueueDepth }),
      ...(options.provenanceLevel === undefined ? {} : { provenanceLevel: options.provenanceLevel }),
    });
    const asked = primaryEndpoints(ctx.paths, options.endpoints, epoch, ctx.modes);
    server = new RpcServer({
      routerEndpoint: asked.router,
      pubEndpoint: asked.pub,
      ...(options.curve === undefined
        ? {}
        : {
            curve: {
              publicKey: options.curve.publicKey,
              secretKey: options.curve.secretKey,
              allowedClientKeys: [options.curve.publicKey, ...(options.curve.allowedClientKeys ?? [])],
            },
          }),
      logger: log,
      ...(options.maxMessageBytes === undefined ? {} : { maxMessageBytes: options.maxMessageBytes }),
    });
    const registry = writeStore.registry;
    server.addMethod(RPC_METHODS.write, (params) => {
      let request: WriteRequest;
      try {
        request = parseWriteRequest(params);
      } catch (e) {
        ctx.metrics.countRefused(e, (m) => registry.has(m));
        throw e;
      }
      return coordinator.submit(request);
    });
    server.addMethod(RPC_METHODS.ping, () => ctx.info());
    server.addMethod(RPC_METHODS.status, () => ctx.status.snapshot());
    const membership = new Membership(ctx.timings.heartbeatIntervalMs);
    membership.serve(server, () => ctx.info());
    await server.bind();
    if (signal.aborted) throw new PromotionAborted();
    const duty = new RunningPrimary(ctx, log, epoch, store, coordinator, server, membership, guard, faults);
    try {
      // A previous primary's temporary socket directory (one that died without cleaning up) goes.
      const before = readDiscovery(ctx.paths.discoveryPath);
      if (before !== undefined && before.router !== duty.endpoints.router) removeTempSocketDir(before.router);
      duty.announce();
    } catch (e) {
      await duty.dispose('promotion failed');
      throw new Error('promote: write the discovery record', { cause: e });
    }
    return duty;
  } catch (e) {
    await server?.close().catch(() => undefined);
    store?.close();
    if (e instanceof PromotionAborted) throw e;
    throw new Error('promote: become primary', { cause: e });
  }
}

class RunningPrimary implements PrimaryDuty {
  readonly role = 'primary' as const;
  readonly endpoints: { readonly router: string; readonly pub: string };
  readonly lost: Promise<string>;
  lastCommitAt = Date.now();
  readonly #startedAt = new Date().toISOString();
  readonly #ctx: NodeContext;
  readonly #log: Logger;
  readonly #server: RpcServer;
  readonly #heartbeat: NodeJS.Timeout;
  readonly #stopMaintenance: () => void;
  readonly #stopCommits: () => void;
  readonly #guard: DatabaseGuard;
  #lose: (reason: string) => void = () => undefined;
  #disposing: Promise<void> | undefined;
  readonly #faults: StorageFaults;
  #checking = false;

  constructor(
    ctx: NodeContext,
    log: Logger,
    readonly epoch: number,
    readonly store: Store,
    readonly coordinator: WriteCoordinator,
    server: RpcServer,
    readonly membership: Membership,
    guard: DatabaseGuard,
    faults: StorageFaults,
  ) {
    this.#guard = guard;
    this.#faults = faults;
    this.#ctx = ctx;
    this.#log = log;
    this.#server = server;
    this.lost = new Promise((resolve) => {
      this.#lose = resolve;
    });
    // The bound addresses: a tcp port of `*` becomes the port the OS gave.
    this.endpoints = { router: server.routerEndpoint, pub: server.pubEndpoint };
    this.#stopCommits = coordinator.on((event) => {
      if (event.type !== 'batch:committed') return;
      this.lastCommitAt = Date.now();
      ctx.metrics.observeBatch(event.size, event.durationMs);
      ctx.feed.notify();
      for (const change of event.changes) {
        server.publish(changeTopic(change.entity, change.op), change).catch((e: unknown) => {
          log.warn({ err: e }, 'publish change event failed');
        });
      }
    });
    this.#heartbeat = setInterval(() => this.#beat(), ctx.timings.heartbeatIntervalMs);
    this.#heartbeat.unref();
    this.#stopMaintenance = startMaintenance(ctx.plugins.maintenance, () => ctx.querier(), log);
  }

  fault(): StorageFault | undefined {
    const gone = this.#guard.gone;
    if (gone !== undefined) return { code: 'DATABASE_GONE', since: this.lastCommitAt, message: gone.message };
    const storage = this.#faults.current;
    if (storage !== undefined) return storage;
    const busy = this.coordinator.busySince;
    if (busy !== undefined) {
      return { code: 'BUSY', since: busy, message: `another connection holds the database's write lock; ${this.coordinator.depth} writes wait for it` };
    }
    return undefined;
  }

  dispose(reason: string): Promise<void> {
    this.#disposing ??= this.#dispose(reason);
    return this.#disposing;
  }

  async #dispose(reason: string): Promise<void> {
    this.#lose(reason);
    clearInterval(this.#heartbeat);
    this.#stopMaintenance();
    await this.coordinator.close({ drain: true });
    this.#stopCommits();
    await this.#server
      .publish(SHUTDOWN_TOPIC, { instance_id: this.#ctx.instanceId, epoch: this.epoch, reason, at: new Date().toISOString() })
      .catch(() => undefined);
    await this.#server.close();
    removeTempSocketDir(this.endpoints.router);
    this.store.close();
    const seen = readDiscovery(this.#ctx.paths.discoveryPath);
    if (seen?.instance_id === this.#ctx.instanceId && seen.epoch === this.epoch) rmSync(this.#ctx.paths.discoveryPath, { force: true });
    this.#log.info({ epoch: this.epoch, reason, metrics: this.coordinator.metrics() }, 'primary stopped');
  }

  /**
   * Every heartbeat: tell the secondaries it is alive, and check that it still is the
   * primary of this database (the lock file and the database file are the ones it
   * holds, no newer primary answers), repairing what a stray `rm` broke (the
   * discovery record, the socket files). A check that fails settles {@link lost}.
   */
  #beat(): void {
    this.#publishHeartbeat();
    if (this.#checking || this.#disposing !== undefined) return;
    this.#checking = true;
    this.#check()
      .then((reason) => {
        if (reason !== undefined) this.#lose(reason);
      })
      .catch((e: unknown) => this.#log.warn({ err: e }, 'heartbeat check failed'))
      .finally(() => {
        this.#checking = false;
      });
  }

  async #check(): Promise<string | undefined> {
    const ctx = this.#ctx;
    if (!ctx.lock.isIntact()) return 'the primary lock file was removed or replaced; another node could lock a new one';
    try {
      this.#guard.check();
    } catch {
      return 'the database file was removed or replaced under the primary (DATABASE_GONE)';
    }
    const seen = readDiscovery(ctx.paths.discoveryPath);
    if (!this.#isMine(seen)) {
      if (seen !== undefined && seen.instance_id !== ctx.instanceId && seen.epoch > this.epoch && (await answersAsPrimary(ctx, seen))) {
        return `another node (${seen.instance_id}) answers as primary of the newer epoch ${seen.epoch}`;
      }
      if (this.#disposing !== undefined) return undefined;
      this.#log.warn({ found: seen ?? null }, 'discovery record missing or not this primary\'s; writing it again');
      this.announce();
    }
    await this.#server.reassertIpc();
    return undefined;
  }

  #isMine(r: DiscoveryRecord | undefined): boolean {
    return (
      r !== undefined &&
      r.instance_id === this.#ctx.instanceId &&
      r.epoch === this.epoch &&
      r.pid === process.pid &&
      r.router === this.endpoints.router &&
      r.pub === this.endpoints.pub
    );
  }

  #publishHeartbeat(): void {
    this.#server
      .publish(HEARTBEAT_TOPIC, {
        instance_id: this.#ctx.instanceId,
        epoch: this.epoch,
        pid: process.pid,
        queue_depth: this.coordinator.depth,
        at: new Date().toISOString(),
      })
      .catch(() => undefined);
  }

  /** Writes this primary's discovery record (secondaries find it there). */
  announce(): void {
    writeDiscovery(this.#ctx.paths.discoveryPath, {
      instance_id: this.#ctx.instanceId,
      pid: process.pid,
      epoch: this.epoch,
      router: this.endpoints.router,
      pub: this.endpoints.pub,
      schema_version: this.store.schemaVersion(),
      started_at: this.#startedAt,
      ...(this.#ctx.options.curve === undefined ? {} : { curve_public_key: this.#ctx.options.curve.publicKey }),
    });
  }
}
