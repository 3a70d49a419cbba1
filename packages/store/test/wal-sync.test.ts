import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WriteError } from '@scribe/protocol';
import { Store, WalSync, type WalSyncIo } from '@scribe/store';
import { promiseState } from '../../../test/helpers/promise-state.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'scribe-wal-sync-'));
  dirs.push(dir);
  return join(dir, 'db.sqlite');
}

/** An fdatasync the test completes by hand; it records each call. */
class HeldSync implements WalSyncIo {
  readonly calls: Array<(error: NodeJS.ErrnoException | null) => void> = [];
  fdatasync(_fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void {
    this.calls.push(callback);
  }
}

function message(i: number) {
  return {
    meta: { source_instance_id: 'test', request_id: `m-${i}`, timestamp: new Date().toISOString() },
    method: 'CreateMessage',
    params: { session_id: 's', role: 'user', parts: '[]' },
  };
}

describe('WalSync', () => {
  it('resolves a commit only after an fdatasync that started after it completed; commits made during a sync share the next one, in order', async () => {
    const path = tempDb();
    const store = Store.open({ path }); // creates the -wal file
    const io = new HeldSync();
    const sync = new WalSync(`${path}-wal`, io);
    const a = sync.afterCommit();
    expect(io.calls).toHaveLength(1);
    const b = sync.afterCommit();
    const c = sync.afterCommit();
    // b and c committed while a's sync ran: it may not hold their frames, so they wait for the next one.
    expect(io.calls).toHaveLength(1);
    expect(await promiseState(a)).toBe('pending');
    io.calls[0]!(null);
    expect(await promiseState(a)).toBe('resolved');
    expect(await promiseState(b)).toBe('pending');
    expect(io.calls).toHaveLength(2);
    io.calls[1]!(null);
    expect(await promiseState(b)).toBe('resolved');
    expect(await promiseState(c)).toBe('resolved');
    sync.close();
    store.close();
  });

  it('after a failed sync refuses that commit and every later one with STORAGE_IO (nothing more is acknowledged)', async () => {
    const path = tempDb();
    const store = Store.open({ path });
    const io = new HeldSync();
    const sync = new WalSync(`${path}-wal`, io);
    const a = sync.afterCommit();
    const b = sync.afterCommit();
    io.calls[0]!(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    for (const p of [a, b, sync.afterCommit()]) {
      const e = await p.then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(e).toBeInstanceOf(WriteError);
      expect((e as WriteError).code).toBe('STORAGE_IO');
      expect((e as WriteError).isRetryable()).toBe(false);
    }
    expect(io.calls).toHaveLength(1);
    sync.close();
    store.close();
  });

  it('syncs the real -wal file (an error for a file that is not there)', async () => {
    const path = tempDb();
    const store = Store.open({ path });
    await expect(new WalSync(`${path}-wal`).afterCommit()).resolves.toBeUndefined();
    const missing = await new WalSync(`${path}-nope`).afterCommit().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((missing as WriteError).code).toBe('STORAGE_IO');
    store.close();
  });
});

describe('Store commitSync', () => {
  it('pipelined (FULL): the connection runs at NORMAL and every batch returns a durability promise that resolves; the rows are in the file', async () => {
    const path = tempDb();
    const store = Store.open({ path, synchronous: 'FULL', commitSync: 'pipelined' });
    expect(store.query('SELECT * FROM pragma_synchronous')).toEqual([{ synchronous: 1 }]);
    await store.executeWrite({ meta: { source_instance_id: 'test', request_id: 'session', timestamp: new Date().toISOString() }, method: 'CreateSession', params: { id: 's', title: 's' } });
    const result = await store.executeBatch([message(1), message(2)]);
    expect(result.outcomes.map((o) => o.ok)).toEqual([true, true]);
    expect(result.durable).toBeInstanceOf(Promise);
    await result.durable;
    store.close();
    const reopened = Store.open({ path, readonly: true });
    expect(reopened.query<{ n: number }>('SELECT COUNT(*) AS n FROM messages')).toEqual([{ n: 2 }]);
    reopened.close();
  });

  it('inline (the default) and NORMAL: COMMIT is durable on return, no durability promise', async () => {
    for (const [options, level] of [
      [{}, 2],
      [{ synchronous: 'FULL', commitSync: 'inline' }, 2],
      [{ synchronous: 'NORMAL', commitSync: 'pipelined' }, 1],
    ] as const) {
      const store = Store.open({ path: tempDb(), ...options });
      expect(store.query('SELECT * FROM pragma_synchronous')).toEqual([{ synchronous: level }]);
      await store.executeWrite({ meta: { source_instance_id: 'test', request_id: 'session', timestamp: new Date().toISOString() }, method: 'CreateSession', params: { id: 's', title: 's' } });
      expect((await store.executeBatch([message(1)])).durable).toBeUndefined();
      store.close();
    }
  });

  it('refuses an unknown commitSync with a message that says what to write', () => {
    expect(() => Store.open({ path: tempDb(), commitSync: 'later' as never })).toThrow(
      "Expected 'commitSync' to be one of pipelined, inline, got later",
    );
  });
});
