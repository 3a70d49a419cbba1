import { z } from 'zod';
import { WriteError } from '@scribe/protocol';
import { defineWrite, forUpdate, type WriteContext, type WriteDefinition, type WriteRegistry } from '@scribe/store';
import { DATASTORE_KINDS, DEFAULT_TTL_MS, datastoreEntity } from './schema.js';
import { expiresAt, expiryAfterMutation, isExpired, nowOf } from './expiry.js';
import { MERGE_POOL_WRITES, dropPoolClient, purgeExpiredPools } from './merge-pool-writes.js';
import { at, clientId, dsId, reopenConflict } from './write-params.js';

/** A datastore as stored. */
export interface DatastoreRow {
  id: string;
  kind: 'temp' | 'permanent';
  primary_key: string;
  ttl_ms: number | null;
  /** 1 when the TTL restarts at every mutation; 0 (the default) when the expiry is fixed at open. */
  sliding: number;
  expires_at: string | null;
  seq: number;
  created_at: string;
  updated_at: string;
}

/** What a mutation reports: its place in the datastore and who must hear of it. */
export interface MutationResult {
  datastore_id: string;
  /** The datastore's sequence number after this mutation (grows by one per mutation). */
  seq: number;
  key: string;
  op: 'created' | 'updated' | 'deleted';
  /** The client ids subscribed to the datastore when the mutation committed. */
  subscribers: string[];
}

/** The live (not expired) datastore, or NOT_FOUND naming it. */
async function live(ctx: WriteContext, id: string, now: string, method: string): Promise<DatastoreRow> {
  // Locked to this write (see forUpdate): its seq, expiry and existence hold until it commits.
  const row = await ctx.tx.get<DatastoreRow>(`SELECT * FROM _datastores WHERE id = ?${forUpdate(ctx.tx)}`, [id]);
  if (row === undefined || isExpired(row.expires_at, now)) {
    throw new WriteError('NOT_FOUND', `${method}: no datastore ${JSON.stringify(id)}${row ? ' (it expired)' : ''}`, {
      method,
      field: 'params.datastore_id',
    });
  }
  return row;
}

async function subscribersOf(ctx: WriteContext, id: string): Promise<string[]> {
  const rows = await ctx.tx.all<{ client_id: string }>(
    'SELECT client_id FROM _datastore_subscribers WHERE datastore_id = ? ORDER BY subscribed_at, client_id',
    [id],
  );
  return rows.map((r) => r.client_id);
}

/** Bumps the datastore's seq (and slides its expiry when it was opened with a sliding TTL); returns the new seq. */
async function bump(ctx: WriteContext, ds: DatastoreRow, now: string): Promise<number> {
  // Counted by the database, not from the row read: one seq per mutation, per datastore, whoever runs it.
  const row = await ctx.tx.get<{ seq: number }>('UPDATE _datastores SET seq = seq + 1, updated_at = ?, expires_at = ? WHERE id = ? RETURNING seq', [
    now,
    expiryAfterMutation(ds, now),
    ds.id,
  ]);
  return row!.seq;
}

/** Removes a datastore with its records and subscribers. */
async function remove(ctx: WriteContext, id: string): Promise<void> {
  await ctx.tx.run('DELETE FROM _datastores WHERE id = ?', [id]);
  ctx.change('datastores', id, 'deleted');
}

