import { describe, expect, it } from 'vitest';
import { createDefaultRegistry, type Migration } from '@scribe/store';
import { harness, item, rejection, snapshot } from './helpers.js';

/** An application table for raw SQL to work on. */
const NOTES: Migration = {
  version: 1000,
  name: 'notes',
  up: 'CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE, pinned INTEGER NOT NULL DEFAULT 0)',
};

function notesHarness() {
  return harness({ migrations: [NOTES] });
}

describe('Exec', () => {
  it('runs one statement with positional params and answers {changes, last_insert_rowid}', async () => {
    const { q } = notesHarness();
    expect(await q.exec('INSERT INTO notes (body, pinned) VALUES (?, ?)', ['first', true])).toEqual({ changes: 1, last_insert_rowid: 1 });
    expect(await q.exec('INSERT INTO notes (body) VALUES (?)', ['second'])).toEqual({ changes: 1, last_insert_rowid: 2 });
    expect(await q.query('SELECT id, body, pinned FROM notes ORDER BY id')).toEqual([
      { id: 1, body: 'first', pinned: 1 },
      { id: 2, body: 'second', pinned: 0 },
    ]);
  });

  it('runs one statement with named params', async () => {
    const { q } = notesHarness();
    await q.exec('INSERT INTO notes (body) VALUES (@body)', { body: 'a' });
    await q.exec('INSERT INTO notes (body) VALUES (:body)', { body: 'b' });
    expect(await q.exec('UPDATE notes SET pinned = $pinned WHERE body <> $body', { pinned: 1, body: 'a' })).toMatchObject({ changes: 1 });
    expect(await q.query('SELECT body FROM notes WHERE pinned = 1')).toEqual([{ body: 'b' }]);
  });

  it.each([
    ['two statements', 'INSERT INTO notes (body) VALUES (1); INSERT INTO notes (body) VALUES (2)'],
    ['BEGIN', 'BEGIN'],
    ['COMMIT', 'COMMIT'],
    ['PRAGMA', 'PRAGMA foreign_keys = OFF'],
    ['ATTACH', "ATTACH DATABASE 'other.db' AS other"],
    ['a statement on scribe internal tables', 'DELETE FROM _scribe_requests'],
    ['a read of scribe internal tables', 'INSERT INTO notes (body) SELECT request_id FROM _scribe_requests'],
    ['SQL that does not compile', 'INSERT INTO nowhere VALUES (1)'],
  ])('refuses %s with INVALID_PARAMS on params.sql, changing nothing', async (_, sql) => {
    const { q, store } = notesHarness();
    await q.exec('INSERT INTO notes (body) VALUES (?)', ['kept']);
    const before = snapshot(store);
    const notes = await q.query('SELECT * FROM notes');
    expect(await rejection(q.exec(sql))).toMatchObject({ code: 'INVALID_PARAMS', method: 'Exec', field: 'params.sql' });
    expect(snapshot(store)).toEqual(before);
    expect(await q.query('SELECT * FROM notes')).toEqual(notes);
  });

  it.each([
    ['a line comment', '-- tidy up\nCOMMIT'],
    ['a block comment', '/* tidy up */ ROLLBACK'],
    ['a block comment before PRAGMA', '/**/PRAGMA foreign_keys = OFF'],
  ])('refuses transaction control hidden behind %s, so a neighbour in the batch keeps its outcome', async (_, sql) => {
    const { store } = notesHarness();
    const { outcomes } = (await store.executeBatch([
      item('Exec', { sql: "INSERT INTO notes (body) VALUES ('before')" }),
      item('Exec', { sql }),
      item('Exec', { sql: "INSERT INTO notes (body) VALUES ('after')" }),
    ]));
    expect(outcomes[1]).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMS', field: 'params.sql' } });
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    expect(store.query('SELECT body FROM notes ORDER BY id')).toEqual([{ body: 'before' }, { body: 'after' }]);
    expect(store.query('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
  });

  it('maps a constraint failure to CONFLICT and a missing NOT NULL value to INVALID_PARAMS', async () => {
    const { q } = notesHarness();
    await q.exec('INSERT INTO notes (body) VALUES (?)', ['a']);
    expect(await rejection(q.exec('INSERT INTO notes (body) VALUES (?)', ['a']))).toMatchObject({ code: 'CONFLICT', method: 'Exec' });
    expect(await rejection(q.exec('INSERT INTO notes (body) VALUES (?)', [null]))).toMatchObject({ code: 'INVALID_PARAMS', method: 'Exec' });
  });

  it('refuses params of the wrong shape, naming the field', async () => {
    const { q } = notesHarness();
    expect(await rejection(q.write('Exec', { sql: 'SELECT 1', params: [{ a: 1 }] }))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.params' });
    expect(await rejection(q.write('Exec', { sql: '' }))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.sql' });
    expect(await rejection(q.write('Exec', { statement: 'SELECT 1' }))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.sql' });
  });
});

describe('ExecBatch', () => {
  it('applies every statement and answers one result each', async () => {
    const { q } = notesHarness();
    expect(
      await q.execBatch([
        { sql: 'INSERT INTO notes (body) VALUES (?)', params: ['a'] },
        { sql: 'INSERT INTO notes (body) VALUES (@b)', params: { b: 'b' } },
        { sql: 'UPDATE notes SET pinned = 1' },
      ]),
    ).toEqual([
      { changes: 1, last_insert_rowid: 1 },
      { changes: 1, last_insert_rowid: 2 },
      { changes: 2, last_insert_rowid: 2 },
    ]);
  });

  it('is all or nothing: when the second statement fails at run time, the first is not applied', async () => {
    const { q, store } = notesHarness();
    await q.exec('INSERT INTO notes (body) VALUES (?)', ['taken']);
    const before = snapshot(store);
    const err = await rejection(
      q.execBatch([
        { sql: 'INSERT INTO notes (body) VALUES (?)', params: ['fresh'] },
        { sql: 'INSERT INTO notes (body) VALUES (?)', params: ['taken'] },
      ]),
    );
    expect(err).toMatchObject({ code: 'CONFLICT', method: 'ExecBatch' });
    expect(await q.query('SELECT body FROM notes')).toEqual([{ body: 'taken' }]);
    expect(snapshot(store)).toEqual(before);
  });

  it('names the statement that is refused', async () => {
    const { q } = notesHarness();
    const err = await rejection(q.execBatch([{ sql: "INSERT INTO notes (body) VALUES ('x')" }, { sql: 'PRAGMA journal_mode = DELETE' }]));
    expect(err).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.statements.1.sql' });
    expect(await q.query('SELECT * FROM notes')).toEqual([]);
    expect(await rejection(q.execBatch([]))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.statements' });
  });
});

describe('raw SQL disabled', () => {
  it('createDefaultRegistry({ rawSql: false }) answers DISABLED for Exec and ExecBatch and runs nothing', async () => {
    const { q } = harness({ migrations: [NOTES], registry: createDefaultRegistry({ rawSql: false }) });
    const exec = await rejection(q.exec('INSERT INTO notes (body) VALUES (?)', ['x']));
    expect(exec).toMatchObject({ code: 'DISABLED', method: 'Exec', retryable: false });
    const batch = await rejection(q.execBatch([{ sql: 'INSERT INTO notes (body) VALUES (?)', params: ['x'] }]));
    expect(batch).toMatchObject({ code: 'DISABLED', method: 'ExecBatch' });
    expect(await q.query('SELECT * FROM notes')).toEqual([]);
    // The agent writes still work.
    expect(await q.createSession({ title: 't' })).toMatchObject({ title: 't' });
  });
});
