/**
 * A string as a PostgreSQL string constant, for statements sent over the simple query
 * protocol (which takes no bound values, but several statements in one round trip;
 * see {@link PgDeferredStatements}). Without a backslash it is a standard string
 * (`'…'`, quotes doubled); with one, an escape string (`E'…'`, backslashes doubled too),
 * which reads the same whatever `standard_conforming_strings` says. PostgreSQL text
 * cannot hold U+0000 (and the protocol ends the query text at it): such a value is
 * refused with a RangeError, never sent.
 */
export function pgLiteral(value: string): string {
  if (value.includes('\0')) throw new RangeError('a PostgreSQL string cannot hold the character U+0000');
  const quoted = value.replaceAll("'", "''");
  return value.includes('\\') ? `E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`;
}

/** True when `value` can be a PostgreSQL string (it holds no U+0000). */
export function isPgText(value: string): boolean {
  return !value.includes('\0');
}
