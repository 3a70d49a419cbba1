import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { WriteError } from '@scribe/protocol';
import { SqliteReader, SqliteTx, StatementCache, createDefaultRegistry, defineWrite, type SqlTx } from '@scribe/store';
import { harness, item, rejection, tempDir } from './helpers.js';

/** A connection with one table, its statement cache and a tx over it, inside an open transaction. */
function connection(): { db: Database.Database; cache: StatementCache; tx: SqliteTx } {
  const db = new Database(path.join(tempDir(), 'tx.db'));
  onTestFinished(() => {
    db.close();
  });
  db.exec('CREATE TABLE t (a INTEGER, b TEXT)');
  const cache = new StatementCache(db);
  return { db, cache, tx: new SqliteTx(cache, db) };
}

describe('SqliteTx', () => {
  it('runs each statement synchronously and returns an already-settled promise', async () => {
    const { db, tx } = connection();
    const p = tx.run('INSERT INTO t (a, b) VALUES (?, ?)', [1, 'one']);
    // The row is there before anything was awaited: the statement ran in the call.
    expect(db.prepare('SELECT a, b FROM t').all()).toEqual([{ a: 1, b: 'one' }]);
    await expect(p).resolves.toEqual({ changes: 1 });
    await expect(tx.get('SELECT b FROM t WHERE a = ?', [1])).resolves.toEqual({ b: 'one' });
    await expect(tx.get('SELECT b FROM t WHERE a = ?', [2])).resolves.toBeUndefined();
    await expect(tx.all('SELECT a FROM t')).resolves.toEqual([{ a: 1 }]);
    expect(tx.dialect).toBe('sqlite');
  });

  it('reports a failing statement as a rejected promise, never a synchronous throw', async () => {
    const { tx } = connection();
    let p: Promise<unknown> | undefined;
    expect(() => {
      p = tx.run('INSERT INTO no_such_table (a) VALUES (?)', [1]);
    }).not.toThrow();
    await expect(p).rejects.toMatchObject({ code: 'SQLITE_ERROR' });
  });

  it('binds named params by :name, @name and $name', async () => {
    const { tx } = connection();
    await tx.run('INSERT INTO t (a, b) VALUES (:a, @b)', { a: 7, b: 'seven' });
    await tx.run('INSERT INTO t (a, b) VALUES ($a, $b)', { a: 8, b: null });
    await expect(tx.all('SELECT a, b FROM t WHERE a >= :min ORDER BY a', { min: 7 })).resolves.toEqual([
      { a: 7, b: 'seven' },
      { a: 8, b: null },
    ]);
  });

  it('refuses a boolean with an INTERNAL error that names the parameter and says to store 1/0, binding nothing', async () => {
    const { db, tx } = connection();
    const positional = await rejection(tx.run('INSERT INTO t (a, b) VALUES (?, ?)', ['x', true] as never));
    expect(positional).toMatchObject({ code: 'INTERNAL' });
    expect(positional.message).toMatch(/parameter 2 is a boolean.*1 or 0/);
    const named = await rejection(tx.run('INSERT INTO t (a, b) VALUES (:a, :b)', { a: false, b: 'x' } as never));
    expect(named.message).toMatch(/parameter "a" is a boolean/);
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 0 });
  });

  it('rejects every call once its batch has ended', async () => {
    const { tx } = connection();
    tx.end();
    for (const p of [tx.run('INSERT INTO t (a) VALUES (1)'), tx.get('SELECT 1'), tx.all('SELECT 1')]) {
      const e = await rejection(p);
      expect(e).toMatchObject({ code: 'INTERNAL' });
      expect(e.message).toMatch(/after its batch's transaction ended/);
    }
  });

  it('shares the statement cache: a statement is compiled once for the tx and the reader', async () => {
    const { cache, tx } = connection();
    const reader = new SqliteReader(cache);
    await tx.get('SELECT COUNT(*) AS n FROM t');
    expect(cache.statement('SELECT COUNT(*) AS n FROM t')).toBe(cache.statement('SELECT COUNT(*) AS n FROM t'));
    await expect(reader.get('SELECT COUNT(*) AS n FROM t')).resolves.toEqual({ n: 0 });
  });
});

