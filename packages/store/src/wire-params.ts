/**
 * The value keys of Go's `database/sql` nullable types as `encoding/json` writes them
 * (they have no JSON methods, so a `sql.NullString` goes out as `{"String": "x", "Valid": true}`).
 */
export const GO_NULL_VALUE_KEYS = Object.freeze(['String', 'Int64', 'Int32', 'Int16', 'Byte', 'Float64', 'Bool', 'Time'] as const);

const VALUE_KEYS: ReadonlySet<string> = new Set(GO_NULL_VALUE_KEYS);

/**
 * Turns the shapes a client written to the reference contract (Go, sqlc-generated
 * params) sends into scribe's natural JSON, before the write's schema sees them:
 *
 * - a bare string as the whole params of an id-only write becomes `{ [bareParam]: s }`
 *   (a write without `bareParam` gets the string unchanged, and its schema refuses it);
 * - a top-level field holding a Go `sql.Null*` object (exactly `Valid` (boolean) and one
 *   of {@link GO_NULL_VALUE_KEYS}) becomes its value when `Valid` is true and `null`
 *   when it is false. Anything else, including a malformed wrapper, is left for the
 *   schema to judge.
 *
 * Pure and allocation-free when there is nothing to change (the usual case), so it
 * sits on the hot path. The params object given is never modified.
 */
export function normaliseWireParams(params: unknown, bareParam: string | undefined, goNullObjects = true): unknown {
  if (typeof params === 'string') return bareParam === undefined ? params : { [bareParam]: params };
  if (!goNullObjects || params === null || typeof params !== 'object' || Array.isArray(params)) return params;
  const fields = params as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  // for…in rather than Object.keys: no array per call on the hot path; params are plain JSON objects.
  for (const key in fields) {
    const value = fields[key];
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(fields, key)) continue;
    const unwrapped = unwrapGoNull(value as Record<string, unknown>);
    if (unwrapped === value) continue;
    out ??= { ...fields };
    out[key] = unwrapped;
  }
  return out ?? params;
}

/** The value of a Go `sql.Null*` object, `null` when not Valid; anything else is returned as is. */
function unwrapGoNull(value: Record<string, unknown>): unknown {
  const keys = Object.keys(value);
  if (keys.length !== 2 || typeof value.Valid !== 'boolean') return value;
  const valueKey = keys[0] === 'Valid' ? keys[1]! : keys[0]!;
  if (!VALUE_KEYS.has(valueKey)) return value;
  return value.Valid ? value[valueKey] : null;
}
