import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '@scribe/store';
import { harness, openStore, rejection } from './helpers.js';
import { TEST_ENGINES, useEngines } from '../../../test/helpers/engines.js';

// prompt_ucb_stats and the update_ucb_after_score trigger (built-in migration 3), as
// the reference defines them: every session score with a template adds one use and
// its reward to that template's running totals, average and score.

// The trigger's arithmetic and its rollback, not durability: the faster server (fsync off).
const engines = useEngines({ durable: false });

describe.each(TEST_ENGINES)('update_ucb_after_score on %s', (engine) => {
  it('creates the row on the first score of a template and folds in every later one', async () => {
    const { q, clock } = await engines.openTestStore(engine);
    await q.createSession({ id: 's1', title: 't' });
    await q.insertPromptTemplate({ id: 't1', name: 'n', section: 's', content: '' });
    const first = await q.insertSessionScore({ session_id: 's1', template_id: 't1', reward: 0.5 });
    expect(await q.getUCBStats('t1')).toEqual({
      template_id: 't1',
      times_used: 1,
      total_reward: 0.5,
      avg_reward: 0.5,
      ucb_score: 0.5,
      last_used_at: first.created_at,
      updated_at: first.created_at,
    });
    const later = clock.advance(60_000);
    await q.insertSessionScore({ session_id: 's1', template_id: 't1', reward: 1 });
    await q.insertSessionScore({ session_id: 's1', template_id: 't1', reward: 0 });
    expect(await q.getUCBStats('t1')).toEqual({
      template_id: 't1',
      times_used: 3,
      total_reward: 1.5,
      avg_reward: 0.5,
      ucb_score: 0.5,
      last_used_at: later,
      updated_at: later,
    });
  });

  it('keeps one row per template, ignores scores without a template, and counts a missing reward as 0', async () => {
    const store = await engines.openTestStore(engine);
    const { q } = store;
    await q.createSession({ id: 's1', title: 't' });
    await q.insertPromptTemplate({ id: 'a', name: 'a', section: 's', content: '' });
    await q.insertPromptTemplate({ id: 'b', name: 'b', section: 's', content: '' });
    await q.insertSessionScore({ session_id: 's1', reward: 1 });
    expect(await store.query('SELECT COUNT(*) AS n FROM prompt_ucb_stats')).toEqual([{ n: 0 }]);
    await q.insertSessionScore({ session_id: 's1', template_id: 'a', reward: 0.8 });
    await q.insertSessionScore({ session_id: 's1', template_id: 'a' });
    await q.insertSessionScore({ session_id: 's1', template_id: 'b', reward: 0.2 });
    expect(await q.getUCBStats('a')).toMatchObject({ times_used: 2, total_reward: 0.8, avg_reward: 0.4, ucb_score: 0.4 });
    expect(await q.getUCBStats('b')).toMatchObject({ times_used: 1, total_reward: 0.2 });
    expect(await store.query('SELECT template_id FROM prompt_ucb_stats ORDER BY template_id')).toEqual([{ template_id: 'a' }, { template_id: 'b' }]);
  });

  it('changes nothing when the score write fails (its savepoint undoes the trigger too)', async () => {
    const store = await engines.openTestStore(engine);
    const { q } = store;
    await q.createSession({ id: 's1', title: 't' });
    await q.insertPromptTemplate({ id: 't1', name: 'n', section: 's', content: '' });
    await q.insertSessionScore({ id: 'sc1', session_id: 's1', template_id: 't1', reward: 0.5 });
    const before = { ...(await store.snapshot()), stats: await store.query('SELECT * FROM prompt_ucb_stats') };
    // A missing session (foreign key) and a duplicate id both fail after the INSERT is attempted.
    expect(await rejection(q.insertSessionScore({ session_id: 'nobody', template_id: 't1', reward: 1 }))).toMatchObject({ code: 'CONFLICT' });
    expect(await rejection(q.insertSessionScore({ id: 'sc1', session_id: 's1', template_id: 't1', reward: 1 }))).toMatchObject({ code: 'CONFLICT' });
    expect({ ...(await store.snapshot()), stats: await store.query('SELECT * FROM prompt_ucb_stats') }).toEqual(before);
  });
});

// SQLite-only: it rewinds a SQLite file to schema version 2 by hand and reads sqlite_master.
describe.runIf(TEST_ENGINES.includes('sqlite'))('update_ucb_after_score on an upgraded file', () => {
  it('is added to a file at schema version 2 by migrating it', async () => {
    const { path: file } = harness();
    // Make the file look as version-2 code left it: no table, trigger or index, no record of 3.
    const raw = new Database(file);
    raw.exec(`DROP TRIGGER update_ucb_after_score; DROP TABLE prompt_ucb_stats; DROP INDEX files_by_path;
              DELETE FROM _scribe_migrations WHERE version = 3`);
    raw.close();
    const store = openStore({ path: file });
    expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
    expect(
      store.query("SELECT type, name FROM sqlite_master WHERE name IN ('prompt_ucb_stats', 'update_ucb_after_score', 'files_by_path') ORDER BY name"),
    ).toEqual([
      { type: 'index', name: 'files_by_path' },
      { type: 'table', name: 'prompt_ucb_stats' },
      { type: 'trigger', name: 'update_ucb_after_score' },
    ]);
  });
});