describe('the connection while a batch holds it', () => {
  /** A registry with a write whose handler runs `during` mid-batch, after its own insert. */
  function registryWith(during: (ctx: { tx: SqlTx }) => Promise<unknown>) {
    return createDefaultRegistry().register(
      defineWrite({
        name: 'During',
        description: 'test only: inserts a session, then runs `during`',
        schema: z.strictObject({ id: z.string() }),
        async handler(ctx, p) {
          await ctx.tx.run("INSERT INTO sessions (id, title, created_at, updated_at) VALUES (?, 'during', ?, ?)", [p.id, ctx.now, ctx.now]);
          return { seen: await during(ctx) };
        },
      }),
    );
  }

  it('refuses query(), findRequest() and the reader from inside a batch with INTERNAL, so nobody reads its uncommitted rows', async () => {
    const seen: unknown[] = [];
    const { store } = harness({
      registry: registryWith(async () => {
        for (const read of [() => store.query('SELECT id FROM sessions'), () => store.findRequest('x'), () => store.changesSince(0)]) {
          try {
            seen.push(read());
          } catch (e) {
            seen.push((e as WriteError).code);
          }
        }
        seen.push(await store.reader.get('SELECT id FROM sessions').catch((e: WriteError) => e.code));
        return null;
      }),
    });
    const { outcomes } = await store.executeBatch([item('During', { id: 's1' })]);
    expect(outcomes[0]).toMatchObject({ ok: true });
    expect(seen).toEqual(['INTERNAL', 'INTERNAL', 'INTERNAL', 'INTERNAL']);
    // Once the batch has ended the connection serves reads again.
    expect(store.query('SELECT id FROM sessions')).toEqual([{ id: 's1' }]);
    await expect(store.reader.all('SELECT id FROM sessions')).resolves.toEqual([{ id: 's1' }]);
  });

  it('queues executeBatch and probeWritable behind a batch that is still open (a handler awaiting a timer), never inside it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const { store } = harness({
      // Awaiting anything but the tx breaks a handler's contract; the store must still keep others out.
      registry: registryWith(async () => {
        entered();
        await gate;
        return null;
      }),
    });
    const order: string[] = [];
    const first = store.executeBatch([item('During', { id: 'slow' })]).then((r) => (order.push('first'), r));
    await inside;
    const probe = store.probeWritable().then(() => void order.push('probe'));
    const second = store.executeBatch([item('CreateSession', { id: 'next', title: 'x' })]).then((r) => (order.push('second'), r));
    // Several turns of the event loop (timers, I/O, immediates): neither has run, both wait.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([]);
    release();
    const [a, , b] = await Promise.all([first, probe, second]);
    expect(order).toEqual(['first', 'probe', 'second']);
    expect(a.outcomes[0]).toMatchObject({ ok: true });
    expect(b.outcomes[0]).toMatchObject({ ok: true });
    expect((await store.reads.getSession('slow'))?.title).toBe('during');
  });

  it('rejects a tx a handler kept past its batch, so nothing can write into a later transaction', async () => {
    let kept: SqlTx | undefined;
    const { store } = harness({
      registry: registryWith(async (ctx) => {
        kept = ctx.tx;
        return null;
      }),
    });
    await store.executeBatch([item('During', { id: 's1' })]);
    const e = await rejection(kept!.run("INSERT INTO sessions (id, title, created_at, updated_at) VALUES ('late', 'x', 'x', 'x')"));
    expect(e).toMatchObject({ code: 'INTERNAL' });
    expect(await store.reads.getSession('late')).toBeUndefined();
  });

  it('gives a write that binds a boolean an INTERNAL outcome that rolls back only that write', async () => {
    const registry = createDefaultRegistry().register(
      defineWrite({
        name: 'BindsBoolean',
        description: 'test only: binds a boolean',
        schema: z.strictObject({}),
        async handler(ctx) {
          await ctx.tx.run("INSERT INTO projects (id, name, path, initialized, created_at, updated_at) VALUES ('p', 'p', '/p', ?, 'x', 'x')", [true as never]);
          return null;
        },
      }),
    );
    const { store } = harness({ registry });
    const { outcomes } = await store.executeBatch([item('BindsBoolean', {}), item('CreateSession', { id: 'fine', title: 'x' })]);
    expect(outcomes[0]).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect((outcomes[0] as { error: WriteError }).error.message).toMatch(/boolean/);
    expect(outcomes[1]).toMatchObject({ ok: true });
    expect(await store.reads.getProject('p')).toBeUndefined();
  });
});
