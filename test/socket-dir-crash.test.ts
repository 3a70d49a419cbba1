import { lstatSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { readDiscovery, resolveRuntimePaths } from '@scribe/node';
import { useTempCluster } from './helpers/temp-cluster.js';

// These tests are about the temp-dir fallback: without a per-user runtime dir (the children inherit this).
delete process.env.XDG_RUNTIME_DIR;
const cluster = useTempCluster('sockdir');

describe('temp socket directories across a kill -9', () => {
  it('the next primary removes the dead primary\'s fresh socket directory and uses a new private one', async () => {
    // A database path too long for an ipc socket beside it: sockets go to a mkdtemp directory.
    const deep = join(dirname(cluster.dbPath), 'x'.repeat(60), 'y'.repeat(60), 'app.db');
    const paths = resolveRuntimePaths(deep, undefined, {});
    const first = await cluster.spawn({ dbPath: deep, instanceId: 'a' });
    const firstDir = dirname(readDiscovery(paths.discoveryPath)!.router.slice('ipc://'.length));
    expect(dirname(firstDir)).toBe(tmpdir());
    expect(lstatSync(firstDir).mode & 0o777).toBe(0o700);
    await first.kill('SIGKILL');
    expect(lstatSync(firstDir).isDirectory()).toBe(true); // a dead process cleans nothing
    const second = await cluster.spawn({ dbPath: deep, instanceId: 'b' });
    expect(second.ready.role).toBe('primary');
    const secondDir = dirname(readDiscovery(paths.discoveryPath)!.router.slice('ipc://'.length));
    expect(secondDir).not.toBe(firstDir);
    expect(lstatSync(secondDir).mode & 0o777).toBe(0o700);
    expect(() => lstatSync(firstDir)).toThrow(/ENOENT/);
    await expect(second.call('createSession', { id: 's', title: 't' })).resolves.toMatchObject({ id: 's' });
  });
});
