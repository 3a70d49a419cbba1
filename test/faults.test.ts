import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { readDiscovery, resolveRuntimePaths } from '@scribe/node';
import { PrimaryLock } from '@scribe/store';
import { auditSession, checkInvariants, type SeriesResult } from './helpers/cluster-check.js';
import { NodeProcess, waitFor } from './helpers/node-process.js';
import { canMountTmpfs, mountTmpfs, resizeTmpfs } from './helpers/small-filesystem.js';
import { useTempCluster } from './helpers/temp-cluster.js';

// Fault injection with real processes and real files: what an operator's slip, another
// program or the disk can do under a running cluster, and what scribe must do about it.

const cluster = useTempCluster('fault');
const spawn = (options: Record<string, unknown>): Promise<NodeProcess> => cluster.spawn(options);
const paths = () => resolveRuntimePaths(cluster.dbPath);
const LOCK_HOLDER = fileURLToPath(new URL('./fixtures/lock-holder.mjs', import.meta.url));

type Health = { ok: boolean; role?: string; reason: string };
const health = (p: NodeProcess): Promise<Health> => p.send<Health>('health');
const events = (p: NodeProcess, type: string): Array<Record<string, unknown>> => p.events.filter((e) => e.type === type);

function startWriter(w: NodeProcess, prefix: string, timeoutMs = 5_000): Promise<SeriesResult> {
  return w.send<SeriesResult>('writeSeries', { sessionId: 's', prefix, count: 1_000_000, concurrency: 4, timeoutMs, withIds: false });
}

/** Commands that need root and a filesystem that has them; a test that needs one is skipped elsewhere. */
function can(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const probeDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', '.fault-probe');
function canChattr(): boolean {
  mkdirSync(probeDir, { recursive: true });
  const f = join(probeDir, 'f');
  writeFileSync(f, '');
  try {
    return can('chattr', ['+i', f]) && can('chattr', ['-i', f]);
  } finally {
    rmSync(probeDir, { recursive: true, force: true });
  }
}
const CHATTR = canChattr();
const TMPFS = canMountTmpfs;

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      c();
    } catch {
      // best effort: the temp dir goes next
    }
  }
});

