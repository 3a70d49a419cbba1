import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Router } from 'zeromq';
import {
  UnsafePathError,
  createSocketDir,
  openNode,
  resolveRuntimePaths,
  writeDiscovery,
  type ScribeNode,
} from '@scribe/node';

// These tests are about the temp-dir fallback: without a per-user runtime dir (the children inherit this).
delete process.env.XDG_RUNTIME_DIR;
// Another user, simulated by chown (needs root; skipped otherwise).
const OTHER_UID = 65534;
const asRoot = process.getuid?.() === 0;
const uid = process.getuid?.() ?? 0;

let dir: string;
const cleanups: Array<() => unknown> = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scribe-sockets-'));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

function ipcDir(endpoint: string): string {
  return dirname(endpoint.slice('ipc://'.length));
}

/** Nobody but this user can write `d` or swap it: owned by us, no group/other write, parent not writable by others unless sticky. */
function expectPrivate(d: string): void {
  const st = lstatSync(d);
  expect(st.isDirectory()).toBe(true);
  expect(st.uid).toBe(uid);
  expect(st.mode & 0o077).toBe(0);
  const parent = lstatSync(dirname(d));
  expect([0, uid]).toContain(parent.uid);
  if ((parent.mode & 0o022) !== 0) expect(parent.mode & 0o1000).toBe(0o1000);
}

async function open(dbPath: string, extra: Record<string, unknown> = {}): Promise<ScribeNode> {
  const node = await openNode({ dbPath, startTimeoutMs: 2000, ...extra });
  cleanups.push(() => node.close());
  return node;
}

