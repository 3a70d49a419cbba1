import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { ipcPath } from '@scribe/transport';
import { WriteError, type Role, type WriteRequest } from '@scribe/protocol';
import { readDatabaseRecord } from './database-identity.js';
import { readDiscovery, type DiscoveryRecord } from './discovery.js';
import type { NodeContext } from './node-context.js';
import { PromotionAborted, startPrimaryDuty, type PrimaryDuty } from './primary-duty.js';
import { answersAsPrimary } from './primary-probe.js';
import { removeStaleSockets } from './runtime-paths.js';
import { startSecondaryDuty, type SecondaryDuty } from './secondary-duty.js';
import { assertSafeIpcEndpoint } from './socket-dir.js';

/** How long a node waits before it tries the lock again after a failed promotion or a step-down. */
export const DEFAULT_PROMOTION_RETRY_MS = 2_000;

/** What the loop asks of the node beyond the {@link NodeContext}. */
export interface LeadershipHooks {
  /** See {@link SecondaryHooks.schemaMismatch}. */
  schemaMismatch(): WriteError | undefined;
}

/**
 * Leadership as one loop (LiteFS's `monitorLease` shape): take the lock and lead
 * until a fault takes the role away, or follow the primary the discovery file names
 * until it goes; then look again. Every transition happens here, in order, and is
 * logged once. The loop runs under an AbortSignal: {@link stop} aborts it and waits
 * until it has disposed of whatever it started, so nothing a closed node started can
 * finish later (a promotion in progress is abandoned and undone).
 */
export class Leadership {
  readonly #ctx: NodeContext;
  readonly #hooks: LeadershipHooks;
  readonly #abort = new AbortController();
  #log: Logger;
  #duty: PrimaryDuty | SecondaryDuty | undefined;
  #role: Role | undefined;
  #epoch = 0;
  #failovers = 0;
  #problem: string | undefined;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #distrusted: { key: string; until: number } | undefined;

  constructor(ctx: NodeContext, hooks: LeadershipHooks) {
    this.#ctx = ctx;
    this.#hooks = hooks;
    this.#log = ctx.root.child({ component: 'node' });
  }

  /** What the node does now: lead, follow, or nothing (between roles). */
  get duty(): PrimaryDuty | SecondaryDuty | undefined {
    return this.#duty;
  }

  /** The role last taken; a primary that stepped down is a secondary (of nobody, until it finds one). */
  get role(): Role | undefined {
    return this.#role;
  }

  /** The highest epoch this node knows: its own as primary, its primary's otherwise. Never goes down. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Promotions and primary changes seen. */
  get failovers(): number {
    return this.#failovers;
  }

  /** Why the node has no role now, when it knows (a failed promotion, a step-down). */
  get problem(): string | undefined {
    return this.#problem;
  }

  /** The node's logger for its current role. */
  get log(): Logger {
    return this.#log;
  }

