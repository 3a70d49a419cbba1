import { spawn as spawnProcess, spawnSync, type ChildProcess } from 'node:child_process';
import { lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InsecureEndpointError, openNode, readDiscovery, resolveRuntimePaths } from '@scribe/node';
import { curveKeyPair } from '@scribe/transport';
import { waitFor } from './helpers/node-process.js';

const CLI = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
let dir = '';
const children: ChildProcess[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scribe-endpoints-'));
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('openNode refuses endpoints that others can reach without CURVE', () => {
  it.each([
    ['tcp beyond loopback', { router: 'tcp://0.0.0.0:*', pub: 'tcp://127.0.0.1:*' }, 'endpoints.router', /would accept connections from other machines/],
    ['a tcp host name that is not loopback', { router: 'tcp://127.0.0.1:*', pub: 'tcp://example.com:7001' }, 'endpoints.pub', /other machines/],
    ['an abstract ipc socket', { router: 'ipc://@scribe-test-router', pub: 'ipc://@scribe-test-pub' }, 'endpoints.router', /abstract ipc socket, which every local user can connect to/],
  ])('%s: InsecureEndpointError naming the option, nothing opened', async (_name, endpoints, option, reason) => {
    const error = (await openNode({ dbPath: join(dir, 'app.db'), endpoints }).catch((e: unknown) => e)) as InsecureEndpointError;
    expect(error).toBeInstanceOf(InsecureEndpointError);
    expect(error).toMatchObject({ code: 'ERR_SCRIBE_INSECURE_ENDPOINT', option });
    expect(error.message).toMatch(reason);
    expect(error.message).toMatch(/CURVE keys .*allowInsecure: true/);
    expect(readDiscovery(resolveRuntimePaths(join(dir, 'app.db')).discoveryPath)).toBeUndefined();
  });

  it('binds them with allowInsecure, or with CURVE keys', async () => {
    const open = await openNode({ dbPath: join(dir, 'a.db'), endpoints: { router: 'ipc://@scribe-test-' + process.pid, pub: 'tcp://0.0.0.0:*' }, allowInsecure: true });
    try {
      expect(open.role).toBe('primary');
    } finally {
      await open.close();
    }
    const keys = curveKeyPair();
    const secured = await openNode({ dbPath: join(dir, 'b.db'), endpoints: { router: 'tcp://0.0.0.0:*', pub: 'tcp://0.0.0.0:*' }, curve: keys });
    try {
      expect(secured.role).toBe('primary');
    } finally {
      await secured.close();
    }
  });

  it('accepts loopback tcp, IPv6 [::1] included, and a follower reaches it', async () => {
    const dbPath = join(dir, 'c.db');
    const primary = await openNode({ dbPath, endpoints: { router: 'tcp://[::1]:*', pub: 'tcp://[::1]:*' } });
    const secondary = await openNode({ dbPath, promote: false });
    try {
      expect(primary.primaryEndpoints?.router).toMatch(/^tcp:\/\/\[::1\]:\d+$/);
      await expect(secondary.querier.createSession({ id: 's1', title: 'over ::1' } as never)).resolves.toMatchObject({ id: 's1' });
    } finally {
      await secondary.close();
      await primary.close();
    }
  });
});

describe('scribe start', () => {
  it('accepts tcp://[::1]:PORT as loopback', async () => {
    const child = spawnProcess(
      process.execPath,
      [CLI, 'start', '--db', join(dir, 'cli.db'), '--log-level', 'info', '--router', 'tcp://[::1]:*', '--pub', 'tcp://[::1]:*'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    await waitFor(() => out.includes('"msg":"scribe started"') || child.exitCode !== null, 15_000, 'scribe start');
    expect(child.exitCode, out).toBeNull();
    expect(readDiscovery(resolveRuntimePaths(join(dir, 'cli.db')).discoveryPath)?.router).toMatch(/^tcp:\/\/\[::1\]:\d+$/);
  });
});

describe('scribe start --file-mode', () => {
  it('gives the database and its WAL the group mode asked for, and refuses a mode open to every user', async () => {
    const db = join(dir, 'shared.db');
    const child = spawnProcess(process.execPath, [CLI, 'start', '--db', db, '--log-level', 'info', '--file-mode', '660'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    await waitFor(() => out.includes('"msg":"scribe started"') || child.exitCode !== null, 15_000, 'scribe start');
    expect(child.exitCode, out).toBeNull();
    expect(lstatSync(db).mode & 0o777).toBe(0o660);
    expect(lstatSync(`${db}-wal`).mode & 0o777).toBe(0o660);
    expect(lstatSync(resolveRuntimePaths(db).runtimeDir).mode & 0o777).toBe(0o770);
    const r = spawnSync(process.execPath, [CLI, 'start', '--db', join(dir, 'x.db'), '--file-mode', '666'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--file-mode must be 600 \(owner only\), 640 \(group reads\) or 660 \(group reads and writes\), got "666"/);
  });
});

