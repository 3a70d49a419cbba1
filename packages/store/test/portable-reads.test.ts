import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { READ_NAMES, SqliteReader, StoreReads, type SqlParams, type SqlReader } from '@scribe/store';
import { populateForReads, readAll } from './read-fixtures.js';
import { harness, type Harness } from './helpers.js';

// The reads are defined once for SQLite and PostgreSQL. Two things the SQLite suite
// cannot see on its own are checked here against real SQLite files:
// - PostgreSQL's tables carry a `rowid` identity column that `SELECT *` returns;
//   no entity may expose it (nor any other column its type does not name);
// - SQLite sorts NULL first ascending and PostgreSQL last, so every ORDER BY on a
//   value that can be NULL must say where NULLs go, or the engines disagree.

/** Every object an answer holds (the answer itself, or the rows of a list). */
function entitiesOf(answer: unknown): Record<string, unknown>[] {
  if (Array.isArray(answer)) return answer as Record<string, unknown>[];
  return typeof answer === 'object' && answer !== null ? [answer as Record<string, unknown>] : [];
}

/**
 * A reader over a second connection to the same file that adds what PostgreSQL's rows
 * have and SQLite's `SELECT *` hides: a `rowid` column (and one a later migration
 * might add), on every row.
 */
class RowidColumnsReader implements SqlReader {
  readonly dialect = 'sqlite' as const;
  readonly #inner: SqlReader;
  #next = 1;
  constructor(inner: SqlReader) {
    this.#inner = inner;
  }
  async get<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
    const row = await this.#inner.get<T>(sql, params);
    return row === undefined ? undefined : this.#widen(row);
  }
  async all<T>(sql: string, params?: SqlParams): Promise<T[]> {
    return (await this.#inner.all<T>(sql, params)).map((r) => this.#widen(r));
  }
  #widen<T>(row: T): T {
    return { ...row, rowid: this.#next++, added_later: 'x' };
  }
}

/** A reader that records the SQL it is given. */
class RecordingReader implements SqlReader {
  readonly dialect = 'sqlite' as const;
  readonly statements: string[] = [];
  readonly #inner: SqlReader;
  constructor(inner: SqlReader) {
    this.#inner = inner;
  }
  get<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
    this.statements.push(sql);
    return this.#inner.get<T>(sql, params);
  }
  all<T>(sql: string, params?: SqlParams): Promise<T[]> {
    this.statements.push(sql);
    return this.#inner.all<T>(sql, params);
  }
}

function secondConnection(h: Harness): Database.Database {
  const db = new Database(h.path, { readonly: true });
  onTestFinished(() => {
    db.close();
  });
  return db;
}

