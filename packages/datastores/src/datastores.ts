import { randomBytes } from 'node:crypto';
import { WriteError } from '@scribe/protocol';
import type { Querier, StoredChange } from '@scribe/store';
import type { DatastoreRow, MutationResult } from './datastore-writes.js';
import type { MergePoolRow } from './merge-pool-writes.js';
import { MergePool, type OpenMergePoolOptions } from './merge-pool.js';
import { DATASTORE_ID, datastoreEntity, type DatastoreKind } from './schema.js';

/** What {@link Datastores} needs from a node: its querier and (for `watch`) its change feed. */
export interface DatastoresOptions {
  querier: Querier;
  /** `node.changes.bind(node)`; needed only by {@link Datastore.watch}. */
  changes?: (options: { since?: number; topics?: readonly string[]; signal?: AbortSignal }) => AsyncIterable<StoredChange>;
  /** The time used for expiry, on reads and (sent as `at`) on writes. Default: real time. Tests inject one. */
  clock?: () => Date;
}

/**
 * Options of {@link Datastores.open}. They shape a datastore when it is created; a
 * reopen returns the existing one, and only a `kind` or `primaryKey` that is given
 * and differs from it is an error (CONFLICT, saying which).
 */
export interface OpenDatastoreOptions {
  /** Default `temp`. */
  kind?: DatastoreKind;
  /** The field of each record that keys it. Default `id`. */
  primaryKey?: string;
  /** Temp only: the datastore expires this long after it was opened (created). Default one hour. */
  ttlMs?: number;
  /**
   * Temp only: restart the TTL at every mutation instead (a sliding expiry: the
   * datastore lives while it is used). Default false: the expiry is fixed at open,
   * as the reference's.
   */
  slidingTtl?: boolean;
}

/** One record as read: its key, the datastore seq of its last mutation, and its data. */
export interface DatastoreRecord<T = Record<string, unknown>> {
  key: string;
  seq: number;
  data: T;
}

/** One mutation as a watcher sees it. */
export interface DatastoreEvent<T = Record<string, unknown>> {
  /** The change-feed seq (global, gap-free): keep it to resume with `since`. */
  changeSeq: number;
  key: string;
  op: 'created' | 'updated' | 'deleted';
  /** The record as it is when the watcher reads it (undefined once deleted). */
  record: DatastoreRecord<T> | undefined;
}

function notFound(id: string): WriteError {
  return new WriteError('NOT_FOUND', `no datastore ${JSON.stringify(id)} (unknown or expired)`, { method: null, field: 'datastore_id' });
}

/**
 * Shared datastores: server-authoritative keyed collections. Mutations are writes
 * through the primary's write path (they work from any node); reads are local.
 * The library starts no timers: schedule {@link purgeExpired} with the node's
 * `maintenance` option.
 */
export class Datastores {
  readonly #q: Querier;
  readonly #changes: DatastoresOptions['changes'];
  readonly #clock: () => Date;

  constructor(options: DatastoresOptions) {
    this.#q = options.querier;
    this.#changes = options.changes;
    this.#clock = options.clock ?? (() => new Date());
  }

  /** The time as this instance sees it, RFC 3339. */
  now(): string {
    return this.#clock().toISOString();
  }

