import { mkdtempSync, rmSync, statSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultEndpoints, ensurePrivateDir, readDiscovery, resolveRuntimePaths, writeDiscovery } from '@scribe/node';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scribe-paths-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('runtime paths', () => {
  it('keeps lock, discovery and sockets in a directory beside the database', () => {
    const p = resolveRuntimePaths(join(dir, 'app.db'));
    expect(p.runtimeDir).toBe(join(dir, '.app.db.scribe'));
    expect(p.lockPath).toBe(join(dir, '.app.db.scribe', 'primary.lock'));
    expect(p.discoveryPath).toBe(join(dir, '.app.db.scribe', 'discovery.json'));
    expect(p.socketDir).toBe(p.runtimeDir);
    expect(defaultEndpoints(p.socketDir!, 3)).toEqual({
      router: `ipc://${join(p.runtimeDir, 'router-000003.sock')}`,
      pub: `ipc://${join(p.runtimeDir, 'pub-000003.sock')}`,
    });
  });

  it('has no fixed socket directory when the runtime path is too long for a Unix socket and there is no XDG_RUNTIME_DIR', () => {
    const deep = join(dir, 'x'.repeat(60), 'y'.repeat(60), 'app.db');
    expect(resolveRuntimePaths(deep, undefined, {}).socketDir).toBeUndefined();
  });

  it('uses a per-database directory under $XDG_RUNTIME_DIR when the runtime path is too long', () => {
    const deep = join(dir, 'x'.repeat(60), 'y'.repeat(60), 'app.db');
    const p = resolveRuntimePaths(deep, undefined, { XDG_RUNTIME_DIR: '/run/user/1000' });
    expect(p.socketDir).toMatch(/^\/run\/user\/1000\/scribe-[0-9a-f]{16}$/);
    expect(Buffer.byteLength(defaultEndpoints(p.socketDir!, 999999).router) - 'ipc://'.length).toBeLessThanOrEqual(100);
    expect(resolveRuntimePaths(deep, undefined, { XDG_RUNTIME_DIR: '/run/user/1000' }).socketDir).toBe(p.socketDir);
    expect(resolveRuntimePaths(join(dir, 'y'.repeat(100), 'other.db'), undefined, { XDG_RUNTIME_DIR: '/run/user/1000' }).socketDir).not.toBe(p.socketDir);
  });

  it('creates the runtime directory owner-only and tightens an existing one', () => {
    const target = join(dir, 'rt');
    ensurePrivateDir(target);
    expect(statSync(target).mode & 0o777).toBe(0o700);
    chmodSync(target, 0o755);
    ensurePrivateDir(target);
    expect(statSync(target).mode & 0o777).toBe(0o700);
  });

  it('fails with the directory named when it cannot be created', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    expect(() => ensurePrivateDir(join(file, 'sub'))).toThrow(`runtime directory: create ${join(file, 'sub')} (owner-only)`);
  });
});

describe('discovery file', () => {
  const record = {
    instance_id: 'p1',
    pid: 123,
    epoch: 4,
    router: 'ipc:///tmp/r.sock',
    pub: 'ipc:///tmp/p.sock',
    schema_version: 1,
    started_at: '2026-11-24T00:00:00.000Z',
  };

  it('round-trips, written owner-only', () => {
    const path = join(dir, 'discovery.json');
    writeDiscovery(path, record);
    expect(readDiscovery(path)).toEqual(record);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('is absent when missing, truncated or foreign', () => {
    mkdirSync(join(dir, 'd'));
    expect(readDiscovery(join(dir, 'd', 'none.json'))).toBeUndefined();
    const path = join(dir, 'bad.json');
    writeFileSync(path, '{"instance_id": "p1", "pid": 1');
    expect(readDiscovery(path)).toBeUndefined();
    writeFileSync(path, JSON.stringify({ ...record, epoch: 'four' }));
    expect(readDiscovery(path)).toBeUndefined();
  });
});
