import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { PrimaryLock } from '@scribe/store';
import { tempDir, within } from './helpers.js';

/** Where `@scribe/store` resolves for a child process. */
const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');

function lock(file: string): PrimaryLock {
  const l = new PrimaryLock({ path: file });
  onTestFinished(() => l.release());
  return l;
}

describe('PrimaryLock in one process', () => {
  it('lets one holder at a time take it; release lets another take it', () => {
    const file = path.join(tempDir(), 'primary.lock');
    const a = lock(file);
    const b = lock(file);
    expect(a.tryAcquire()).toBe(1);
    expect(a.held).toBe(true);
    expect(b.tryAcquire()).toBeUndefined();
    expect(b.held).toBe(false);
    expect(b.epoch).toBe(0);
    a.release();
    expect(a.held).toBe(false);
    expect(a.epoch).toBe(0);
    expect(b.tryAcquire()).toBe(2);
    expect(a.tryAcquire()).toBeUndefined();
  });

  it('gives a strictly greater epoch on every acquire, across release cycles and new objects', () => {
    const file = path.join(tempDir(), 'primary.lock');
    const epochs: number[] = [];
    for (let i = 0; i < 4; i++) {
      const l = lock(file);
      epochs.push(l.tryAcquire()!);
      l.release();
    }
    const again = lock(file);
    epochs.push(again.tryAcquire()!);
    again.release();
    again.release(); // safe twice
    expect(epochs).toEqual([1, 2, 3, 4, 5]);
  });

  it('answers the same epoch when the holder asks again', () => {
    const l = lock(path.join(tempDir(), 'primary.lock'));
    const e = l.tryAcquire();
    expect(l.tryAcquire()).toBe(e);
    expect(l.epoch).toBe(e);
  });
});

describe('PrimaryLock across processes', () => {
  it('is held by a child until the child is killed with SIGKILL; then this process takes it with the next epoch', async () => {
    const file = path.join(tempDir(), 'primary.lock');
    const code = `
      import { PrimaryLock } from '@scribe/store';
      const lock = new PrimaryLock({ path: process.env.LOCK });
      const epoch = lock.tryAcquire();
      // Kept reachable: a collected lock closes its connection and releases the lock (a flake under load).
      globalThis.heldLock = lock;
      process.stdout.write('held ' + epoch + '\\n');
      setInterval(() => {}, 60_000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      cwd: REPO_ROOT,
      env: { ...process.env, LOCK: file },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));

    const line = await within(
      new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += String(d);
          if (out.includes('\n')) resolve(out.trim());
        });
        child.once('exit', (c) => reject(new Error(`child exited (${String(c)}) before taking the lock: ${stderr}`)));
      }),
      15_000,
      'the child to take the lock',
    );
    const childEpoch = Number(/^held (\d+)$/.exec(line)?.[1]);
    expect(childEpoch).toBe(1);

    const mine = lock(file);
    expect(mine.tryAcquire()).toBeUndefined();

    child.kill('SIGKILL');
    const [, signal] = await within(exited, 15_000, 'the child to exit');
    expect(signal).toBe('SIGKILL');

    expect(mine.tryAcquire()).toBe(childEpoch + 1);
    expect(mine.held).toBe(true);
  });
});
