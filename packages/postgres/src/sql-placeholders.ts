import type { SqlParams, SqlValue } from '@scribe/store';

/**
 * SQL written for both engines uses `?` placeholders (and raw SQL may use SQLite's
 * named forms `:name`, `@name`, `$name`); PostgreSQL numbers its parameters `$1`, `$2`, ….
 * This file rewrites the one into the other, outside everything that is not SQL code:
 * string literals (`'…'`, with `''` and, after `E`, backslash escapes), quoted
 * identifiers (`"…"`), dollar-quoted bodies (`$$…$$`, `$tag$…$tag$`), line comments
 * (`-- …`) and block comments (`/* … *\/`, nested as PostgreSQL nests them).
 * `::type` casts are never taken for a `:name` parameter, and `$1`-style parameters
 * already in the text are left alone.
 *
 * PostgreSQL's jsonb operators `?`, `?|` and `?&` cannot be written in SQL that binds
 * `?` parameters: use `jsonb_exists(…)`, `jsonb_exists_any(…)`, `jsonb_exists_all(…)`.
 */

/** How one SQL text binds: PostgreSQL's text and where each `$n` takes its value from. */
export interface TranslatedSql {
  /** The SQL with `$1…$n` in place of the placeholders. */
  readonly text: string;
  /** `positional`: the n-th `?` is `$n`; `named`: `$n` is the value of `names[n - 1]`. */
  readonly mode: 'positional' | 'named';
  /** Number of distinct parameters (`$1…$count`). */
  readonly count: number;
  /** In `named` mode, the parameter names (without their prefix) in `$n` order. */
  readonly names: readonly string[];
}

const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;

/**
 * Rewrites `sql`'s placeholders: `?` when `mode` is `positional`, `:name`, `@name`
 * and `$name` when it is `named` (a name used twice is one parameter). Throws a
 * TypeError for SQL that mixes the other kind in (it could not be bound), or that
 * leaves a quote, quoted identifier, dollar quote or comment unclosed.
 */
export function translatePlaceholders(sql: string, mode: 'positional' | 'named'): TranslatedSql {
  let out = '';
  let i = 0;
  let count = 0;
  let numbered = 0; // the highest $n already in the text (PostgreSQL-only SQL in a dialect branch)
  const names: string[] = [];
  const index = new Map<string, number>();
  const n = sql.length;
  const prevIsIdent = (at: number): boolean => at > 0 && IDENT_CHAR.test(sql[at - 1]!);
  const unclosed = (what: string): never => {
    throw new TypeError(`Expected SQL with every ${what} closed, got one left open`);
  };

  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === "'") {
      // E'…' strings take backslash escapes; plain ones only ''.
      const escaped = i > 0 && (sql[i - 1] === 'E' || sql[i - 1] === 'e') && !prevIsIdent(i - 1);
      let j = i + 1;
      for (;;) {
        if (j >= n) unclosed('string literal');
        const d = sql[j]!;
        if (escaped && d === '\\') j += 2;
        else if (d === "'" && sql[j + 1] === "'") j += 2;
        else if (d === "'") break;
        else j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= n) unclosed('quoted identifier');
        if (sql[j] === '"' && sql[j + 1] === '"') j += 2;
        else if (sql[j] === '"') break;
        else j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      const j = end === -1 ? n : end;
      out += sql.slice(i, j);
      i = j;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      let j = i + 2;
      while (depth > 0) {
        if (j >= n) unclosed('block comment');
        if (sql[j] === '/' && sql[j + 1] === '*') {
          depth++;
          j += 2;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          depth--;
          j += 2;
        } else j++;
      }
      out += sql.slice(i, j);
      i = j;
    } else if (c === '$' && !prevIsIdent(i)) {
      // $1 (already numbered), $tag$…$tag$ / $$…$$ (a dollar quote), or $name (a named parameter).
      let j = i + 1;
      if (next !== undefined && /[0-9]/.test(next)) {
        while (j < n && /[0-9]/.test(sql[j]!)) j++;
        if (mode === 'named') throw new TypeError(`Expected SQL with named parameters only, got a numbered one (${sql.slice(i, j)}) beside them`);
        numbered = Math.max(numbered, Number(sql.slice(i + 1, j)));
        out += sql.slice(i, j);
        i = j;
        continue;
      }
      if (next !== undefined && IDENT_START.test(next)) while (j < n && /[A-Za-z0-9_\u0080-\uffff]/.test(sql[j]!)) j++;
      if (sql[j] === '$') {
        const tag = sql.slice(i, j + 1);
        const close = sql.indexOf(tag, j + 1);
        if (close === -1) unclosed(`dollar quote ${tag}`);
        out += sql.slice(i, close + tag.length);
        i = close + tag.length;
      } else if (j > i + 1) {
        const name = sql.slice(i + 1, j);
        out += named(name);
        i = j;
      } else {
        out += c;
        i++;
      }
    } else if ((c === ':' || c === '@') && next !== undefined && IDENT_START.test(next) && mode === 'named' && !(c === ':' && sql[i - 1] === ':')) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_\u0080-\uffff]/.test(sql[j]!)) j++;
      out += named(sql.slice(i + 1, j));
      i = j;
    } else if (c === ':' && next === ':') {
      out += '::';
      i += 2;
    } else if (c === '?') {
      if (mode === 'named') throw new TypeError('Expected SQL with named parameters only (:name, @name or $name), got a ? placeholder beside them');
      count++;
      out += `$${count}`;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  if (numbered > 0 && count > 0) throw new TypeError('Expected SQL with either ? placeholders or numbered $n parameters, got both');
  return { text: out, mode, count: mode === 'named' ? names.length : Math.max(count, numbered), names };

  function named(name: string): string {
    if (mode === 'positional') throw new TypeError(`Expected positional values for SQL with ? placeholders, but the SQL names a parameter ($${name}); pass an object of named values`);
    let at = index.get(name);
    if (at === undefined) {
      names.push(name);
      at = names.length;
      index.set(name, at);
    }
    return `$${at}`;
  }
}

