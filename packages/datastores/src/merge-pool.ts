import { WriteError } from '@scribe/protocol';
import type { Querier, WriteOptions } from '@scribe/store';
import type { DatastoresOptions } from './datastores.js';
import type { MergePoolRow, MergeResult } from './merge-pool-writes.js';
import { poolEntity, type DatastoreKind } from './schema.js';

/** Options of {@link Datastores.openPool}: they shape a new pool; a reopen compares only `kind`. */
export interface OpenMergePoolOptions {
  /** Default `temp`. */
  kind?: DatastoreKind;
  /** Temp only: the pool expires this long after it was opened. Default one hour. */
  ttlMs?: number;
  /** Temp only: restart the TTL at every merge that changes something instead. Default false. */
  slidingTtl?: boolean;
}

/** The state of a pool at one seq: apply later deltas to it in seq order. */
export interface PoolState<T extends Record<string, unknown> = Record<string, unknown>> {
  /** The pool's seq this state is at. */
  seq: number;
  state: T;
}

/** What changed in a pool after a seq: `set` fields to their new values, remove `deleted` ones. */
export interface PoolDelta {
  /** The pool's seq after these changes (the `since` of the next call). */
  seq: number;
  set: Record<string, unknown>;
  deleted: string[];
}

/** One changed field as a watcher sees it. */
export interface PoolEvent {
  /** The change-feed seq (global, gap-free): keep it to resume with `since`. */
  changeSeq: number;
  field: string;
  op: 'created' | 'updated' | 'deleted';
  /** The field's value when the watcher reads it (undefined once removed). */
  value: unknown;
}

/** What a {@link MergePool} needs from its {@link Datastores}. */
interface PoolOwner {
  now(): string;
  poolRow(id: string): Promise<MergePoolRow | undefined>;
}

function notFound(id: string): WriteError {
  return new WriteError('NOT_FOUND', `no merge pool ${JSON.stringify(id)} (unknown or expired)`, { method: null, field: 'pool_id' });
}

/**
 * A merge pool (passive sync): one shared JSON object that clients converge
 * through. A client merges what it knows (`merge(patch)`, a JSON Merge Patch per
 * field) without reading first and without a key or a conflict check; the primary
 * orders merges by arrival, so the last arrival wins per field. Every client that
 * applies the changes in seq order (`changesSince`, or `watch`) reaches the same
 * state as `state()`. Works from any node; reads are local.
 */
export class MergePool<T extends Record<string, unknown> = Record<string, unknown>> {
  readonly id: string;
  readonly kind: DatastoreKind;
  readonly #owner: PoolOwner;
  readonly #q: Querier;
  readonly #changes: DatastoresOptions['changes'];

  /** @internal use {@link Datastores.openPool}. */
  constructor(owner: PoolOwner, querier: Querier, changes: DatastoresOptions['changes'], row: MergePoolRow) {
    this.#owner = owner;
    this.#q = querier;
    this.#changes = changes;
    this.id = row.id;
    this.kind = row.kind;
  }

