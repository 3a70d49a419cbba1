import { describe, expect, it } from 'vitest';
import { Store } from '@scribe/store';
import type { SeriesResult } from './helpers/cluster-check.js';
import { NodeProcess, waitFor } from './helpers/node-process.js';
import { useTempCluster } from './helpers/temp-cluster.js';

const cluster = useTempCluster('feed');
const spawn = (options: Record<string, unknown>): Promise<NodeProcess> => cluster.spawn(options);

/** Every change in the log, read from the file: [seq, topic, key]. */
function logged(): Array<[number, string, string]> {
  const store = Store.open({ path: cluster.dbPath, readonly: true });
  try {
    return store.changesSince(0, 1_000_000).map((c) => [c.seq, `db.${c.entity}.${c.op}`, c.key]);
  } finally {
    store.close();
  }
}

interface Watched {
  changes: Array<[number, string, string]>;
  total: number;
  error: unknown;
}

describe('the change feed across processes', () => {
  it('gives a subscriber on a secondary every change in order, once, across a stalled subscriber and a primary failover', async () => {
    const primary = await spawn({ instanceId: 'p0' });
    const standby = await spawn({ instanceId: 'standby' });
    const watcher = await spawn({ instanceId: 'watcher', promote: false });
    const writer = await spawn({ instanceId: 'writer', promote: false });
    await watcher.send('watchChanges', { since: 0 });
    await writer.call('createSession', { id: 's', title: 'feed' });
    const running = writer.send<SeriesResult>('writeSeries', { sessionId: 's', prefix: 'm', count: 1_000_000, concurrency: 4 });
    const total = async () => (await watcher.send<Watched>('watched', { from: 1_000_000 })).total;

    await waitFor(async () => (await total()) > 100, 15_000, 'changes to reach the watcher');
    // The watcher stops reading for a while: PUB drops what its socket cannot hold.
    watcher.child.kill('SIGSTOP');
    const during = logged().length;
    await waitFor(() => logged().length > during + 300, 15_000, 'writes while the watcher is stopped');
    watcher.child.kill('SIGCONT');
    // The primary dies; the standby takes over and publishes from a new endpoint.
    const beforeKill = logged().length;
    await primary.kill('SIGKILL');
    await waitFor(() => standby.events.some((e) => e.type === 'role:changed' && e.role === 'primary'), 10_000, 'failover');
    await waitFor(() => logged().length > beforeKill + 300, 15_000, 'writes after the failover');
    await writer.send('stop');
    await running;

    const expected = logged();
    await waitFor(async () => (await total()) >= expected.length, 15_000, 'the watcher to catch up');
    const seen = await watcher.send<Watched>('watched', { from: 0 });
    expect(seen.error).toBeNull();
    expect(seen.changes).toEqual(expected);
    expect(seen.changes.map(([seq]) => seq)).toEqual(expected.map((_, i) => i + 1));
    expect(seen.changes.some(([, topic]) => topic === 'db.messages.created')).toBe(true);
  });
});
