import { z } from 'zod';
import { WriteError } from '@scribe/protocol';
import { toEntity } from '../entities.js';
import type { SqlValue } from '../sql-tx.js';
import type { WriteContext } from '../write-registry.js';
import { isRfc3339 } from '../time.js';
import { uuidv7 } from '@scribe/protocol';

/** 9999-12-31T23:59:59Z: the last second an RFC 3339 time can name. */
const MAX_UNIX_SECONDS = 253_402_300_799;

/** An id: a non-empty string of at most 200 characters. */
export const id = z.string().min(1).max(200);
/** A free-text field that must be present. */
export const text = z.string();
/** A non-empty name-like field. */
export const name = z.string().min(1);
/** A nullable, optional text column. */
export const optionalText = z.string().nullable().optional();
/**
 * A time: an RFC 3339 string (stored as given), or whole Unix seconds as the reference
 * client sends its `int64` times (stored as RFC 3339 UTC with milliseconds, like the
 * times the store sets).
 */
const TIME_EXPECTED = 'an RFC 3339 time or whole Unix seconds';
export const timestamp = z
  // One check rather than a union of two schemas: a time is in many hot writes, and this is as fast as a plain string.
  .custom<string | number>(
    (v) => (typeof v === 'string' ? isRfc3339(v) : Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_UNIX_SECONDS),
    { message: TIME_EXPECTED },
  )
  .transform((v) => (typeof v === 'number' ? new Date(v * 1000).toISOString() : v));
/** A non-negative integer counter. */
export const count = z.number().int().min(0);
/** A boolean column: `true`/`false`, or `1`/`0` as the reference client's `int64` flags. */
export const flag = z
  .union([z.boolean(), z.literal(0), z.literal(1)], { error: 'a boolean (or 0 or 1)' })
  .transform((v) => v === true || v === 1);

/** The id to use for a new row: the caller's, or a fresh time-ordered UUID (v7). */
export function newId(given: string | undefined): string {
  return given ?? uuidv7();
}

/** Reads the row of `table` with `id`, or throws NOT_FOUND naming the write. */
export async function mustGet<T>(ctx: WriteContext, table: string, rowId: string, method: string): Promise<T> {
  const row = await ctx.tx.get(`SELECT * FROM ${table} WHERE id = ?`, [rowId]);
  if (row === undefined) {
    throw new WriteError('NOT_FOUND', `${method}: no row in ${table} with id ${JSON.stringify(rowId)}`, { method });
  }
  return toEntity<T>(table, row);
}

/** Reads the row of `table` with `id` (undefined when absent). */
export async function getRow<T>(ctx: WriteContext, table: string, rowId: string): Promise<T | undefined> {
  return toEntity<T | undefined>(table, await ctx.tx.get(`SELECT * FROM ${table} WHERE id = ?`, [rowId]));
}

/** `UPDATE table SET a = ?, b = ?, updated_at = ? WHERE id = ?` for the given fields, then the row (NOT_FOUND when absent). */
export async function updateRow<T>(
  ctx: WriteContext,
  table: string,
  rowId: string,
  fields: Record<string, unknown>,
  method: string,
  touch = true,
): Promise<T> {
  const cols = Object.keys(fields).filter((k) => fields[k] !== undefined);
  const sets = cols.map((c) => `${c} = ?`);
  const values = cols.map((c) => toSql(fields[c]));
  if (touch) {
    sets.push('updated_at = ?');
    values.push(ctx.now);
  }
  if (sets.length === 0) return mustGet<T>(ctx, table, rowId, method);
  values.push(rowId);
  const info = await ctx.tx.run(`UPDATE ${table} SET ${sets.join(', ')} WHERE id = ?`, values);
  if (info.changes === 0) {
    throw new WriteError('NOT_FOUND', `${method}: no row in ${table} with id ${JSON.stringify(rowId)}`, { method });
  }
  ctx.change(table, rowId, 'updated');
  return mustGet<T>(ctx, table, rowId, method);
}

/**
 * A params value as a bound SQL value: booleans as 1/0 (neither engine's schema has a
 * boolean column here: they are INTEGER 0/1 on both), undefined as null. Anything else
 * that is not a string, number, bigint or null is a programming error (TypeError).
 */
export function toSql(v: unknown): SqlValue {
  if (v === true) return 1;
  if (v === false) return 0;
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') return v;
  throw new TypeError(`Expected a string, number, bigint, boolean or null to bind, got ${typeof v}`);
}

/** Deletes `WHERE column = value` from `table`, reporting each deleted id as a change. */
export async function deleteWhere(ctx: WriteContext, table: string, column: string, value: string): Promise<number> {
  const ids = await ctx.tx.all<{ id: string }>(`SELECT id FROM ${table} WHERE ${column} = ?`, [value]);
  if (ids.length === 0) return 0;
  await ctx.tx.run(`DELETE FROM ${table} WHERE ${column} = ?`, [value]);
  for (const r of ids) ctx.change(table, r.id, 'deleted');
  return ids.length;
}