  /** Returns the datastore, creating it when absent; without an id, a fresh random public id. */
  async open(id?: string, options: OpenDatastoreOptions = {}): Promise<Datastore> {
    const dsId = id ?? randomBytes(12).toString('base64url');
    if (!DATASTORE_ID.test(dsId)) {
      throw new WriteError('INVALID_PARAMS', `Expected the datastore id to be 1–128 letters, digits, _ or -, got ${JSON.stringify(dsId)}`, {
        method: 'OpenDatastore',
        field: 'params.id',
      });
    }
    // Only what the caller gave: the primary applies the defaults on create, and compares only these on a reopen.
    const row = (await this.#q.write('OpenDatastore', {
      id: dsId,
      ...(options.kind === undefined ? {} : { kind: options.kind }),
      ...(options.primaryKey === undefined ? {} : { primary_key: options.primaryKey }),
      ...(options.ttlMs === undefined ? {} : { ttl_ms: options.ttlMs }),
      ...(options.slidingTtl === undefined ? {} : { sliding: options.slidingTtl }),
      at: this.now(),
    })) as DatastoreRow;
    return new Datastore(this, this.#q, this.#changes, row);
  }

  /**
   * Returns the merge pool, creating it when absent; without an id, a fresh random
   * public id. Like {@link open}, the options shape a new pool, and only a different
   * `kind` given on a reopen is CONFLICT.
   */
  async openPool(id?: string, options: OpenMergePoolOptions = {}): Promise<MergePool> {
    const poolId = id ?? randomBytes(12).toString('base64url');
    if (!DATASTORE_ID.test(poolId)) {
      throw new WriteError('INVALID_PARAMS', `Expected the merge pool id to be 1–128 letters, digits, _ or -, got ${JSON.stringify(poolId)}`, {
        method: 'OpenMergePool',
        field: 'params.id',
      });
    }
    const row = await this.#q.write<MergePoolRow>('OpenMergePool', {
      id: poolId,
      ...(options.kind === undefined ? {} : { kind: options.kind }),
      ...(options.ttlMs === undefined ? {} : { ttl_ms: options.ttlMs }),
      ...(options.slidingTtl === undefined ? {} : { sliding: options.slidingTtl }),
      at: this.now(),
    });
    return new MergePool(this, this.#q, this.#changes, row);
  }

  /** The merge pool if it exists and has not expired (no write). */
  async getPool(id: string): Promise<MergePool | undefined> {
    const row = await this.poolRow(id);
    return row === undefined ? undefined : new MergePool(this, this.#q, this.#changes, row);
  }

  /** @internal The live row of a merge pool, read locally. */
  async poolRow(id: string): Promise<MergePoolRow | undefined> {
    const [row] = await this.#q.query<MergePoolRow>('SELECT * FROM _merge_pools WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)', [id, this.now()]);
    return row;
  }

  /** The datastore if it exists and has not expired (no write). */
  async get(id: string): Promise<Datastore | undefined> {
    const row = await this.row(id);
    return row === undefined ? undefined : new Datastore(this, this.#q, this.#changes, row);
  }

  /** Removes every expired datastore and merge pool; returns how many. */
  async purgeExpired(): Promise<number> {
    const r = (await this.#q.write('PurgeExpiredDatastores', { at: this.now() })) as { purged: number };
    return r.purged;
  }

  /** Drops a client from every datastore and merge pool at once (on disconnect); returns the ids of those it left. */
  async dropClient(clientId: string): Promise<{ datastores: string[]; pools: string[] }> {
    return this.#q.write<{ datastores: string[]; pools: string[] }>('DropDatastoreClient', { client_id: clientId });
  }

  /** @internal The live row of a datastore, read locally. */
  async row(id: string): Promise<DatastoreRow | undefined> {
    const [row] = await this.#q.query<DatastoreRow>(
      'SELECT * FROM _datastores WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)',
      [id, this.now()],
    );
    return row;
  }
}

/** One datastore. Mutations resolve after the primary committed them. */
export class Datastore<T extends Record<string, unknown> = Record<string, unknown>> {
  readonly id: string;
  readonly kind: DatastoreKind;
  readonly primaryKey: string;
  readonly #owner: Datastores;
  readonly #q: Querier;
  readonly #changes: DatastoresOptions['changes'];

  /** @internal use {@link Datastores.open}. */
  constructor(owner: Datastores, querier: Querier, changes: DatastoresOptions['changes'], row: DatastoreRow) {
    this.#owner = owner;
    this.#q = querier;
    this.#changes = changes;
    this.id = row.id;
    this.kind = row.kind;
    this.primaryKey = row.primary_key;
  }

  /** Upserts `data` keyed by `data[primaryKey]`; returns the mutation with the subscribers to tell. */
  set(data: T): Promise<MutationResult> {
    return this.#q.write<MutationResult>('SetDatastoreRecord', { datastore_id: this.id, data, at: this.#owner.now() });
  }

  /** Deletes a record; null when there was none. */
  delete(key: string): Promise<MutationResult | null> {
    return this.#q.write<MutationResult | null>('DeleteDatastoreRecord', { datastore_id: this.id, key, at: this.#owner.now() });
  }

  /** One record's data, or undefined. NOT_FOUND when the datastore is unknown or expired. */
  async get(key: string): Promise<T | undefined> {
    await this.#live();
    const [r] = await this.#q.query<{ data: string }>('SELECT data FROM _datastore_records WHERE datastore_id = ? AND key = ?', [this.id, key]);
    return r === undefined ? undefined : (JSON.parse(r.data) as T);
  }

  /** Every record, ordered by the seq of its last mutation. NOT_FOUND when unknown or expired. */
  async snapshot(): Promise<Array<DatastoreRecord<T>>> {
    await this.#live();
    const rows = await this.#q.query<{ key: string; seq: number; data: string }>(
      'SELECT key, seq, data FROM _datastore_records WHERE datastore_id = ? ORDER BY seq',
      [this.id],
    );
    return rows.map((r) => ({ key: r.key, seq: r.seq, data: JSON.parse(r.data) as T }));
  }

  /** The datastore's seq now (grows by one per mutation). */
  async seq(): Promise<number> {
    return (await this.#live()).seq;
  }

  subscribe(clientId: string): Promise<{ subscribers: string[] }> {
    return this.#q.write('SubscribeDatastore', { datastore_id: this.id, client_id: clientId, at: this.#owner.now() });
  }

  unsubscribe(clientId: string): Promise<{ subscribers: string[] }> {
    return this.#q.write('UnsubscribeDatastore', { datastore_id: this.id, client_id: clientId, at: this.#owner.now() });
  }

  /** The subscribed client ids, read locally. */
  async subscribers(): Promise<string[]> {
    await this.#live();
    const rows = await this.#q.query<{ client_id: string }>(
      'SELECT client_id FROM _datastore_subscribers WHERE datastore_id = ? ORDER BY subscribed_at, client_id',
      [this.id],
    );
    return rows.map((r) => r.client_id);
  }

  /**
   * This datastore's mutations in commit order, each once, through the node's
   * change feed (so on any node, across reconnects and failovers). Pass the last
   * `changeSeq` you handled as `since` to resume.
   */
  async *watch(options: { since?: number; signal?: AbortSignal } = {}): AsyncGenerator<DatastoreEvent<T>, void, undefined> {
    if (this.#changes === undefined) throw new TypeError('Datastore.watch needs the node’s change feed: pass `changes: node.changes.bind(node)`');
    const topics = [`db.${datastoreEntity(this.id)}.`];
    for await (const c of this.#changes({ ...options, topics })) {
      const [r] = await this.#q.query<{ key: string; seq: number; data: string }>(
        'SELECT key, seq, data FROM _datastore_records WHERE datastore_id = ? AND key = ?',
        [this.id, c.key],
      );
      yield {
        changeSeq: c.seq,
        key: c.key,
        op: c.op,
        record: r === undefined ? undefined : { key: r.key, seq: r.seq, data: JSON.parse(r.data) as T },
      };
    }
  }

  async #live(): Promise<DatastoreRow> {
    const row = await this.#owner.row(this.id);
    if (row === undefined) throw notFound(this.id);
    return row;
  }
}
