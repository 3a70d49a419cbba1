import { z } from 'zod';
import { DATASTORE_ID } from './schema.js';

/** Datastore and merge-pool ids in write params. */
export const dsId = z.string().regex(DATASTORE_ID, 'expected 1–128 letters, digits, _ or -');
/** Subscriber (client) ids in write params. */
export const clientId = z.string().min(1).max(200);
/** Optional time of the mutation (RFC 3339); defaults to the primary's clock. Lets tests and replays drive expiry. */
export const at = z.string().datetime({ offset: true }).optional();

/**
 * Why an existing datastore or pool cannot be reopened as asked (a kind or a key
 * given and different), or undefined when it can. Options not given are not compared.
 */
export function reopenConflict(
  what: string,
  id: string,
  existing: { kind: string; primary_key?: string },
  asked: { kind?: string | undefined; primary_key?: string | undefined },
): { message: string; field: string } | undefined {
  const kind = asked.kind !== undefined && asked.kind !== existing.kind;
  const key = asked.primary_key !== undefined && existing.primary_key !== undefined && asked.primary_key !== existing.primary_key;
  if (!kind && !key) return undefined;
  const parts: string[] = [];
  if (kind) parts.push(`its kind is ${existing.kind}, not ${asked.kind}`);
  if (key) parts.push(`its primary key is ${JSON.stringify(existing.primary_key)}, not ${JSON.stringify(asked.primary_key)}`);
  return { message: `${what} ${JSON.stringify(id)} exists and ${parts.join(', and ')}`, field: kind ? 'params.kind' : 'params.primary_key' };
}