function describe(value: unknown): string {
  return value === undefined ? 'undefined' : `${typeof value === 'object' ? 'an object' : String(value)} (${typeof value})`;
}

/** One value as node-postgres sends it: strings and numbers as they are, bigints as decimal text. */
function bindValue(value: SqlValue, where: string): string | number | null {
  if (value === null || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`Expected ${where} to be a finite number, got ${String(value)}`);
    return value;
  }
  if (typeof value === 'bigint') return value.toString();
  throw new TypeError(`Expected ${where} to be a string, number, bigint or null, got ${describe(value)}`);
}

/**
 * The values of `translated`'s `$1…$n`, from positional or named params. Throws a
 * RangeError when the count or the names do not fit the SQL (as better-sqlite3 does),
 * a TypeError for a value no engine binds (booleans, objects, undefined, NaN).
 */
export function bindValues(translated: TranslatedSql, params: SqlParams | undefined): Array<string | number | null> {
  if (translated.mode === 'positional') {
    const values = params === undefined ? [] : params;
    if (!Array.isArray(values)) throw new TypeError('Expected an array of values for SQL with ? placeholders, got an object');
    if (values.length !== translated.count) {
      throw new RangeError(`Expected ${translated.count} value(s) for the SQL's placeholders, got ${values.length}`);
    }
    return values.map((v: SqlValue, k: number) => bindValue(v, `value ${k + 1}`));
  }
  if (params === undefined || Array.isArray(params)) {
    throw new TypeError('Expected an object of named values for SQL with named parameters');
  }
  const record = params as Readonly<Record<string, SqlValue>>;
  return translated.names.map((name) => {
    if (!Object.hasOwn(record, name)) throw new RangeError(`Expected a value for the named parameter '${name}', got none`);
    return bindValue(record[name]!, `parameter '${name}'`);
  });
}

const CACHE_LIMIT = 1000;
const positionalCache = new Map<string, TranslatedSql>();
const namedCache = new Map<string, TranslatedSql>();

/**
 * {@link translatePlaceholders} with a bounded cache (a process runs the same few
 * hundred statements over and over): the mode is chosen by the params, an object
 * meaning named parameters.
 */
export function preparePgQuery(sql: string, params: SqlParams | undefined): { text: string; values: Array<string | number | null> } {
  const named = params !== undefined && !Array.isArray(params);
  const cache = named ? namedCache : positionalCache;
  let translated = cache.get(sql);
  if (translated === undefined) {
    translated = translatePlaceholders(sql, named ? 'named' : 'positional');
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(sql, translated);
  }
  return { text: translated.text, values: bindValues(translated, params) };
}
