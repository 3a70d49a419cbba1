/** A JSON object (not null, not an array). */
function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Applies a JSON Merge Patch (RFC 7386) to `target` without changing either: an
 * object patch merges member by member (`null` removes a member, an object merges
 * into the member recursively), anything else replaces the target. Returns
 * `undefined` only for `patch === undefined`.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}
