import type { WriteContext } from '@scribe/store';

/** The time of a mutation: the caller's `at` (RFC 3339) when given, else the primary's clock. */
export function nowOf(ctx: WriteContext, given: string | undefined): string {
  return given === undefined ? ctx.now : new Date(given).toISOString();
}

/** `now + ttl` as RFC 3339, or null for no expiry. */
export function expiresAt(now: string, ttl: number | null): string | null {
  return ttl === null ? null : new Date(Date.parse(now) + ttl).toISOString();
}

/** True when a row with this `expires_at` is expired at `now`. */
export function isExpired(expires: string | null, now: string): boolean {
  return expires !== null && expires <= now;
}

/**
 * The expiry after a mutation at `now`: unchanged (fixed from open, as the
 * reference) unless the row asked for a sliding TTL, which restarts at every mutation.
 */
export function expiryAfterMutation(row: { ttl_ms: number | null; sliding: number; expires_at: string | null }, now: string): string | null {
  return row.sliding === 1 ? expiresAt(now, row.ttl_ms) : row.expires_at;
}
