/**
 * Strings that cannot be stored as valid UTF-8. JavaScript strings are UTF-16 and
 * may hold a lone surrogate (`"\ud800"`); SQLite would store it as bytes that no
 * other client can decode. A write's params are checked once, where every write is
 * validated (the write registry), and such a string is refused naming its field.
 */

/** Any surrogate code unit: the cheap test that lets ordinary text skip the exact one. */
const ANY_SURROGATE = /[\uD800-\uDFFF]/;
/** A high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when `text` holds a lone surrogate (is not well-formed UTF-16). */
export function hasLoneSurrogate(text: string): boolean {
  return ANY_SURROGATE.test(text) && LONE_SURROGATE.test(text);
}

/**
 * The path (`params.parts.0.text`, or `params` for a bare string) of the first
 * string, or object key, in `value` that holds a lone surrogate; undefined when
 * there is none. Walks arrays and plain objects; a value seen twice is walked once.
 */
export function findLoneSurrogate(value: unknown, path = 'params'): string | undefined {
  return walk(value, path, new Set());
}

function walk(value: unknown, path: string, seen: Set<object>): string | undefined {
  if (typeof value === 'string') return hasLoneSurrogate(value) ? path : undefined;
  if (value === null || typeof value !== 'object' || seen.has(value)) return undefined;
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = walk(value[i], `${path}.${i}`, seen);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, v] of Object.entries(value)) {
    if (hasLoneSurrogate(key)) return `${path}.${JSON.stringify(key).slice(1, -1)}`;
    const found = walk(v, `${path}.${key}`, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}