export const OpenDatastore = defineWrite({
  name: 'OpenDatastore',
  description:
    'Returns the datastore with this id, creating it when absent (or expired: an expired one is replaced by a new, empty one). Reopening returns the existing one whatever ttl_ms or sliding say; only a kind or primary_key that is given and differs is CONFLICT, the message saying which. On create: kind temp, primary_key id, ttl_ms one hour, expiry fixed from open (sliding: true restarts it at every mutation).',
  schema: z.strictObject({
    id: dsId,
    kind: z.enum(DATASTORE_KINDS).optional(),
    primary_key: z.string().min(1).max(200).optional(),
    ttl_ms: z.number().int().min(1).optional(),
    sliding: z.boolean().optional(),
    at,
  }),
  async handler(ctx, p): Promise<DatastoreRow> {
    const now = nowOf(ctx, p.at);
    const existing = await ctx.tx.get<DatastoreRow>(`SELECT * FROM _datastores WHERE id = ?${forUpdate(ctx.tx)}`, [p.id]);
    if (existing !== undefined && !isExpired(existing.expires_at, now)) {
      const conflict = reopenConflict('OpenDatastore: datastore', p.id, existing, p);
      if (conflict !== undefined) throw new WriteError('CONFLICT', conflict.message, { method: 'OpenDatastore', field: conflict.field });
      return existing;
    }
    if (existing !== undefined) await remove(ctx, p.id);
    const kind = p.kind ?? 'temp';
    const ttl = kind === 'temp' ? (p.ttl_ms ?? DEFAULT_TTL_MS) : null;
    const sliding = kind === 'temp' && p.sliding === true ? 1 : 0;
    await ctx.tx.run(
      'INSERT INTO _datastores (id, kind, primary_key, ttl_ms, sliding, expires_at, seq, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)',
      [p.id, kind, p.primary_key ?? 'id', ttl, sliding, expiresAt(now, ttl), now, now],
    );
    ctx.change('datastores', p.id, 'created');
    return (await ctx.tx.get<DatastoreRow>('SELECT * FROM _datastores WHERE id = ?', [p.id]))!;
  },
});

export const SetDatastoreRecord = defineWrite({
  name: 'SetDatastoreRecord',
  description:
    "Upserts a record keyed by data[primary_key] (a missing or non-string key is INVALID_PARAMS); the last arrival at the primary wins. NOT_FOUND for an unknown or expired datastore.",
  schema: z.strictObject({ datastore_id: dsId, data: z.record(z.string(), z.unknown()), at }),
  async handler(ctx, p): Promise<MutationResult> {
    const now = nowOf(ctx, p.at);
    const ds = await live(ctx, p.datastore_id, now, 'SetDatastoreRecord');
    const key = p.data[ds.primary_key];
    if (typeof key !== 'string' || key.length === 0) {
      const field = `params.data.${ds.primary_key}`;
      throw new WriteError('INVALID_PARAMS', `Expected ${field} to be a non-empty string (the datastore's primary key), got ${JSON.stringify(key) ?? 'nothing'}`, {
        method: 'SetDatastoreRecord',
        field,
      });
    }
    const seq = await bump(ctx, ds, now);
    const existed = (await ctx.tx.get('SELECT 1 AS found FROM _datastore_records WHERE datastore_id = ? AND key = ?', [ds.id, key])) !== undefined;
    await ctx.tx.run(
      `INSERT INTO _datastore_records (datastore_id, key, data, seq, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (datastore_id, key) DO UPDATE SET data = excluded.data, seq = excluded.seq, updated_at = excluded.updated_at`,
      [ds.id, key, JSON.stringify(p.data), seq, now],
    );
    const op = existed ? 'updated' : 'created';
    ctx.change(datastoreEntity(ds.id), key, op);
    return { datastore_id: ds.id, seq, key, op, subscribers: await subscribersOf(ctx, ds.id) };
  },
});

export const DeleteDatastoreRecord = defineWrite({
  name: 'DeleteDatastoreRecord',
  description: 'Deletes a record by key. Returns the mutation, or null when there was no such record (nothing changes). NOT_FOUND for an unknown or expired datastore.',
  schema: z.strictObject({ datastore_id: dsId, key: z.string().min(1), at }),
  async handler(ctx, p): Promise<MutationResult | null> {
    const now = nowOf(ctx, p.at);
    const ds = await live(ctx, p.datastore_id, now, 'DeleteDatastoreRecord');
    const info = await ctx.tx.run('DELETE FROM _datastore_records WHERE datastore_id = ? AND key = ?', [ds.id, p.key]);
    if (info.changes === 0) return null;
    const seq = await bump(ctx, ds, now);
    ctx.change(datastoreEntity(ds.id), p.key, 'deleted');
    return { datastore_id: ds.id, seq, key: p.key, op: 'deleted', subscribers: await subscribersOf(ctx, ds.id) };
  },
});

