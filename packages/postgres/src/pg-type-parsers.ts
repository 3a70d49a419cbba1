import pg from 'pg';

/**
 * Type parsers that give rows the same shapes on PostgreSQL as on SQLite, for one
 * pool (never installed globally, so other users of `pg` in the process keep theirs):
 *
 * - `int8` (BIGINT, COUNT(*), SUM of integers): a number; a value beyond
 *   ±(2^53 − 1) throws a RangeError instead of silently losing digits.
 * - `numeric` (what SUM/AVG of some types return): a number.
 * - `float4`/`float8`, `int2`/`int4`: numbers (pg's default).
 * - `bool`: 1 or 0, as SQLite has no booleans (scribe's schema stores 0/1 integers).
 * - `json`/`jsonb`, dates, times, timestamps and intervals: the server's text, as
 *   SQLite returns TEXT (scribe stores times as RFC 3339 text and JSON as text).
 * - `text`, `varchar`: strings (pg's default).
 */

/** PostgreSQL type oids this file parses. */
export const PG_OIDS = Object.freeze({
  bool: 16,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  json: 114,
  float4: 700,
  float8: 701,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  timetz: 1266,
  numeric: 1700,
  jsonb: 3802,
});

/** Parses an `int8` as a number, refusing one that does not fit a double exactly. */
export function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`Expected a BIGINT within ±(2^53 - 1) (what a JavaScript number holds exactly), got ${text}`);
  }
  return value;
}

/** Parses a `numeric` as a number. */
export function parseNumeric(text: string): number {
  return Number(text);
}

const asText = (text: string): string => text;

const TEXT_PARSERS: ReadonlyMap<number, (text: string) => unknown> = new Map<number, (text: string) => unknown>([
  [PG_OIDS.int8, parseInt8],
  [PG_OIDS.numeric, parseNumeric],
  [PG_OIDS.bool, (text: string) => (text === 't' ? 1 : 0)],
  [PG_OIDS.json, asText],
  [PG_OIDS.jsonb, asText],
  [PG_OIDS.date, asText],
  [PG_OIDS.time, asText],
  [PG_OIDS.timetz, asText],
  [PG_OIDS.timestamp, asText],
  [PG_OIDS.timestamptz, asText],
  [PG_OIDS.interval, asText],
]);

/** The `types` option of a pg Client or Pool that applies the parsers above. */
export const SCRIBE_PG_TYPES: pg.CustomTypesConfig = Object.freeze({
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary') {
      const parser = TEXT_PARSERS.get(oid);
      if (parser !== undefined) return parser;
    }
    return pg.types.getTypeParser(oid, format ?? 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
});
