import { z } from 'zod';
import { WriteError } from '@scribe/protocol';
import { defineWrite, forUpdate, type WriteContext, type WriteDefinition } from '@scribe/store';
import { DATASTORE_KINDS, DEFAULT_TTL_MS, MAX_POOL_FIELD_LENGTH, poolEntity } from './schema.js';
import { expiresAt, expiryAfterMutation, isExpired, nowOf } from './expiry.js';
import { applyMergePatch } from './merge-patch.js';
import { at, clientId, dsId, reopenConflict } from './write-params.js';

/** A merge pool as stored. */
export interface MergePoolRow {
  id: string;
  kind: 'temp' | 'permanent';
  ttl_ms: number | null;
  /** 1 when the TTL restarts at every merge that changes something; 0 when fixed at open. */
  sliding: number;
  expires_at: string | null;
  /** The pool's sequence number: grows by one per merge that changed something. */
  seq: number;
  created_at: string;
  updated_at: string;
}

/** What a {@link MergeIntoPool} merge reports. */
export interface MergeResult {
  pool_id: string;
  /** The pool's seq after the merge (unchanged when the merge changed nothing). */
  seq: number;
  /** The top-level fields the merge changed, with what happened to each. */
  changed: Array<{ field: string; op: 'created' | 'updated' | 'deleted' }>;
  /** The client ids subscribed to the pool when the merge committed. */
  subscribers: string[];
}

/** Most top-level fields one merge may carry. */
export const MAX_FIELDS_PER_MERGE = 10_000;

const field = z.string().min(1).max(MAX_POOL_FIELD_LENGTH);

/** The live (not expired) pool, or NOT_FOUND naming it. */
async function livePool(ctx: WriteContext, id: string, now: string, method: string): Promise<MergePoolRow> {
  // Locked to this write (see forUpdate): merges into one pool run one after another in every process.
  const row = await ctx.tx.get<MergePoolRow>(`SELECT * FROM _merge_pools WHERE id = ?${forUpdate(ctx.tx)}`, [id]);
  if (row === undefined || isExpired(row.expires_at, now)) {
    throw new WriteError('NOT_FOUND', `${method}: no merge pool ${JSON.stringify(id)}${row ? ' (it expired)' : ''}`, { method, field: 'params.pool_id' });
  }
  return row;
}

async function poolSubscribers(ctx: WriteContext, id: string): Promise<string[]> {
  const rows = await ctx.tx.all<{ client_id: string }>(
    'SELECT client_id FROM _merge_pool_subscribers WHERE pool_id = ? ORDER BY subscribed_at, client_id',
    [id],
  );
  return rows.map((r) => r.client_id);
}

async function removePool(ctx: WriteContext, id: string): Promise<void> {
  await ctx.tx.run('DELETE FROM _merge_pools WHERE id = ?', [id]);
  ctx.change('merge_pools', id, 'deleted');
}

/** @internal Removes every expired pool (for PurgeExpiredDatastores); returns how many. */
export async function purgeExpiredPools(ctx: WriteContext, now: string): Promise<number> {
  const ids = await ctx.tx.all<{ id: string }>('SELECT id FROM _merge_pools WHERE expires_at IS NOT NULL AND expires_at <= ?', [now]);
  for (const { id } of ids) await removePool(ctx, id);
  return ids.length;
}

/** @internal Drops a client from every pool (for DropDatastoreClient); returns the pool ids it left. */
export async function dropPoolClient(ctx: WriteContext, client: string): Promise<string[]> {
  const rows = await ctx.tx.all<{ pool_id: string }>('SELECT pool_id FROM _merge_pool_subscribers WHERE client_id = ? ORDER BY pool_id', [client]);
  await ctx.tx.run('DELETE FROM _merge_pool_subscribers WHERE client_id = ?', [client]);
  return rows.map((r) => r.pool_id);
}

export const OpenMergePool = defineWrite({
  name: 'OpenMergePool',
  description:
    'Returns the merge pool with this id, creating it when absent (or expired). Reopening returns the existing pool; only a kind that is given and differs is CONFLICT. On create: kind temp, ttl_ms one hour, expiry fixed from open (sliding: true restarts it at every merge that changes something).',
  schema: z.strictObject({
    id: dsId,
    kind: z.enum(DATASTORE_KINDS).optional(),
    ttl_ms: z.number().int().min(1).optional(),
    sliding: z.boolean().optional(),
    at,
  }),
  async handler(ctx, p): Promise<MergePoolRow> {
    const now = nowOf(ctx, p.at);
    const existing = await ctx.tx.get<MergePoolRow>(`SELECT * FROM _merge_pools WHERE id = ?${forUpdate(ctx.tx)}`, [p.id]);
    if (existing !== undefined && !isExpired(existing.expires_at, now)) {
      const conflict = reopenConflict('OpenMergePool: merge pool', p.id, existing, p);
      if (conflict !== undefined) throw new WriteError('CONFLICT', conflict.message, { method: 'OpenMergePool', field: conflict.field });
      return existing;
    }
    if (existing !== undefined) await removePool(ctx, p.id);
    const kind = p.kind ?? 'temp';
    const ttl = kind === 'temp' ? (p.ttl_ms ?? DEFAULT_TTL_MS) : null;
    const sliding = kind === 'temp' && p.sliding === true ? 1 : 0;
    await ctx.tx.run('INSERT INTO _merge_pools (id, kind, ttl_ms, sliding, expires_at, seq, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)', [
      p.id,
      kind,
      ttl,
      sliding,
      expiresAt(now, ttl),
      now,
      now,
    ]);
    ctx.change('merge_pools', p.id, 'created');
    return (await ctx.tx.get<MergePoolRow>('SELECT * FROM _merge_pools WHERE id = ?', [p.id]))!;
  },
});

