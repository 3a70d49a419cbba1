/** A plain SQL identifier: safe to splice into SQL without quoting. */
export const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The table where the open sessions are registered (this package's own). */
export const SESSIONS_TABLE = '_shadow_sessions';

/** Prefixes of tables no shadow session may use: SQLite's and scribe's internals. */
const RESERVED_PREFIXES = ['sqlite_', '_scribe_'] as const;

/** True for `[A-Za-z_][A-Za-z0-9_]*` (at most 128 characters). */
export function isPlainIdentifier(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 128 && PLAIN_IDENTIFIER.test(value);
}

/**
 * Why `name` cannot be a shadow or seed table, or undefined when it can. Table names
 * are compared without case, as SQLite does.
 */
export function tableNameProblem(name: unknown): string | undefined {
  if (!isPlainIdentifier(name)) return 'is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*, at most 128 characters, no quoting)';
  const lower = name.toLowerCase();
  if (lower === SESSIONS_TABLE || RESERVED_PREFIXES.some((p) => lower.startsWith(p))) {
    return `is reserved (${SESSIONS_TABLE}, sqlite_* and _scribe_* tables cannot be shadow or seed tables)`;
  }
  return undefined;
}