describe('never two primaries', () => {
  it('kill -9 during a promotion: the next node takes over at a newer epoch, nothing acknowledged is lost or doubled', async () => {
    const primary = await spawn({ instanceId: 'p0' });
    const doomed = await spawn({ instanceId: 'doomed', crashOnPromotionStart: true });
    const writer = await spawn({ instanceId: 'w1', promote: false });
    await writer.call('createSession', { id: 's', title: 'kill during promotion' });
    const running = startWriter(writer, 'w1', 20_000);
    await waitFor(() => auditSession(cluster.dbPath, 's').markers.length > 100, 15_000, 'writes before the kill');
    await primary.kill('SIGKILL');
    // The standby takes the lock, starts promoting, and dies there (SIGKILL by itself).
    const died = await doomed.exited;
    expect(died.signal).toBe('SIGKILL');
    const survivor = await spawn({ instanceId: 'survivor' });
    expect(survivor.ready.role).toBe('primary');
    expect(survivor.ready.epoch).toBeGreaterThan(primary.ready.epoch + 1);
    const before = auditSession(cluster.dbPath, 's').markers.length;
    await waitFor(() => auditSession(cluster.dbPath, 's').markers.length > before + 100, 15_000, 'writes through the survivor');
    await writer.send('stop');
    const result = await running;
    expect(checkInvariants(auditSession(cluster.dbPath, 's'), [result])).toEqual([]);
    expect(result.acked.length).toBeGreaterThan(200);
  });

  it('close() during a promotion: when it resolves the node serves nothing, holds no lock, and a later node is primary', async () => {
    const primary = await spawn({ instanceId: 'p0' });
    const standby = await spawn({ instanceId: 'standby', closeOnPromotionStart: true });
    await primary.close();
    await waitFor(() => events(standby, 'closed').length > 0, 10_000, 'the standby to be closed during its promotion');
    const started = events(standby, 'promotion:started')[0]!;
    // Nothing of the abandoned promotion happened: no role, no record, a free lock.
    expect(events(standby, 'role:changed').filter((e) => e.role === 'primary')).toEqual([]);
    expect(readDiscovery(paths().discoveryPath)).toBeUndefined();
    const next = await spawn({ instanceId: 'next' });
    expect(next.ready.role).toBe('primary');
    expect(next.ready.epoch).toBeGreaterThan(started.epoch as number);
    expect(events(standby, 'role:changed').filter((e) => e.role === 'primary')).toEqual([]);
  });

  it('a symlink alias of the database joins the same cluster instead of founding a second one', async () => {
    const primary = await spawn({ instanceId: 'p0' });
    const alias = join(dirname(cluster.dbPath), 'alias.db');
    symlinkSync(cluster.dbPath, alias);
    const other = await spawn({ instanceId: 'via-alias', dbPath: alias });
    expect(other.ready.role).toBe('secondary');
    expect(other.ready.epoch).toBe(primary.ready.epoch);
    await other.call('createSession', { id: 'a', title: 'through the alias' });
    expect(await primary.call('getSession', 'a')).toMatchObject({ id: 'a' });
  });

  it('rm of the lock file: the primary steps down, no second primary serves beside it, epochs only grow, no write lost or doubled', async () => {
    const primary = await spawn({ instanceId: 'p0', heartbeatIntervalMs: 200 });
    const writer = await spawn({ instanceId: 'w1', promote: false });
    await writer.call('createSession', { id: 's', title: 'lock removed' });
    const running = startWriter(writer, 'w1', 15_000);
    await waitFor(() => auditSession(cluster.dbPath, 's').markers.length > 100, 15_000, 'writes before the rm');
    const dir = paths().runtimeDir;
    for (const f of readdirSync(dir)) if (f.startsWith('primary.lock')) rmSync(join(dir, f));
    // A new node locks the new lock file at once; it must not serve while p0 does.
    const newcomer = await spawn({ instanceId: 'n1', heartbeatIntervalMs: 200, logLevel: 'info' });
    await waitFor(() => events(primary, 'role:changed').some((e) => e.role === 'secondary'), 10_000, 'p0 to step down');
    const steppedDownAt = events(primary, 'role:changed').find((e) => e.role === 'secondary')!.at as number;
    // Whoever leads next (n1, or p0 again) does so at a newer epoch, and only after p0 stopped serving.
    const next = await waitFor(
      () => {
        const p0Again = events(primary, 'role:changed').find((e) => e.role === 'primary');
        if (p0Again !== undefined) return { epoch: p0Again.epoch as number, at: p0Again.at as number };
        const line = logLines(newcomer).find((l) => l.msg === 'role: primary');
        return line === undefined ? undefined : { epoch: line.epoch as number, at: line.time as number };
      },
      15_000,
      'a primary of a newer epoch',
    );
    expect(next.epoch).toBeGreaterThan(primary.ready.epoch);
    expect(next.at).toBeGreaterThanOrEqual(steppedDownAt);
    const before = auditSession(cluster.dbPath, 's').markers.length;
    await waitFor(() => auditSession(cluster.dbPath, 's').markers.length > before + 100, 15_000, 'writes through the new primary');
    await writer.send('stop');
    const result = await running;
    expect(checkInvariants(auditSession(cluster.dbPath, 's'), [result])).toEqual([]);
  });
});