export const SubscribeDatastore = defineWrite({
  name: 'SubscribeDatastore',
  description: 'Subscribes a client id to a datastore (idempotent). Returns the subscribers.',
  schema: z.strictObject({ datastore_id: dsId, client_id: clientId, at }),
  async handler(ctx, p): Promise<{ subscribers: string[] }> {
    const now = nowOf(ctx, p.at);
    const ds = await live(ctx, p.datastore_id, now, 'SubscribeDatastore');
    await ctx.tx.run('INSERT INTO _datastore_subscribers (datastore_id, client_id, subscribed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [
      ds.id,
      p.client_id,
      now,
    ]);
    return { subscribers: await subscribersOf(ctx, ds.id) };
  },
});

export const UnsubscribeDatastore = defineWrite({
  name: 'UnsubscribeDatastore',
  description: 'Unsubscribes a client id from a datastore. Returns the subscribers left.',
  schema: z.strictObject({ datastore_id: dsId, client_id: clientId, at }),
  async handler(ctx, p): Promise<{ subscribers: string[] }> {
    const ds = await live(ctx, p.datastore_id, nowOf(ctx, p.at), 'UnsubscribeDatastore');
    await ctx.tx.run('DELETE FROM _datastore_subscribers WHERE datastore_id = ? AND client_id = ?', [ds.id, p.client_id]);
    return { subscribers: await subscribersOf(ctx, ds.id) };
  },
});

export const DropDatastoreClient = defineWrite({
  name: 'DropDatastoreClient',
  description: 'Removes a client id from every datastore and merge pool at once (on disconnect). Returns the ids of the datastores and of the pools it left.',
  schema: z.strictObject({ client_id: clientId }),
  async handler(ctx, p): Promise<{ datastores: string[]; pools: string[] }> {
    const rows = await ctx.tx.all<{ datastore_id: string }>(
      'SELECT datastore_id FROM _datastore_subscribers WHERE client_id = ? ORDER BY datastore_id',
      [p.client_id],
    );
    await ctx.tx.run('DELETE FROM _datastore_subscribers WHERE client_id = ?', [p.client_id]);
    return { datastores: rows.map((r) => r.datastore_id), pools: await dropPoolClient(ctx, p.client_id) };
  },
});

export const PurgeExpiredDatastores = defineWrite({
  name: 'PurgeExpiredDatastores',
  description:
    'Removes every expired datastore with its records and subscribers, and every expired merge pool with its fields and subscribers. Returns {purged (the total), datastores, pools}.',
  schema: z.strictObject({ at }).nullable().optional(),
  async handler(ctx, p): Promise<{ purged: number; datastores: number; pools: number }> {
    const now = nowOf(ctx, p?.at);
    const ids = await ctx.tx.all<{ id: string }>('SELECT id FROM _datastores WHERE expires_at IS NOT NULL AND expires_at <= ?', [now]);
    for (const { id } of ids) await remove(ctx, id);
    const pools = await purgeExpiredPools(ctx, now);
    return { purged: ids.length + pools, datastores: ids.length, pools };
  },
});

/** Every write of this package: the datastore writes, then the merge-pool writes. */
export const DATASTORE_WRITES: readonly WriteDefinition<any, any>[] = Object.freeze([
  OpenDatastore,
  SetDatastoreRecord,
  DeleteDatastoreRecord,
  SubscribeDatastore,
  UnsubscribeDatastore,
  DropDatastoreClient,
  PurgeExpiredDatastores,
  ...MERGE_POOL_WRITES,
]);

/** Registers the datastore writes on a registry (every process of the cluster must). */
export function registerDatastoreWrites(registry: WriteRegistry): WriteRegistry {
  for (const w of DATASTORE_WRITES) registry.register(w);
  return registry;
}
