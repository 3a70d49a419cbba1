import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RPC_METHODS, WriteError } from '@scribe/protocol';
import { PrimaryLock } from '@scribe/store';
import { RpcClient } from '@scribe/transport';
import { defaultEndpoints, openNode, readDiscovery, type NodeEvent, type ScribeNode } from '@scribe/node';

let dir: string;
const nodes: ScribeNode[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scribe-lead-'));
});
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(options: Parameters<typeof openNode>[0]): Promise<ScribeNode> {
  const n = await openNode(options);
  nodes.push(n);
  return n;
}

describe('leadership', () => {
  it.each([
    ['the moment it starts', (close: () => void) => close()],
    ['while it opens the database and binds', (close: () => void) => setImmediate(close)],
  ])('close() during a promotion (%s) stops it and releases everything before it resolves', async (_when, later) => {
    const dbPath = join(dir, 'l.db');
    const a = await open({ dbPath, instanceId: 'a' });
    const b = await open({ dbPath, instanceId: 'b', pollIntervalMs: 20 });
    expect(b.role).toBe('secondary');
    const events: Array<NodeEvent | { type: 'closed' }> = [];
    let closed: Promise<void> | undefined;
    b.on((event) => {
      events.push(event);
      // The moment b holds the lock and starts promoting: close it.
      if (event.type === 'promotion:started') {
        later(() => {
          closed = b.close().then(() => void events.push({ type: 'closed' }));
        });
      }
    });
    await a.close();
    const end = Date.now() + 10_000;
    while (closed === undefined) {
      if (Date.now() > end) throw new Error('b never started a promotion');
      await new Promise((r) => setTimeout(r, 5));
    }
    await closed;
    const epoch = (events.find((e) => e.type === 'promotion:started') as { epoch: number }).epoch;

    // Released before close() resolved: the lock is free, no record or socket names b.
    const lock = new PrimaryLock({ path: b.paths.lockPath });
    expect(lock.tryAcquire()).toBeGreaterThan(epoch);
    lock.release();
    expect(readDiscovery(b.paths.discoveryPath)).toBeUndefined();
    // Nobody answers where b would have served.
    const client = new RpcClient({ endpoint: defaultEndpoints(b.paths.socketDir!, epoch).router });
    client.connect();
    const ping = await client.call(RPC_METHODS.ping, null, { timeoutMs: 300 }).catch((e: unknown) => e);
    await client.close();
    expect(ping).toBeInstanceOf(WriteError);
    // And nothing of the abandoned promotion happens later.
    await new Promise((r) => setTimeout(r, 300));
    expect(events.map((e) => e.type)).toEqual(['promotion:started', 'closed']);
    expect(readDiscovery(b.paths.discoveryPath)).toBeUndefined();

    // A node opened now becomes primary of a newer epoch.
    const c = await open({ dbPath, instanceId: 'c' });
    expect(c.role).toBe('primary');
    expect(c.epoch).toBeGreaterThan(epoch);
  });

  it('joins the cluster of the file, not of how its path is spelled: a symlink alias finds the same primary', async () => {
    const { symlinkSync } = await import('node:fs');
    const dbPath = join(dir, 'real.db');
    const a = await open({ dbPath, instanceId: 'a' });
    const alias = join(dir, 'alias.db');
    symlinkSync(dbPath, alias);
    const b = await open({ dbPath: alias, instanceId: 'b' });
    expect(b.role).toBe('secondary');
    expect(b.epoch).toBe(a.epoch);
    expect(b.paths.lockPath).toBe(a.paths.lockPath);
    await b.querier.createSession({ id: 'via-alias', title: 'x' });
    expect(await a.querier.getSession('via-alias')).toMatchObject({ id: 'via-alias' });
  });
});