describe('discovery and sockets', () => {
  it('heals after discovery.json and the sockets are deleted under a running cluster: new nodes still join', async () => {
    const primary = await spawn({ instanceId: 'p0', heartbeatIntervalMs: 200 });
    const p = paths();
    const socketDir = dirname(readDiscovery(p.discoveryPath)!.router.slice('ipc://'.length));
    rmSync(p.discoveryPath);
    for (const f of readdirSync(socketDir)) if (f.endsWith('.sock')) rmSync(join(socketDir, f));
    const late = await spawn({ instanceId: 'late', promote: false });
    expect(late.ready.role).toBe('secondary');
    expect(late.ready.epoch).toBe(primary.ready.epoch);
    await late.call('createSession', { id: 'after-rm', title: 'joined after the rm' });
    expect(await primary.call('getSession', 'after-rm')).toMatchObject({ id: 'after-rm' });
  });

  it('a forged record (epoch 99, a dead endpoint) moves no secondary, and the primary puts its own back', async () => {
    const primary = await spawn({ instanceId: 'p0', heartbeatIntervalMs: 200 });
    const secondary = await spawn({ instanceId: 's1', promote: false });
    const p = paths();
    const real = readDiscovery(p.discoveryPath)!;
    writeFileSync(
      p.discoveryPath,
      JSON.stringify({ ...real, instance_id: 'mallory', pid: process.pid, epoch: 99, router: real.router.replace(/router-\d+/, 'router-000099'), pub: real.pub.replace(/pub-\d+/, 'pub-000099') }),
    );
    await waitFor(() => readDiscovery(p.discoveryPath)?.instance_id === 'p0', 10_000, 'the primary to put its record back');
    await secondary.call('createSession', { id: 'still', title: 'written through p0' });
    expect(await primary.call('getSession', 'still')).toMatchObject({ id: 'still' });
    expect(events(secondary, 'primary:changed')).toEqual([]);
    expect((await secondary.send<{ epoch: number }>('info')).epoch).toBe(primary.ready.epoch);
  });
});