  /**
   * Merges `patch` into the pool: per top-level field a JSON Merge Patch (RFC 7386):
   * `null` removes the field, an object merges into the field's object, anything
   * else replaces it. `clientId` is recorded as the field's last writer. Resolves
   * with the pool's seq, the fields it changed and the subscribers to tell.
   */
  async merge(patch: Partial<{ [K in keyof T]: T[K] | null }> & Record<string, unknown>, options: WriteOptions & { clientId?: string } = {}): Promise<MergeResult> {
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
      throw new TypeError(`Expected 'patch' to be an object of field → value, got ${Array.isArray(patch) ? 'an array' : String(patch)}`);
    }
    const { clientId, ...writeOptions } = options;
    return this.#q.write<MergeResult>(
      'MergeIntoPool',
      { pool_id: this.id, patch, ...(clientId === undefined ? {} : { client_id: clientId }), at: this.#owner.now() },
      writeOptions,
    );
  }

  /** The whole state and the seq it is at, from one consistent read. NOT_FOUND when unknown or expired. */
  async state(): Promise<PoolState<T>> {
    const rows = await this.#read(0);
    const state: Record<string, unknown> = {};
    for (const r of rows) if (r.field !== null && r.value !== null) state[r.field] = JSON.parse(r.value);
    return { seq: rows[0]!.pool_seq, state: state as T };
  }

  /**
   * What changed after `since` (a seq from {@link state} or an earlier delta), from one
   * consistent read: the fields set since, with their values now, and the fields removed.
   */
  async changesSince(since: number): Promise<PoolDelta> {
    if (!Number.isInteger(since) || since < 0) throw new TypeError(`Expected 'since' to be an integer from 0 and up, got ${String(since)}`);
    const rows = await this.#read(since);
    const delta: PoolDelta = { seq: rows[0]!.pool_seq, set: {}, deleted: [] };
    for (const r of rows) {
      if (r.field === null) continue;
      if (r.value === null) delta.deleted.push(r.field);
      else delta.set[r.field] = JSON.parse(r.value);
    }
    return delta;
  }

  /** The pool's seq now (grows by one per merge that changed something). */
  async seq(): Promise<number> {
    const row = await this.#owner.poolRow(this.id);
    if (row === undefined) throw notFound(this.id);
    return row.seq;
  }

  /** Subscribes a client id (reported with every merge). */
  subscribe(clientId: string): Promise<{ subscribers: string[] }> {
    return this.#q.write('SubscribeMergePool', { pool_id: this.id, client_id: clientId, at: this.#owner.now() });
  }

  /** Unsubscribes a client id. */
  unsubscribe(clientId: string): Promise<{ subscribers: string[] }> {
    return this.#q.write('UnsubscribeMergePool', { pool_id: this.id, client_id: clientId, at: this.#owner.now() });
  }

  /** The subscribed client ids, read locally. */
  async subscribers(): Promise<string[]> {
    if ((await this.#owner.poolRow(this.id)) === undefined) throw notFound(this.id);
    const rows = await this.#q.query<{ client_id: string }>(
      'SELECT client_id FROM _merge_pool_subscribers WHERE pool_id = ? ORDER BY subscribed_at, client_id',
      [this.id],
    );
    return rows.map((r) => r.client_id);
  }

  /**
   * Every field change in commit order, each once, through the node's change feed
   * (on any node, across reconnects and failovers). Pass the last `changeSeq` you
   * handled as `since` to resume.
   */
  async *watch(options: { since?: number; signal?: AbortSignal } = {}): AsyncGenerator<PoolEvent, void, undefined> {
    if (this.#changes === undefined) throw new TypeError('MergePool.watch needs the node’s change feed: pass `changes: node.changes.bind(node)`');
    for await (const c of this.#changes({ ...options, topics: [`db.${poolEntity(this.id)}.`] })) {
      const [r] = await this.#q.query<{ value: string | null }>('SELECT value FROM _merge_pool_fields WHERE pool_id = ? AND field = ?', [this.id, c.key]);
      yield { changeSeq: c.seq, field: c.key, op: c.op, value: r?.value == null ? undefined : JSON.parse(r.value) };
    }
  }

  /** The pool's seq with its fields changed after `since` (tombstones included), in one statement; NOT_FOUND when unknown or expired. */
  async #read(since: number): Promise<Array<{ pool_seq: number; field: string | null; value: string | null }>> {
    const rows = await this.#q.query<{ pool_seq: number; field: string | null; value: string | null }>(
      `SELECT p.seq AS pool_seq, f.field, f.value FROM _merge_pools p
       LEFT JOIN _merge_pool_fields f ON f.pool_id = p.id AND f.seq > ?
       WHERE p.id = ? AND (p.expires_at IS NULL OR p.expires_at > ?) ORDER BY f.seq, f.field`,
      [since, this.id, this.#owner.now()],
    );
    if (rows.length === 0) throw notFound(this.id);
    return rows;
  }
}
