/**
 * ` AND a IS NOT DISTINCT FROM ? AND b IS NOT DISTINCT FROM ?` for `columns` (plain
 * identifiers, checked by the caller): null-safe equality, so a null value matches
 * NULL. One text for both engines: SQLite takes it since 3.39 (an alias of its `IS`),
 * and PostgreSQL's `IS` takes only NULL and booleans. The writes and the session's
 * local reads filter rows with it alike.
 */
export function nullSafeWhere(columns: readonly string[]): string {
  return columns.map((c) => ` AND ${c} IS NOT DISTINCT FROM ?`).join('');
}