describe('faults that surface', () => {
  it('a lock held by another process: the primary keeps answering pings while writes wait, BUSY at the deadline, 503 saying why', async () => {
    const primary = await spawn({ instanceId: 'p0' });
    const secondary = await spawn({ instanceId: 's1', promote: false, writeTimeoutMs: 4_000 });
    await secondary.call('createSession', { id: 's', title: 'foreign lock' });
    const holder = fork(LOCK_HOLDER, [cluster.dbPath], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    cleanups.push(() => holder.kill('SIGKILL'));
    await message(holder, 'holding');
    // A write waits for the lock...
    let settled = false;
    const waiting = secondary
      .call('createMessage', { session_id: 's', role: 'user', parts: '[]' })
      .catch((e: unknown) => e)
      .finally(() => {
        settled = true;
      });
    // ...at the primary, which says so...
    const primaryHealth = await waitFor(async () => {
      const h = await health(primary);
      return h.reason.startsWith('BUSY since') ? h : undefined;
    }, 5_000, 'the primary to report the waiting write');
    expect(primaryHealth).toMatchObject({ ok: false, reason: expect.stringMatching(/another connection holds the database's write lock/) });
    // ...and keeps answering meanwhile: each health check of the secondary pings it (bounded at 1 s).
    for (let i = 0; i < 5; i++) {
      const h = await health(secondary);
      expect(h, h.reason).toMatchObject({ ok: true, role: 'secondary' });
    }
    expect(settled).toBe(false);
    // BUSY at the write's deadline, while the other process still holds the lock.
    const error = (await waiting) as { error: { code: string; retryable: boolean } };
    expect(error.error).toMatchObject({ code: 'BUSY', retryable: true });
    holder.send('release');
    await message(holder, 'released');
    await expect(secondary.call('createMessage', { session_id: 's', role: 'user', parts: '[]' })).resolves.toMatchObject({ session_id: 's' });
    await waitFor(async () => (await health(primary)).ok, 5_000, 'the primary to be healthy again');
  });

  it('the database deleted under a running primary: writes end in DATABASE_GONE, nothing acknowledged after it, no node makes a new file', async () => {
    const primary = await spawn({ instanceId: 'p0', heartbeatIntervalMs: 200 });
    const standby = await spawn({ instanceId: 'standby' });
    const writer = await spawn({ instanceId: 'w1', promote: false });
    await writer.call('createSession', { id: 's', title: 'rm' });
    const running = startWriter(writer, 'w1', 3_000);
    await waitFor(() => auditSession(cluster.dbPath, 's').markers.length > 100, 15_000, 'writes before the rm');
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${cluster.dbPath}${suffix}`, { force: true });
    await waitFor(() => events(primary, 'role:changed').some((e) => e.role === 'secondary'), 10_000, 'the primary to step down');
    // The standby (or p0 again) tries to promote and refuses to create an empty file.
    await waitFor(() => [...events(standby, 'promotion:failed'), ...events(primary, 'promotion:failed')].length > 0, 10_000, 'a refused promotion');
    await writer.send('stop');
    const result = await running;
    const gone = result.failed.filter((f) => f.error.code === 'DATABASE_GONE');
    expect(gone.length).toBeGreaterThan(0);
    expect(existsSync(cluster.dbPath)).toBe(false);
    const h = await health(standby);
    expect(h.ok).toBe(false);
    expect(h.reason).toMatch(/DATABASE_GONE|missing/);
    const refused = [...events(standby, 'promotion:failed'), ...events(primary, 'promotion:failed')][0]!;
    expect(String(refused.error)).toMatch(/promote/);
  });

  it.runIf(CHATTR)('a database the next primary cannot write: it does not keep the lock, says why (503), and takes over once the file is writable', async () => {
    const primary = await spawn({ instanceId: 'p0' });
    const standby = await spawn({ instanceId: 'standby' });
    await standby.call('createSession', { id: 's', title: 'immutable' });
    await primary.kill('SIGKILL');
    const files = [cluster.dbPath, `${cluster.dbPath}-wal`].filter((f) => existsSync(f));
    execFileSync('chattr', ['+i', ...files]);
    cleanups.push(() => execFileSync('chattr', ['-i', ...files]));
    await waitFor(() => events(standby, 'promotion:failed').length > 0, 10_000, 'a refused promotion');
    expect(String(events(standby, 'promotion:failed')[0]!.error)).toMatch(/promote/);
    const h = await health(standby);
    expect(h.ok).toBe(false);
    expect(h.reason).toMatch(/promotion to epoch \d+ failed/);
    // It does not keep the lock: someone else can take it between its attempts.
    const lock = new PrimaryLock({ path: paths().lockPath });
    await waitFor(() => lock.tryAcquire() !== undefined, 10_000, 'the lock to be free');
    lock.release();
    execFileSync('chattr', ['-i', ...files]);
    await waitFor(() => events(standby, 'role:changed').some((e) => e.role === 'primary'), 15_000, 'the standby to promote once it can write');
    await expect(standby.call('createMessage', { session_id: 's', role: 'user', parts: '[]' })).resolves.toMatchObject({ session_id: 's' });
  });

  it.runIf(TMPFS)('disk full on a small filesystem: STORAGE_FULL at once, 503 while it lasts, writes again when space returns', async () => {
    const dir = join(dirname(cluster.dbPath), 'small');
    mkdirSync(dir);
    cleanups.push(mountTmpfs(dir, '2m'));
    const dbPath = join(dir, 'full.db');
    const primary = await spawn({ instanceId: 'p0', dbPath });
    const writer = await spawn({ instanceId: 'w1', dbPath, promote: false, writeTimeoutMs: 30_000 });
    await writer.call('createSession', { id: 's', title: 'disk full' });
    const big = JSON.stringify([{ text: 'x'.repeat(100_000) }]);
    let error: { code?: string; retryable?: boolean } | undefined;
    for (let i = 0; i < 100 && error === undefined; i++) {
      error = await writer
        .call('createMessage', { session_id: 's', role: 'user', parts: big })
        .then(() => undefined)
        .catch((e: { error: { code?: string; retryable?: boolean } }) => e.error);
    }
    // Its own code, not retried until the 30 s budget ran out into a TIMEOUT.
    expect(error).toMatchObject({ code: 'STORAGE_FULL', retryable: false });
    const h = await health(primary);
    expect(h.ok).toBe(false);
    expect(h.reason).toMatch(/^STORAGE_FULL since/);
    // Space comes back (the filesystem grows): the next write commits and health recovers by itself.
    resizeTmpfs(dir, '64m');
    await expect(writer.call('createMessage', { session_id: 's', role: 'user', parts: big })).resolves.toMatchObject({ session_id: 's' });
    expect((await health(primary)).ok).toBe(true);
  });
});

/** The JSON log lines a node process wrote to stderr. */
function logLines(p: NodeProcess): Array<Record<string, unknown>> {
  return p.stderr
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function message(child: ChildProcess, type: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type?: string }): void => {
      if (m.type === type) {
        child.off('message', onMessage);
        resolve();
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`lock holder exited (${code}) before '${type}'`)));
  });
}
