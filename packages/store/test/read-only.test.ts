import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store, createQuerier, directWriteFn } from '@scribe/store';
import { harness, item, openStore, rejection, tempDir, thrown } from './helpers.js';

/** Where `@scribe/store` resolves for a child process. */
const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');

describe('a read-only store in another process', () => {
  it('sees rows this process committed, and its writes fail with NOT_PRIMARY', async () => {
    const { q, path: file } = harness();
    await q.createSession({ id: 's1', title: 'from the primary' });
    await q.createMessage({ id: 'm1', session_id: 's1', role: 'user', parts: '[]' });

    const code = `
      import { Store, createQuerier, directWriteFn } from '@scribe/store';
      const store = Store.open({ path: process.env.DB, readonly: true });
      const q = createQuerier({ store, write: directWriteFn(store) });
      const out = { session: await q.getSession('s1'), messages: (await q.listMessages('s1')).map((m) => m.id) };
      try { await q.createSession({ title: 'from a secondary' }); out.write = 'succeeded'; }
      catch (e) { out.write = { code: e.code, retryable: e.retryable }; }
      out.sessions = (await q.listAllSessions()).length;
      store.close();
      process.stdout.write(JSON.stringify(out));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      cwd: REPO_ROOT,
      env: { ...process.env, DB: file },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const out = JSON.parse(child.stdout);
    expect(out.session).toEqual(await q.getSession('s1'));
    expect(out.messages).toEqual(['m1']);
    expect(out.write).toEqual({ code: 'NOT_PRIMARY', retryable: true });
    expect(out.sessions).toBe(1);
    expect(await q.listAllSessions()).toHaveLength(1);
  });
});

describe('a read-only store in this process', () => {
  it('sees a commit made after it was opened', async () => {
    const { q, path: file } = harness();
    const ro = openStore({ path: file, readonly: true });
    const roq = createQuerier({ store: ro, write: directWriteFn(ro) });
    expect(await roq.getSession('later')).toBeUndefined();
    await q.createSession({ id: 'later', title: 'after open' });
    expect(await roq.getSession('later')).toEqual(await q.getSession('later'));
    expect(ro.query('SELECT COUNT(*) AS n FROM sessions')).toEqual([{ n: 1 }]);
  });

  it('refuses writes and migrate() with NOT_PRIMARY', async () => {
    const { path: file } = harness();
    const ro = openStore({ path: file, readonly: true });
    expect(ro.readonly).toBe(true);
    expect(await rejection(ro.executeBatch([item('CreateSession', { title: 'x' })]))).toMatchObject({ code: 'NOT_PRIMARY', retryable: true });
    expect(thrown(() => ro.migrate())).toMatchObject({ code: 'NOT_PRIMARY', method: 'migrate' });
    const roq = createQuerier({ store: ro, write: directWriteFn(ro) });
    expect(await rejection(roq.createProject({ name: 'a', path: '/a' }))).toMatchObject({ code: 'NOT_PRIMARY' });
  });

  it('needs the file to exist', async () => {
    const file = path.join(tempDir(), 'missing.db');
    expect(() => Store.open({ path: file, readonly: true })).toThrow(/read-only/);
  });
});

describe('query()', () => {
  it('runs read-only statements with positional and named params', async () => {
    const { q } = harness();
    await q.createSession({ id: 's1', title: 'a' });
    expect(await q.query('SELECT id FROM sessions WHERE title = ?', ['a'])).toEqual([{ id: 's1' }]);
    expect(await q.query('SELECT id FROM sessions WHERE title = @t', { t: 'a' })).toEqual([{ id: 's1' }]);
  });

  it.each([
    ['an INSERT', "INSERT INTO sessions (id, title, created_at, updated_at) VALUES ('x', 'x', 'x', 'x')"],
    ['a DELETE', 'DELETE FROM sessions'],
    ['a CREATE', 'CREATE TABLE t (x)'],
    ['a PRAGMA that sets a value', 'PRAGMA foreign_keys = OFF'],
    ['a setting PRAGMA that answers a row', 'PRAGMA locking_mode = EXCLUSIVE'],
    ['a setting PRAGMA in function form', 'PRAGMA busy_timeout(0)'],
    ['a setting PRAGMA behind a comment', '/* hi */ PRAGMA main.busy_timeout = 0'],
    ['BEGIN', 'BEGIN'],
    ['SAVEPOINT', 'SAVEPOINT s'],
    ['ATTACH', "ATTACH DATABASE ':memory:' AS m"],
  ])('refuses %s with INVALID_PARAMS and changes nothing', async (_, sql) => {
    const { q, store } = harness();
    await q.createSession({ id: 's1', title: 'a' });
    const err = await rejection(q.query(sql));
    expect(err).toMatchObject({ code: 'INVALID_PARAMS', method: 'query', field: 'sql' });
    expect(await q.listAllSessions()).toHaveLength(1);
    expect(store.query('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
    expect(store.query('PRAGMA locking_mode')).toEqual([{ locking_mode: 'normal' }]);
    expect(store.query('PRAGMA busy_timeout')).toEqual([{ timeout: 5000 }]);
    expect(store.query('PRAGMA database_list').map((d) => d.name)).toEqual(['main']);
    // The write path still works: no transaction was left open on the connection.
    expect(await q.createSession({ title: 'b' })).toMatchObject({ title: 'b' });
  });

  it('runs PRAGMAs that only read, including introspection with an argument', async () => {
    const { q } = harness();
    expect(await q.query('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
    expect((await q.query<{ name: string }>('PRAGMA table_info(sessions)')).map((c) => c.name)).toContain('message_count');
    expect(await q.query('PRAGMA foreign_key_check')).toEqual([]);
  });

  it('maps SQL that does not compile to INVALID_PARAMS without driver text', async () => {
    const { q } = harness();
    const err = await rejection(q.query('SELECT * FROM nowhere'));
    expect(err).toMatchObject({ code: 'INVALID_PARAMS', method: 'query' });
    expect(err.message).not.toMatch(/SQLITE|nowhere/);
  });
});
