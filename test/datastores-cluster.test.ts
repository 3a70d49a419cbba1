import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ChildCallError, DATASTORES_FIXTURE, NodeProcess, waitFor } from './helpers/node-process.js';
import { useTempCluster } from './helpers/temp-cluster.js';

const cluster = useTempCluster('datastores');
const spawn = (options: Record<string, unknown>): Promise<NodeProcess> => cluster.spawn(options, DATASTORES_FIXTURE);

interface Watched {
  count: number;
  events: Array<[number, string, string]>;
  state: Record<string, unknown>;
  error: unknown;
}

const permanent = { kind: 'permanent' };

function promoted(p: NodeProcess): boolean {
  return p.events.some((e) => e.type === 'role:changed' && e.role === 'primary');
}

describe('shared datastores across processes', () => {
  it('a watcher on a secondary gets every mutation in order across a stalled watcher and a failover, and concurrent writers converge', async () => {
    const primary = await spawn({ instanceId: 'p0' });
    const standby = await spawn({ instanceId: 'standby' });
    const watcher = await spawn({ instanceId: 'watcher', promote: false });
    const other = await spawn({ instanceId: 'other-watcher', promote: false });
    const a = await spawn({ instanceId: 'writer-a', promote: false });
    const b = await spawn({ instanceId: 'writer-b', promote: false });
    await a.send('open', { datastore: 'board', options: permanent });
    await watcher.send('watch', { datastore: 'board', options: permanent });
    await other.send('watch', { datastore: 'board', options: permanent });
    const keys = ['k1', 'k2', 'k3', 'k4', 'k5'];
    const count = async (p: NodeProcess) => (await p.send<Watched>('watched')).count;

    // Two writers set the same keys concurrently, throughout.
    const runA = a.send<number>('setMany', { datastore: 'board', options: permanent, keys, writer: 'a', count: 100_000, inflight: 4 });
    const runB = b.send<number>('setMany', { datastore: 'board', options: permanent, keys, writer: 'b', count: 100_000, inflight: 4 });
    await waitFor(async () => (await count(watcher)) > 100, 15_000, 'mutations to reach the watcher');
    watcher.child.kill('SIGSTOP');
    const during = await count(other);
    await waitFor(async () => (await count(other)) > during + 200, 15_000, 'mutations while the watcher is stopped');
    watcher.child.kill('SIGCONT');
    const beforeKill = await count(other);
    await primary.kill('SIGKILL');
    await waitFor(() => promoted(standby), 10_000, 'the standby to take over');
    await waitFor(async () => (await count(other)) > beforeKill + 200, 15_000, 'mutations after the failover');
    await Promise.all([a.send('stop'), b.send('stop')]);
    await Promise.all([runA, runB]);

    const snapshot = await standby.send<Array<{ key: string; seq: number; data: unknown }>>('snapshot', { datastore: 'board' });
    const finalState = Object.fromEntries(snapshot.map((r) => [r.key, r.data]));
    const lastSeq = Math.max(...snapshot.map((r) => r.seq));
    for (const w of [watcher, other]) {
      await waitFor(async () => (await count(w)) >= lastSeq, 15_000, 'watchers to catch up');
      const seen = await w.send<Watched>('watched', { full: true });
      expect(seen.error).toBeNull();
      // Every mutation once, in commit order: one event per datastore seq.
      expect(seen.events).toHaveLength(lastSeq);
      const changeSeqs = seen.events.map(([s]) => s);
      expect(changeSeqs).toEqual([...changeSeqs].sort((x, y) => x - y));
      expect(new Set(changeSeqs).size).toBe(changeSeqs.length);
      // Folding the events gives the primary's final state, in every subscriber.
      expect(seen.state).toEqual(finalState);
    }
    expect(Object.keys(finalState).sort()).toEqual(keys);
  });

  it('merge pools: concurrent writers in three processes converge, in a watcher and in a passive (pulling) client', async () => {
    const primary = await spawn({ instanceId: 'p0' });
    const a = await spawn({ instanceId: 'merger-a', promote: false });
    const b = await spawn({ instanceId: 'merger-b', promote: false });
    const watcher = await spawn({ instanceId: 'pool-watcher', promote: false });
    const passive = await spawn({ instanceId: 'pool-passive', promote: false });
    await watcher.send('poolWatch', { pool: 'cursors' });
    const fields = ['f1', 'f2', 'f3', 'f4', 'f5'];
    type Synced = { seq: number; state: Record<string, unknown>; pulls: number };
    // Three writers (the primary too) merge into the same fields at once.
    const runs = [a, b, primary].map((p, i) => p.send<number>('poolMergeMany', { pool: 'cursors', fields, writer: `w${i}`, count: 200, inflight: 4 }));
    // The passive client pulls while the merges go on; each pull moves it to a later seq.
    let last = 0;
    for (let pull = 0; pull < 3; pull++) {
      await waitFor(async () => (await primary.send<{ seq: number }>('poolState', { pool: 'cursors' })).seq > last, 15_000, 'merges to land');
      last = (await passive.send<Synced>('poolSyncOnce', { pool: 'cursors' })).seq;
    }
    expect(await Promise.all(runs)).toEqual([200, 200, 200]);
    // Merges into one field from three processes combine member by member; they do not overwrite each other.
    await Promise.all([a, b, primary].map((p, i) => p.send('poolMergeMany', { pool: 'cursors', fields: ['joined'], writer: `w${i}`, count: 1 })));
    const final = await primary.send<{ seq: number; state: Record<string, Record<string, number>> }>('poolState', { pool: 'cursors' });
    expect(final.state.joined).toEqual({ w0: 0, w1: 0, w2: 0 });
    const pulled = await passive.send<Synced>('poolSyncOnce', { pool: 'cursors' });
    expect(pulled).toMatchObject({ seq: final.seq, state: final.state });
    await waitFor(async () => {
      const w = await watcher.send<{ state: unknown; error: unknown }>('poolWatched');
      return isDeepStrictEqual(w.state, final.state) || w.error !== null ? w : undefined;
    }, 15_000, 'the watcher to converge');
    expect(await watcher.send('poolWatched')).toMatchObject({ state: final.state, error: null });
  });

  it('gives a secondary structured errors for bad keys and unknown datastores', async () => {
    await spawn({ instanceId: 'p0' });
    const s = await spawn({ instanceId: 's', promote: false });
    await s.send('open', { datastore: 'board', options: permanent });
    // Reopening without options returns the permanent datastore (the defaults, temp and id, are not a conflict)…
    expect(await s.send('open', { datastore: 'board' })).toBe('board');
    // …and a real conflict says which option clashes.
    const clash = await s.send('open', { datastore: 'board', options: { kind: 'temp' } }).catch((e: unknown) => e);
    expect((clash as ChildCallError).error).toMatchObject({ code: 'CONFLICT', field: 'params.kind', message: expect.stringContaining('its kind is permanent, not temp') });
    const badKey = await s.send('set', { datastore: 'board', options: permanent, data: { id: 42 } }).catch((e: unknown) => e);
    expect((badKey as ChildCallError).error).toMatchObject({ name: 'WriteError', code: 'INVALID_PARAMS', field: 'params.data.id' });
    const unknown = await s.send('raw', { method: 'SetDatastoreRecord', params: { datastore_id: 'nope', data: { id: 'a' } } }).catch((e: unknown) => e);
    expect((unknown as ChildCallError).error).toMatchObject({ name: 'WriteError', code: 'NOT_FOUND', field: 'params.datastore_id' });
    const badId = await s.send('open', { datastore: 'has spaces' }).catch((e: unknown) => e);
    expect((badId as ChildCallError).error).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.id' });
  });
});
