import { describe, expect, it } from 'vitest';
import { bindValues, preparePgQuery, translatePlaceholders } from '../src/sql-placeholders.js';

const positional = (sql: string): string => translatePlaceholders(sql, 'positional').text;
const named = (sql: string): { text: string; names: readonly string[] } => {
  const t = translatePlaceholders(sql, 'named');
  return { text: t.text, names: t.names };
};

describe('? placeholders become $1…$n for PostgreSQL', () => {
  it('numbers every ? in order', () => {
    expect(positional('INSERT INTO t (a, b, c) VALUES (?, ?, ?)')).toBe('INSERT INTO t (a, b, c) VALUES ($1, $2, $3)');
    expect(translatePlaceholders('SELECT ? + ?', 'positional').count).toBe(2);
    expect(positional('SELECT 1')).toBe('SELECT 1');
  });

  it('leaves ? inside string literals alone, including doubled quotes', () => {
    expect(positional("SELECT '?', ? FROM t WHERE a = 'it''s ?' AND b = ?")).toBe("SELECT '?', $1 FROM t WHERE a = 'it''s ?' AND b = $2");
  });

  it('honours backslash escapes only in E strings', () => {
    expect(positional("SELECT E'\\' ?', ?")).toBe("SELECT E'\\' ?', $1");
    // In a plain string a backslash is an ordinary character: the quote after it closes the string.
    expect(positional("SELECT 'a\\', ?")).toBe("SELECT 'a\\', $1");
    // An identifier ending in e before a string is not an E prefix.
    expect(positional("SELECT type'x', ?")).toBe("SELECT type'x', $1");
  });

  it('leaves ? inside quoted identifiers alone', () => {
    expect(positional('SELECT "what?" FROM "a""?b" WHERE x = ?')).toBe('SELECT "what?" FROM "a""?b" WHERE x = $1');
  });

  it('leaves ? inside dollar-quoted bodies alone, tagged or not', () => {
    expect(positional('DO $$ BEGIN PERFORM ?; END $$; SELECT ?')).toBe('DO $$ BEGIN PERFORM ?; END $$; SELECT $1');
    expect(positional('SELECT $fn$ it has $$ and ? $fn$, ?')).toBe('SELECT $fn$ it has $$ and ? $fn$, $1');
  });

  it('leaves ? inside line and (nested) block comments alone', () => {
    expect(positional('SELECT ? -- why?\n, ?')).toBe('SELECT $1 -- why?\n, $2');
    expect(positional('SELECT /* a /* nested ? */ still ? */ ?')).toBe('SELECT /* a /* nested ? */ still ? */ $1');
    expect(positional('SELECT ? -- trailing ?')).toBe('SELECT $1 -- trailing ?');
  });

  it('keeps ::casts and identifiers with $ in them', () => {
    expect(positional('SELECT ?::bigint, a$b FROM t')).toBe('SELECT $1::bigint, a$b FROM t');
  });

  it('accepts SQL that is already numbered (a PostgreSQL-only branch) but not both kinds', () => {
    const t = translatePlaceholders('SELECT $1, $2, $1', 'positional');
    expect(t).toMatchObject({ text: 'SELECT $1, $2, $1', count: 2 });
    expect(() => translatePlaceholders('SELECT $1, ?', 'positional')).toThrow(/either \? placeholders or numbered/);
  });

  it('refuses SQL that leaves a quote, identifier, dollar quote or comment open', () => {
    expect(() => positional("SELECT 'abc")).toThrow(/string literal closed/);
    expect(() => positional('SELECT "abc')).toThrow(/quoted identifier closed/);
    expect(() => positional('SELECT $x$ abc')).toThrow(/dollar quote \$x\$ closed/);
    expect(() => positional('SELECT /* abc')).toThrow(/block comment closed/);
  });
});

describe('named parameters (:name, @name, $name) for raw SQL', () => {
  it('numbers each distinct name once, in order of first use', () => {
    expect(named('SELECT :a, @b, $c, :a')).toEqual({ text: 'SELECT $1, $2, $3, $1', names: ['a', 'b', 'c'] });
  });

  it('does not take ::casts, strings, identifiers, comments or dollar quotes for names', () => {
    expect(named("SELECT :a::text, ':b', \"@c\", $d$ :e $d$ -- :f\n, @g")).toEqual({
      text: "SELECT $1::text, ':b', \"@c\", $d$ :e $d$ -- :f\n, $2",
      names: ['a', 'g'],
    });
  });

  it('refuses ? or $1 beside names, and names beside ?', () => {
    expect(() => translatePlaceholders('SELECT :a, ?', 'named')).toThrow(/named parameters only/);
    expect(() => translatePlaceholders('SELECT :a, $1', 'named')).toThrow(/named parameters only/);
    expect(() => translatePlaceholders('SELECT ?, $a', 'positional')).toThrow(/pass an object of named values/);
  });
});

describe('binding values', () => {
  it('binds strings, numbers and null as they are and bigints as decimal text', () => {
    const t = translatePlaceholders('SELECT ?, ?, ?, ?', 'positional');
    expect(bindValues(t, ['x', 1.5, null, 12345678901234567890n])).toEqual(['x', 1.5, null, '12345678901234567890']);
  });

  it('refuses a wrong number of values and values no engine binds', () => {
    const t = translatePlaceholders('SELECT ?, ?', 'positional');
    expect(() => bindValues(t, ['x'])).toThrow(RangeError);
    expect(() => bindValues(t, ['x', true as unknown as string])).toThrow(/string, number, bigint or null, got true \(boolean\)/);
    expect(() => bindValues(t, ['x', Number.NaN])).toThrow(/finite number/);
    expect(() => bindValues(t, { a: 1 })).toThrow(/array of values/);
  });

  it('takes named values by name and refuses a missing one', () => {
    const t = translatePlaceholders('SELECT :a, :b, :a', 'named');
    expect(bindValues(t, { b: 2, a: 'one' })).toEqual(['one', 2]);
    expect(() => bindValues(t, { a: 1 })).toThrow(/named parameter 'b'/);
    expect(() => bindValues(t, [1, 2])).toThrow(/object of named values/);
  });

  it('chooses named or positional by the params given', () => {
    expect(preparePgQuery('SELECT ?, :x', [1])).toEqual({ text: 'SELECT $1, :x', values: [1] });
    expect(preparePgQuery('SELECT :x', { x: 1 })).toEqual({ text: 'SELECT $1', values: [1] });
    expect(preparePgQuery('SELECT 1', undefined)).toEqual({ text: 'SELECT 1', values: [] });
  });
});