  /**
   * Starts the loop. Resolves once the node has a role; rejects when the first
   * promotion fails, or when no primary appeared within `startTimeoutMs` (UNREACHABLE).
   */
  start(): Promise<void> {
    if (this.#loop !== undefined) throw new Error('leadership: already started');
    return new Promise<void>((resolve, reject) => {
      this.#loop = this.#run({ resolve, reject }).catch((e: unknown) => {
        // The loop handles its own failures; this is a bug, and it must not go unheard.
        this.#log.error({ err: e }, 'leadership loop failed');
        reject(e as Error);
      });
    });
  }

  /** Aborts the loop and waits until it has released everything it holds. Safe to call twice. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }

  async #run(first: { resolve: () => void; reject: (e: Error) => void }): Promise<void> {
    const ctx = this.#ctx;
    const signal = this.#abort.signal;
    const startDeadline = Date.now() + ctx.timings.startTimeoutMs;
    let started = false;
    let promoteAfter = 0;
    try {
      while (!signal.aborted) {
        // Lead, when the lock is free.
        const epoch = ctx.options.promote !== false && Date.now() >= promoteAfter ? this.#tryLock(started) : undefined;
        if (epoch instanceof Error) {
          first.reject(epoch);
          return;
        }
        if (epoch !== undefined) {
          const claimed = await this.#claim(epoch);
          if (signal.aborted) break;
          if (claimed === undefined) {
            promoteAfter = Date.now() + DEFAULT_PROMOTION_RETRY_MS;
            continue;
          }
          ctx.emit({ type: 'promotion:started', epoch: claimed });
          if (signal.aborted) break;
          let duty: PrimaryDuty;
          try {
            duty = await startPrimaryDuty(ctx, claimed, signal);
          } catch (e) {
            ctx.lock.release();
            if (e instanceof PromotionAborted) break;
            if (!started) {
              first.reject(e as Error);
              return;
            }
            this.#problem = `promotion to epoch ${claimed} failed: ${describeError(e)}`;
            this.#log.error({ err: e, epoch: claimed, retry_ms: DEFAULT_PROMOTION_RETRY_MS }, 'promotion failed; lock released, will try again');
            ctx.emit({ type: 'promotion:failed', error: e as Error });
            promoteAfter = Date.now() + DEFAULT_PROMOTION_RETRY_MS;
            continue;
          }
          await this.#lead(duty);
          started = true;
          first.resolve();
          const reason = await this.#until(duty.lost, false);
          if (reason === undefined || signal.aborted) break;
          await this.#stepDown(duty, reason);
          promoteAfter = Date.now() + DEFAULT_PROMOTION_RETRY_MS;
          continue;
        }
        // Follow the primary the discovery file names, once it proves to be that primary.
        const record = readDiscovery(ctx.paths.discoveryPath);
        const verdict = record !== undefined && this.#worthFollowing(record) ? await this.#verified(record) : false;
        if (verdict instanceof Error) {
          // A record that points where nobody can be trusted: fail the start with that, loudly.
          if (!started) {
            first.reject(verdict);
            return;
          }
        } else if (verdict && record !== undefined) {
          if (signal.aborted) break;
          if (await this.#follow(record)) {
            started = true;
            first.resolve();
          }
        }
        if (!started && Date.now() >= startDeadline) {
          const why = this.#problem === undefined ? '' : ` (${this.#problem})`;
          first.reject(new WriteError('UNREACHABLE', `node: no primary appeared for ${ctx.paths.dbPath} within ${ctx.timings.startTimeoutMs} ms${why}`));
          return;
        }
        await this.#until(sleep(ctx.timings.pollIntervalMs), true);
      }
    } finally {
      await this.#leave('close');
    }
  }

  /** The new epoch, undefined when someone else holds the lock; before the first role, a failure is returned to end the start. */
  #tryLock(started: boolean): number | undefined | Error {
    try {
      return this.#ctx.lock.tryAcquire();
    } catch (e) {
      if (!started) return e as Error;
      this.#problem = `the primary lock cannot be taken: ${describeError(e)}`;
      this.#log.error({ err: e }, 'primary lock: cannot take it');
      return undefined;
    }
  }

  /**
   * Having taken the lock: makes sure no other node still acts as primary (it would,
   * if the lock file had been removed or replaced under it), and raises the epoch above
   * every epoch seen, so that it never goes back even when the lock file (which stores
   * it) was lost (the runtime directory's database record keeps the last one too).
   * Undefined (lock released) when another primary answers.
   */
  async #claim(epoch: number): Promise<number | undefined> {
    const ctx = this.#ctx;
    const seen = readDiscovery(ctx.paths.discoveryPath);
    if (seen !== undefined && seen.instance_id !== ctx.instanceId && (await answersAsPrimary(ctx, seen))) {
      ctx.lock.release();
      this.#problem = `took the lock, but ${seen.instance_id} (pid ${seen.pid}) still answers as primary of epoch ${seen.epoch}: the lock file was removed or replaced; not promoting`;
      this.#log.warn({ primary: seen.instance_id, pid: seen.pid, epoch: seen.epoch }, 'lock taken while another primary answers (lock file removed or replaced?); released it, not promoting');
      return undefined;
    }
    try {
      const recorded = readDatabaseRecord(ctx.paths.runtimeDir)?.epoch ?? 0;
      return ctx.lock.raiseEpoch(Math.max(this.#epoch, seen?.epoch ?? 0, recorded) + 1);
    } catch (e) {
      ctx.lock.release();
      this.#problem = `the epoch could not be stored in the lock file: ${describeError(e)}`;
      this.#log.error({ err: e }, 'promotion: could not store the epoch');
      return undefined;
    }
  }

  /** A record is worth checking when it is not the one followed now and its epoch is not below the highest known. */
  #worthFollowing(record: DiscoveryRecord): boolean {
    const d = this.#duty;
    if (d?.role === 'primary') return false;
    if (d !== undefined && d.primary.instance_id === record.instance_id && d.primary.epoch === record.epoch) return false;
    return record.epoch >= this.#epoch;
  }

  async #lead(duty: PrimaryDuty): Promise<void> {
    const ctx = this.#ctx;
    const previous = this.#role;
    const old = this.#duty;
    this.#duty = duty;
    this.#problem = undefined;
    ctx.forwarder.setTarget((request: WriteRequest) => duty.coordinator.submit(request));
    this.#epoch = duty.epoch;
    this.#role = 'primary';
    this.#log = ctx.root.child({ role: 'primary', component: 'node' });
    const socketPath = ipcPath(duty.endpoints.router);
    if (socketPath !== undefined) removeStaleSockets(dirname(socketPath), duty.epoch, this.#log);
    this.#log.info(
      {
        db: ctx.paths.dbPath,
        epoch: duty.epoch,
        router: duty.endpoints.router,
        pub: duty.endpoints.pub,
        synchronous: ctx.options.synchronous ?? 'FULL',
        previous: previous ?? null,
      },
      'role: primary',
    );
    // Closing the old client fails its calls in flight as UNREACHABLE; the forwarder
    // retries them at once against the local coordinator with the same request ids.
    await old?.dispose('promoted');
    if (previous === 'secondary') this.#failovers++;
    if (old?.role === 'secondary') {
      const from = ctx.status.previousPrimary(old.primary, old.lastHeartbeatAt);
      ctx.status.failovers.promoted({ instance_id: ctx.instanceId, pid: process.pid, epoch: duty.epoch }, from, Date.now());
    }
    ctx.emit({ type: 'role:changed', role: 'primary', previous, epoch: duty.epoch });
  }

  /** Follows `record`'s primary; false (logged) when this node cannot read the database. */
  async #follow(record: DiscoveryRecord): Promise<boolean> {
    const ctx = this.#ctx;
    const previous = this.#role;
    const old = this.#duty;
    try {
      ctx.readStore();
    } catch (e) {
      this.#problem = `the database cannot be opened for reading: ${describeError(e)}`;
      this.#log.error({ err: e }, 'cannot follow: the database cannot be opened for reading');
      return false;
    }
    let duty: SecondaryDuty;
    try {
      duty = startSecondaryDuty(ctx, record, { wake: () => this.#wake?.(), schemaMismatch: () => this.#hooks.schemaMismatch() });
    } catch (e) {
      this.#problem = `cannot follow ${record.instance_id}: ${describeError(e)}`;
      this.#log.error({ err: e, primary: record.instance_id, router: record.router }, 'cannot follow the recorded primary');
      return false;
    }
    this.#duty = duty;
    this.#problem = undefined;
    this.#epoch = record.epoch;
    this.#role = 'secondary';
    this.#log = ctx.root.child({ role: 'secondary', component: 'node' });
    // Calls in flight to the old primary fail as UNREACHABLE and are retried against
    // the new one with the same request id.
    await old?.dispose('following another primary');
    if (previous === undefined) {
      this.#log.info({ db: ctx.paths.dbPath, primary: record.instance_id, epoch: record.epoch, router: record.router }, 'role: secondary');
      ctx.emit({ type: 'role:changed', role: 'secondary', previous: undefined, epoch: record.epoch });
      return true;
    }
    this.#log.info({ primary: record.instance_id, epoch: record.epoch, router: record.router }, 'following new primary');
    this.#failovers++;
    if (old?.role === 'secondary') {
      ctx.status.failovers.followed(
        { instance_id: record.instance_id, pid: record.pid, epoch: record.epoch },
        ctx.status.previousPrimary(old.primary, old.lastHeartbeatAt),
        Date.now(),
        Date.parse(record.started_at),
      );
    }
    if (previous === 'primary') ctx.emit({ type: 'role:changed', role: 'secondary', previous, epoch: record.epoch });
    ctx.emit({ type: 'primary:changed', instance_id: record.instance_id, epoch: record.epoch, router: record.router });
    return true;
  }

  /** A primary that can no longer do its job gives the role up, so that a node that can takes it. */
  async #stepDown(duty: PrimaryDuty, reason: string): Promise<void> {
    this.#log.warn({ epoch: duty.epoch, reason, retry_ms: DEFAULT_PROMOTION_RETRY_MS }, 'stepping down');
    this.#problem = `stepped down from epoch ${duty.epoch}: ${reason}`;
    await this.#leave(reason);
    this.#role = 'secondary';
    this.#log = this.#ctx.root.child({ role: 'secondary', component: 'node' });
    this.#ctx.emit({ type: 'role:changed', role: 'secondary', previous: 'primary', epoch: duty.epoch });
  }

  /** Disposes the current duty and releases the lock. */
  async #leave(reason: string): Promise<void> {
    const d = this.#duty;
    this.#duty = undefined;
    if (d?.role === 'primary') this.#ctx.forwarder.setTarget(undefined);
    await d?.dispose(reason);
    this.#ctx.lock.release();
    if (d?.role === 'primary') this.#log.info({ epoch: d.epoch }, 'lock released');
  }

  /**
   * Whether a record's primary answers as that primary. A record that did not is not
   * asked again for a heartbeat interval, so a forged record pointing at a dead
   * endpoint costs one probe a second, not one per poll.
   */
  async #verified(record: DiscoveryRecord): Promise<boolean | Error> {
    const key = `${record.instance_id}@${record.epoch}@${record.router}`;
    const now = Date.now();
    try {
      assertSafeIpcEndpoint(record.router, this.#ctx.modes);
      assertSafeIpcEndpoint(record.pub, this.#ctx.modes);
    } catch (e) {
      this.#problem = `the discovery record cannot be followed: ${describeError(e)}`;
      if (this.#distrusted?.key !== key) this.#log.error({ err: e, primary: record.instance_id, router: record.router }, 'discovery record points to an unsafe socket; not followed');
      this.#distrusted = { key, until: now + this.#ctx.timings.heartbeatIntervalMs };
      return e as Error;
    }
    if (this.#distrusted !== undefined && this.#distrusted.key === key && now < this.#distrusted.until) return false;
    if (await answersAsPrimary(this.#ctx, record)) {
      this.#distrusted = undefined;
      return true;
    }
    if (this.#duty === undefined) {
      this.#problem = `the discovery record names ${record.instance_id} (pid ${record.pid}, epoch ${record.epoch}) at ${record.router}, which does not answer as that primary (gone, or CURVE keys that do not match)`;
    }
    if (this.#distrusted?.key !== key) {
      this.#log.warn({ primary: record.instance_id, epoch: record.epoch, router: record.router }, 'discovery record not followed: its endpoint does not answer as that primary');
    }
    this.#distrusted = { key, until: now + this.#ctx.timings.heartbeatIntervalMs };
    return false;
  }

  /**
   * Waits for `p`, for the abort, and (when `wakeable`) for a wake-up; the value of
   * `p` when it settled first, else undefined.
   */
  async #until<T>(p: Promise<T>, wakeable: boolean): Promise<T | undefined> {
    const signal = this.#abort.signal;
    if (signal.aborted) return undefined;
    let interrupt: () => void = () => undefined;
    const interrupted = new Promise<undefined>((resolve) => {
      interrupt = () => resolve(undefined);
      if (wakeable) this.#wake = interrupt;
      signal.addEventListener('abort', interrupt, { once: true });
    });
    try {
      return await Promise.race([p, interrupted]);
    } finally {
      signal.removeEventListener('abort', interrupt);
      if (wakeable) this.#wake = undefined;
    }
  }
}

/** A pause of the loop. Not unref'd: a running node keeps its process alive until close(). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describeError(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e; c instanceof Error && parts.length < 4; c = c.cause) parts.push(c.message);
  return parts.length === 0 ? String(e) : parts.join(': ');
}