/**
 * `MergeIntoPool`: merges a patch into the pool's state (a JSON object), field by
 * field, as a JSON Merge Patch (RFC 7386): `null` removes a field, an object merges
 * into the field's object, anything else replaces it. Writes are ordered by arrival
 * at the primary, so every client that applies the merges in seq order converges on
 * the same state. A merge that changes nothing bumps nothing.
 */
export const MergeIntoPool = defineWrite({
  name: 'MergeIntoPool',
  description:
    "Merges `patch` into the pool's state as a JSON Merge Patch (RFC 7386) per top-level field (null removes it); the last arrival at the primary wins. One seq per merge that changes something; each changed field is stamped with it. Returns {pool_id, seq, changed, subscribers}. NOT_FOUND for an unknown or expired pool.",
  schema: z.strictObject({
    pool_id: dsId,
    patch: z.record(field, z.unknown()).refine((o) => Object.keys(o).length <= MAX_FIELDS_PER_MERGE, {
      message: `at most ${MAX_FIELDS_PER_MERGE} fields`,
    }),
    client_id: clientId.optional(),
    at,
  }),
  async handler(ctx, p): Promise<MergeResult> {
    const method = 'MergeIntoPool';
    const now = nowOf(ctx, p.at);
    const pool = await livePool(ctx, p.pool_id, now, method);
    const read = 'SELECT value FROM _merge_pool_fields WHERE pool_id = ? AND field = ?';
    const updates: Array<{ field: string; value: string | null; op: 'created' | 'updated' | 'deleted' }> = [];
    for (const [name, patch] of Object.entries(p.patch)) {
      if (patch === undefined) continue; // not JSON: a member that is not there
      const row = await ctx.tx.get<{ value: string | null }>(read, [pool.id, name]);
      const before = row?.value ?? null;
      const next = patch === null ? undefined : applyMergePatch(before === null ? undefined : JSON.parse(before), patch);
      const text = next === undefined ? null : JSON.stringify(next);
      if (next !== undefined && typeof text !== 'string') {
        throw new WriteError('INVALID_PARAMS', `Expected params.patch.${name} to be a JSON value`, { method, field: `params.patch.${name}` });
      }
      if (text === before) continue;
      updates.push({ field: name, value: text, op: text === null ? 'deleted' : before === null ? 'created' : 'updated' });
    }
    if (updates.length === 0) return { pool_id: pool.id, seq: pool.seq, changed: [], subscribers: await poolSubscribers(ctx, pool.id) };
    const seq = (await ctx.tx.get<{ seq: number }>('UPDATE _merge_pools SET seq = seq + 1, updated_at = ?, expires_at = ? WHERE id = ? RETURNING seq', [
      now,
      expiryAfterMutation(pool, now),
      pool.id,
    ]))!.seq;
    // A removed field keeps its row with a NULL value (a tombstone), so a client catching up from an older seq hears of the removal.
    const write = `INSERT INTO _merge_pool_fields (pool_id, field, value, seq, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (pool_id, field) DO UPDATE SET value = excluded.value, seq = excluded.seq, updated_by = excluded.updated_by, updated_at = excluded.updated_at`;
    const entity = poolEntity(pool.id);
    for (const u of updates) {
      await ctx.tx.run(write, [pool.id, u.field, u.value, seq, p.client_id ?? null, now]);
      ctx.change(entity, u.field, u.op);
    }
    return {
      pool_id: pool.id,
      seq,
      changed: updates.map((u) => ({ field: u.field, op: u.op })),
      subscribers: await poolSubscribers(ctx, pool.id),
    };
  },
});

export const SubscribeMergePool = defineWrite({
  name: 'SubscribeMergePool',
  description: 'Subscribes a client id to a merge pool (idempotent). Returns the subscribers.',
  schema: z.strictObject({ pool_id: dsId, client_id: clientId, at }),
  async handler(ctx, p): Promise<{ subscribers: string[] }> {
    const now = nowOf(ctx, p.at);
    const pool = await livePool(ctx, p.pool_id, now, 'SubscribeMergePool');
    await ctx.tx.run('INSERT INTO _merge_pool_subscribers (pool_id, client_id, subscribed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [
      pool.id,
      p.client_id,
      now,
    ]);
    return { subscribers: await poolSubscribers(ctx, pool.id) };
  },
});

export const UnsubscribeMergePool = defineWrite({
  name: 'UnsubscribeMergePool',
  description: 'Unsubscribes a client id from a merge pool. Returns the subscribers left.',
  schema: z.strictObject({ pool_id: dsId, client_id: clientId, at }),
  async handler(ctx, p): Promise<{ subscribers: string[] }> {
    const pool = await livePool(ctx, p.pool_id, nowOf(ctx, p.at), 'UnsubscribeMergePool');
    await ctx.tx.run('DELETE FROM _merge_pool_subscribers WHERE pool_id = ? AND client_id = ?', [pool.id, p.client_id]);
    return { subscribers: await poolSubscribers(ctx, pool.id) };
  },
});

/** The merge-pool writes (registered with the datastore writes). */
export const MERGE_POOL_WRITES: readonly WriteDefinition<any, any>[] = Object.freeze([OpenMergePool, MergeIntoPool, SubscribeMergePool, UnsubscribeMergePool]);
