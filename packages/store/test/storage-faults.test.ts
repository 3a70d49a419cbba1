import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { RETRYABLE } from '@scribe/protocol';
import { Store, createDefaultRegistry, defineWrite } from '@scribe/store';
import { item, openStore, rejection, snapshot, tempDir, thrown } from './helpers.js';

/**
 * Storage faults are real here: SQLITE_FULL from SQLite itself (a page limit on the
 * connection, set by a write like any other), and a file the kernel will not let
 * anyone write (the immutable attribute, where the filesystem has one).
 */
function registryWithPageLimit() {
  return createDefaultRegistry().register(
    defineWrite({
      name: 'LimitPages',
      description: 'test only: caps the file at its current size plus `extra` pages',
      schema: z.object({ extra: z.number().int() }).strict(),
      async handler(ctx, p) {
        const pages = (await ctx.tx.get<{ page_count: number }>('PRAGMA page_count'))!.page_count;
        await ctx.tx.get(`PRAGMA max_page_count = ${pages + p.extra}`);
        return pages + p.extra;
      },
    }),
  );
}

/** Whether this machine lets the test set the immutable attribute (root on ext4, xfs, btrfs…). */
function canMakeImmutable(): boolean {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scribe-chattr-'));
  const file = path.join(dir, 'probe');
  fs.writeFileSync(file, '');
  try {
    execFileSync('chattr', ['+i', file], { stdio: 'ignore' });
    execFileSync('chattr', ['-i', file], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('storage faults in the store', () => {
  it('answers STORAGE_FULL (not retryable, not recorded) when the file cannot grow, and runs the same request id once it can', async () => {
    const dir = tempDir();
    const store = openStore({ path: path.join(dir, 'full.db'), registry: registryWithPageLimit() });
    await store.executeWrite(item('CreateSession', { id: 's', title: 'full' }));
    await store.executeWrite(item('LimitPages', { extra: 0 }));
    const before = snapshot(store);
    const big = JSON.stringify([{ text: 'x'.repeat(64 * 1024) }]);
    // SQLite rolls the whole transaction back on SQLITE_FULL: the batch fails as one, nothing applied.
    const error = await rejection(store.executeBatch([
        item('CreateMessage', { id: 'small', session_id: 's', role: 'user', parts: '[]' }, 'small-1'),
        item('CreateMessage', { id: 'm1', session_id: 's', role: 'user', parts: big }, 'big-1'),
      ]));
    expect(error).toMatchObject({ code: 'STORAGE_FULL', retryable: false });
    expect(error.isRetryable()).toBe(false);
    expect(RETRYABLE.STORAGE_FULL).toBe(false);
    expect(error?.message).not.toMatch(/SQLITE|\//);
    expect(snapshot(store)).toEqual(before);
    // Not recorded as the request's answer: once there is room, the same request id runs.
    expect(store.findRequest('big-1')).toBeUndefined();
    expect(store.findRequest('small-1')).toBeUndefined();
    await store.executeWrite(item('LimitPages', { extra: 1000 }));
    expect((await store.executeWrite(item('CreateMessage', { id: 'm1', session_id: 's', role: 'user', parts: big }, 'big-1')))).toMatchObject({ id: 'm1' });
  });

  // Needs the immutable attribute (root, a filesystem that has it); skipped elsewhere.
  it.runIf(canMakeImmutable())('refuses to open read-write a file it may only read, instead of silently opening it read-only', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'locked.db');
    Store.open({ path: file }).close();
    execFileSync('chattr', ['+i', file]);
    onTestFinished(() => {
      execFileSync('chattr', ['-i', file]);
    });
    const e = (() => {
      try {
        Store.open({ path: file });
      } catch (err) {
        return err as Error;
      }
      throw new Error('expected Store.open to refuse');
    })();
    expect(e.message).toMatch(/can only be opened read-only/);
    // Read-only opens (secondaries) still work.
    const reader = Store.open({ path: file, readonly: true });
    expect(reader.schemaVersion()).toBeGreaterThan(0);
    reader.close();
  });

  it('probeWritable says BUSY while another connection holds the write lock, and passes once it is free', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'busy.db');
    const store = openStore({ path: file, busyTimeoutMs: 5_000 });
    const Database = (await import('better-sqlite3')).default;
    const holder = new Database(file, { timeout: 0 });
    holder.exec('BEGIN IMMEDIATE');
    try {
      expect(await rejection(store.probeWritable())).toMatchObject({ code: 'BUSY' });
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    await store.probeWritable();
  });
});
