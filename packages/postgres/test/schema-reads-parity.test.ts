import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { BUILTIN_MIGRATIONS, BUILTIN_NAMESPACE, READ_NAMES, SqliteReader, Store, StoreReads, orderMigrations, type SqlValue } from '@scribe/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPgMigrations } from '../src/pg-migrations.js';
import { createPgPool } from '../src/pg-pool.js';
import { PgSqlTx } from '../src/pg-sql-tx.js';
import { runPostgresTests, usePostgres } from '../../../test/helpers/postgres-server.js';

// The PostgreSQL schema (scribe@1..3) against the reads written for both engines: the
// same rows, put in with the same SQL on both, read back by every StoreReads method,
// give the same entities. A column missing, of another kind, sorted by the database's
// collation instead of bytes, or a `rowid` leaking into an entity shows here.

const server = usePostgres();
const t = (s: number): string => `2026-01-01T00:00:${String(s).padStart(2, '0')}.000Z`;

/** Rows with ties (same created_at), NULLs in ordered columns, and text that sorts differently by locale. */
function rows(): Array<[string, SqlValue[]]> {
  const out: Array<[string, SqlValue[]]> = [];
  const project = 'INSERT INTO projects (id, name, path, initialized, last_opened, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)';
  out.push([project, ['p1', 'a', '/a', 1, null, t(1), t(1)]], [project, ['p2', 'b', '/b', 0, t(5), t(1), t(1)]], [project, ['p3', 'c', '/B', 0, null, t(1), t(1)]]);
  for (let i = 0; i < 4; i++) {
    out.push([
      'INSERT INTO sessions (id, parent_session_id, title, message_count, cost, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [`s${i}`, i > 1 ? 's0' : null, `t${i}`, i, 0.5 * i, t(2), t(i)],
    ]);
  }
  for (let i = 0; i < 5; i++) {
    out.push(['INSERT INTO messages (id, session_id, role, parts, model, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [`m${i}`, 's0', 'user', '[{"a":1}]', null, t(3), t(3)]]);
  }
  for (let i = 0; i < 6; i++) {
    out.push([
      'INSERT INTO files (id, session_id, path, content, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [`f${i}`, i % 2 ? 's0' : 's1', ['/p/a', '/p/B', '/p/_c'][i % 3]!, 'x', i, t(i % 2), t(i % 2)],
    ]);
  }
  for (let i = 0; i < 4; i++) {
    out.push([
      'INSERT INTO skill_library (id, title, content, task_type, usage_count, success_rate, is_active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [`k${i}`, 'x', 'y', i % 2 ? 'a' : null, i, 0.25 * i, i % 3 ? 1 : 0, t(4), t(4)],
    ]);
  }
  for (let i = 0; i < 3; i++) {
    out.push([
      'INSERT INTO prompt_templates (id, name, section, content, is_active, is_default, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [`tp${i}`, 'n', i ? 'sec' : 'other', 'c', 1, i === 1 ? 1 : 0, t(5), t(5)],
    ]);
  }
  for (let i = 0; i < 5; i++) {
    out.push([
      'INSERT INTO session_scores (id, session_id, template_id, reward, prompt_tokens, completion_tokens, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [`sc${i}`, 's0', i % 2 ? 'tp1' : null, i % 3 ? 0.25 * i : null, 10 * i, 5 * i, t(6 + (i % 2))],
    ]);
  }
  return out;
}

type Reads = Record<string, (...args: unknown[]) => Promise<unknown>>;
const CALLS: ReadonlyArray<readonly [string, readonly unknown[]]> = [
  ['getProject', ['p1']],
  ['getProjectByPath', ['/b']],
  ['listProjects', []],
  ['getSessionByID', ['s1']],
  ['getSession', ['s1']],
  ['listSessions', []],
  ['listAllSessions', []],
  ['listChildSessions', ['s0']],
  ['getMessage', ['m1']],
  ['listMessagesBySession', ['s0']],
  ['listMessages', ['s0']],
  ['getFile', ['f1']],
  ['getFileByPathAndSession', [{ path: '/p/B', session_id: 's0' }]],
  ['listFilesByPath', ['/p/B']],
  ['listFilesBySession', ['s0']],
  ['listLatestSessionFiles', ['s0']],
  ['listNewFiles', []],
  ['listFiles', ['s0']],
  ['listLatestFiles', ['s0']],
  ['getSkill', ['k1']],
  ['listActiveSkillsByType', [{ task_type: 'a', limit: 5 }]],
  ['listAllActiveSkills', []],
  ['listActiveSkills', []],
  ['countActiveSkills', []],
  ['listSkills', []],
  ['getPromptTemplate', ['tp1']],
  ['listActiveTemplatesBySection', ['sec']],
  ['countPromptTemplates', []],
  ['listPromptTemplates', []],
  ['listPromptTemplates', ['sec']],
  ['getUCBStats', ['tp1']],
  ['listUCBRanking', []],
  ['getSessionScore', ['s0']],
  ['getSessionScoreByID', ['sc1']],
  ['countSessionScores', []],
  ['listSessionScores', [3]],
  ['listSessionScoresBySession', ['s0']],
  ['getTokenBaseline', [3]],
  ['getEvaluatorStats', []],
];

describe.runIf(runPostgresTests)('the PostgreSQL schema under the reads both engines share', () => {
  let pool: pg.Pool;
  let dir: string;
  let sqlite: Database.Database;
  let onSqlite: Reads;
  let onPostgres: Reads;

  beforeAll(async () => {
    // A linguistic default collation (ICU en-US), as many servers have: text must still
    // sort by bytes, as on SQLite (the columns are COLLATE "C"; the reads have no per-engine SQL).
    pool = createPgPool({ url: await server.server().createDatabase({ icuLocale: 'en-US' }) });
    await applyPgMigrations(pool, orderMigrations([{ name: BUILTIN_NAMESPACE, migrations: BUILTIN_MIGRATIONS }]));
    dir = mkdtempSync(path.join(tmpdir(), 'scribe-pg-reads-'));
    const file = path.join(dir, 'reads.db');
    Store.open({ path: file }).close();
    sqlite = new Database(file);
    const tx = new PgSqlTx(pool);
    for (const [sql, params] of rows()) {
      sqlite.prepare(sql).run(...params);
      await tx.run(sql, params);
    }
    onSqlite = new StoreReads(new SqliteReader(sqlite)) as unknown as Reads;
    onPostgres = new StoreReads(tx) as unknown as Reads;
  });
  afterAll(async () => {
    sqlite?.close();
    await pool?.end();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('calls every read (a read added to StoreReads must be added to CALLS)', () => {
    expect(new Set(CALLS.map(([name]) => name))).toEqual(new Set(READ_NAMES));
  });

  it.each(CALLS)('%s(%j) returns the same on both engines', async (name, args) => {
    const expected = await onSqlite[name]!.call(onSqlite, ...args);
    const actual = await onPostgres[name]!.call(onPostgres, ...args);
    if (name === 'getEvaluatorStats') {
      // AVG over doubles: PostgreSQL sums differently and may differ in the last bit.
      const { avg_reward: a, ...rest } = actual as { avg_reward: number };
      const { avg_reward: e, ...expectedRest } = expected as { avg_reward: number };
      expect(a).toBeCloseTo(e, 12);
      expect(rest).toEqual(expectedRest);
      return;
    }
    expect(actual).toEqual(expected);
    expect(JSON.stringify(actual)).not.toContain('"rowid"');
  });
});