describe('socket directory: sockets live only where no one else can write', () => {
  it('a database path too long for ipc gets a fresh private temp directory, removed again at close', async () => {
    const deep = join(dir, 'x'.repeat(60), 'y'.repeat(60), 'app.db');
    mkdirSync(dirname(deep), { recursive: true, mode: 0o700 });
    const node = await open(deep);
    const socketDir = ipcDir(node.primaryEndpoints!.router);
    expect(dirname(socketDir)).toBe(tmpdir());
    expect(socketDir).toMatch(/scribe-sock-[A-Za-z0-9]{6}$/);
    expectPrivate(socketDir);
    await node.close();
    expect(() => lstatSync(socketDir)).toThrow(/ENOENT/);
  });

  it.runIf(asRoot)('never uses a shared $TMPDIR/scribe-<uid> that another user made (the hijack of issue 12)', async () => {
    const shared = join(tmpdir(), `scribe-${uid}`);
    const existed = (() => {
      try {
        lstatSync(shared);
        return true;
      } catch {
        return false;
      }
    })();
    if (!existed) {
      mkdirSync(shared, { mode: 0o777 });
      chmodSync(shared, 0o777);
      chownSync(shared, OTHER_UID, OTHER_UID);
      cleanups.push(() => rmSync(shared, { recursive: true, force: true }));
    }
    const deep = join(dir, 'x'.repeat(60), 'y'.repeat(60), 'app.db');
    mkdirSync(dirname(deep), { recursive: true, mode: 0o700 });
    const node = await open(deep);
    const socketDir = ipcDir(node.primaryEndpoints!.router);
    expect(socketDir.startsWith(`${shared}/`)).toBe(false);
    expectPrivate(socketDir);
  });

  it.runIf(asRoot)('a secondary refuses a discovery record that points into a directory another user can write', async () => {
    const dbPath = join(dir, 'app.db');
    const paths = resolveRuntimePaths(dbPath);
    await (await openNode({ dbPath })).close(); // the database exists; its primary is gone
    // The attacker's directory and ROUTER (bound here by root, then handed over).
    const evil = mkdtempSync(join(tmpdir(), 'scribe-evil-'));
    cleanups.push(() => rmSync(evil, { recursive: true, force: true }));
    const router = new Router();
    await router.bind(`ipc://${evil}/router.sock`);
    cleanups.push(() => router.close());
    chmodSync(evil, 0o777);
    chownSync(evil, OTHER_UID, OTHER_UID);
    writeDiscovery(paths.discoveryPath, {
      instance_id: 'old-primary',
      pid: process.pid,
      epoch: 1,
      router: `ipc://${evil}/router.sock`,
      pub: `ipc://${evil}/pub.sock`,
      schema_version: 1,
      started_at: new Date().toISOString(),
    });
    const error = await openNode({ dbPath, promote: false, startTimeoutMs: 2000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafePathError);
    expect((error as UnsafePathError).message).toMatch(/cannot be trusted for the primary's socket/);
  });

  it('uses $XDG_RUNTIME_DIR when it is private, and a fresh temp directory when it is not', () => {
    const deep = join(dir, 'x'.repeat(60), 'y'.repeat(60), 'app.db');
    const xdg = mkdtempSync(join(tmpdir(), 'xdg-'));
    cleanups.push(() => rmSync(xdg, { recursive: true, force: true }));
    chmodSync(xdg, 0o700);
    const paths = resolveRuntimePaths(deep, undefined, { XDG_RUNTIME_DIR: xdg });
    expect(createSocketDir(paths)).toBe(paths.socketDir);
    expectPrivate(paths.socketDir!);
    chmodSync(xdg, 0o777);
    const fallback = createSocketDir(paths);
    cleanups.push(() => rmSync(fallback, { recursive: true, force: true }));
    expect(dirname(fallback)).toBe(tmpdir());
    expectPrivate(fallback);
  });
});

describe('runtime directory beside the database: checked without following symlinks', () => {
  it('refuses a runtime directory that is a symlink, even to a private directory', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'scribe-elsewhere-'));
    cleanups.push(() => rmSync(elsewhere, { recursive: true, force: true }));
    symlinkSync(elsewhere, join(dir, '.app.db.scribe'));
    const error = await openNode({ dbPath: join(dir, 'app.db') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafePathError);
    expect((error as Error).message).toMatch(/\.app\.db\.scribe is a symlink; remove it/);
  });

  it('refuses a runtime directory others can write, and tightens one that others can only read', async () => {
    const rt = join(dir, '.app.db.scribe');
    mkdirSync(rt);
    chmodSync(rt, 0o777);
    const error = await openNode({ dbPath: join(dir, 'app.db') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafePathError);
    expect((error as Error).message).toMatch(/is writable by others \(mode 0777\).*chmod 0700/);
    chmodSync(rt, 0o755);
    await open(join(dir, 'app.db'));
    expect(lstatSync(rt).mode & 0o777).toBe(0o700);
  });

  it.runIf(asRoot)('refuses a runtime directory owned by another user', async () => {
    const rt = join(dir, '.app.db.scribe');
    mkdirSync(rt, { mode: 0o700 });
    chownSync(rt, OTHER_UID, OTHER_UID);
    const error = await openNode({ dbPath: join(dir, 'app.db') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafePathError);
    expect((error as Error).message).toMatch(/belongs to another user \(uid 65534\)/);
  });

  it.runIf(asRoot)('refuses a database directory another user owns or that everybody may write (no sticky bit)', async () => {
    const foreign = join(dir, 'foreign');
    mkdirSync(foreign, { mode: 0o755 });
    chownSync(foreign, OTHER_UID, OTHER_UID);
    await expect(openNode({ dbPath: join(foreign, 'app.db') })).rejects.toThrow(/foreign belongs to another user \(uid 65534\), who could replace/);
    const open777 = join(dir, 'open');
    mkdirSync(open777);
    chmodSync(open777, 0o777);
    await expect(openNode({ dbPath: join(open777, 'app.db') })).rejects.toThrow(/open is writable by every user \(mode 0777\) without the sticky bit/);
    writeFileSync(join(dir, 'marker'), '');
  });
});