describe('reads defined once for SQLite and PostgreSQL', () => {
  it('every read answers something on the populated database (so the checks below are not vacuous)', async () => {
    const h = harness();
    await populateForReads(h.q, () => h.clock.advance());
    const answers = await readAll(h.store.reads, READ_NAMES);
    for (const name of READ_NAMES) {
      const a = answers[name];
      expect(a === undefined || (Array.isArray(a) && a.length === 0) || a === 0, `${name} answered ${JSON.stringify(a)}`).toBe(false);
    }
  });

  it('no entity carries rowid or any column its type does not name, even when the rows do (as on PostgreSQL)', async () => {
    const h = harness();
    await populateForReads(h.q, () => h.clock.advance());
    const plain = await readAll(h.store.reads, READ_NAMES);
    const widened = await readAll(new StoreReads(new RowidColumnsReader(new SqliteReader(secondConnection(h)))), READ_NAMES);
    for (const name of READ_NAMES) {
      for (const entity of [...entitiesOf(plain[name]), ...entitiesOf(widened[name])]) {
        expect(Object.keys(entity), name).not.toContain('rowid');
        expect(Object.keys(entity), name).not.toContain('added_later');
      }
      // Apart from the extra columns, the same answers.
      expect(widened[name], name).toEqual(plain[name]);
    }
  });

  it('writes return entities without rowid too (they map their rows the same way)', async () => {
    const h = harness();
    const project = await h.q.createProject({ id: 'p', name: 'p', path: '/p' });
    expect(Object.keys(project)).not.toContain('rowid');
    expect(Object.keys(project).sort()).toEqual(Object.keys((await h.q.getProject('p'))!).sort());
  });

  it('every ORDER BY term on a value that can be NULL says NULLS FIRST or NULLS LAST', async () => {
    const h = harness();
    await populateForReads(h.q, () => h.clock.advance());
    const db = secondConnection(h);
    const recorder = new RecordingReader(new SqliteReader(db));
    await readAll(new StoreReads(recorder), READ_NAMES);
    const nullable = nullableColumns(db);
    const checked: string[] = [];
    const problems: string[] = [];
    for (const sql of new Set(recorder.statements)) {
      const aliases = tableAliases(sql);
      for (const clause of sql.matchAll(/ORDER BY\s+([\s\S]+?)(?=\s+LIMIT\b|\s*\)|\s*$)/gi)) {
        for (const term of clause[1]!.split(',').map((t) => t.trim())) {
          const m = /^(?:(\w+)\.)?(\w+)(?:\s+(?:ASC|DESC))?(\s+NULLS\s+(?:FIRST|LAST))?$/i.exec(term);
          if (m === null) {
            problems.push(`unrecognised ORDER BY term ${JSON.stringify(term)} in: ${sql}`);
            continue;
          }
          const [, alias, column, nulls] = m;
          const tables = alias === undefined ? [...aliases.values()] : [aliases.get(alias)];
          const canBeNull = tables.some((t) => t === undefined || t.outer || nullable.get(t.table)?.has(column!) === true);
          if (!canBeNull) continue;
          checked.push(term);
          if (nulls === undefined) problems.push(`${JSON.stringify(term)} can be NULL and does not say where NULLs go, in: ${sql}`);
        }
      }
    }
    expect(problems).toEqual([]);
    // The terms that made SQLite and PostgreSQL disagree before they were explicit.
    expect(checked).toEqual(expect.arrayContaining(['last_opened DESC NULLS LAST', 'us.ucb_score DESC NULLS LAST']));
  });

  it('listProjects puts never-opened projects last, and listUCBRanking never-scored templates last', async () => {
    const h = harness();
    await populateForReads(h.q, () => h.clock.advance());
    expect((await h.store.reads.listProjects()).map((p) => p.id)).toEqual(['p-opened', 'p-never-2', 'p-never']);
    // Never-scored templates (no stored score) come after the scored ones, then by name in byte order ('B' < 'Other' < 'a').
    expect((await h.store.reads.listUCBRanking()).map((r) => [r.id, r.ucb_score])).toEqual([
      ['t-scored', 0.25],
      ['t-under', 0],
      ['t-Never', 9999],
      ['t-other', 9999],
      ['t-never', 9999],
    ]);
  });
});

/** Table name → its columns that may hold NULL (a primary key may not, as in PostgreSQL). */
function nullableColumns(db: Database.Database): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
  for (const t of tables) {
    const cols = db.prepare(`SELECT name, "notnull" AS nn, pk FROM pragma_table_info(?)`).all(t) as Array<{ name: string; nn: number; pk: number }>;
    out.set(t, new Set(cols.filter((c) => c.nn === 0 && c.pk === 0).map((c) => c.name)));
  }
  return out;
}

const KEYWORDS = new Set(['WHERE', 'ORDER', 'LEFT', 'INNER', 'JOIN', 'GROUP', 'LIMIT', 'ON']);

/** Alias (or bare table name) → the table, and whether it is the outer side of a LEFT JOIN (its columns can be NULL). */
function tableAliases(sql: string): Map<string, { table: string; outer: boolean }> {
  const out = new Map<string, { table: string; outer: boolean }>();
  for (const m of sql.matchAll(/\b(LEFT\s+)?(?:FROM|JOIN)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?/gi)) {
    const [, left, table, alias] = m;
    const entry = { table: table!, outer: left !== undefined };
    out.set(table!, entry);
    if (alias !== undefined && !KEYWORDS.has(alias.toUpperCase())) out.set(alias, entry);
  }
  return out;
}
