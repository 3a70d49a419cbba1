/**
 * `node.changes({ since, topics })` on every engine: every committed change once, in
 * one order (seq 1, 2, 3, … without gaps), across writers in two members of the same
 * database; resumable by `since`; filtered by topic prefix; RESYNC_NEEDED once the
 * changes a reader needs were pruned. The SQLite-only claims (a stalled subscriber and
 * a primary failover) are in change-feed; the PostgreSQL LISTEN drop is in pg-node.
 */
import { describe, expect, it } from 'vitest';
import { ResyncNeededError } from '@scribe/node';
import type { StoredChange } from '@scribe/store';
import { TEST_ENGINES, useEngines, type TestNode } from './helpers/engines.js';
import { waitFor } from './helpers/node-process.js';

// The feed's order is the commit order of durable commits: the server is durable (fsync on).
const engines = useEngines();

/** Collects the changes of `node` from `since` until `until` says it has enough (bounded). */
async function collect(node: TestNode, options: { since?: number; topics?: readonly string[] }, until: (seen: StoredChange[]) => boolean): Promise<StoredChange[]> {
  const seen: StoredChange[] = [];
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 20_000);
  try {
    for await (const c of node.changes({ ...options, signal: ac.signal })) {
      seen.push(c);
      if (until(seen)) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return seen;
}

describe.each(TEST_ENGINES)('node.changes on %s', (engine) => {
  it('gives every change of writers in two members once, in seq order without gaps, to a reader that started before them', async () => {
    const at = await engines.location(engine);
    const a = await engines.openPeer(engine, at, { instanceId: 'a' });
    const b = await engines.openPeer(engine, at, { instanceId: 'b' });
    await a.querier.createSession({ id: 's', title: 'shared' });
    const count = 30;
    const reading = collect(b, { since: 0 }, (seen) => seen.length === 1 + 4 * count);
    await Promise.all(
      [a, b].map(async (node, w) => {
        for (let i = 0; i < count; i += 5) {
          await Promise.all(Array.from({ length: 5 }, (_, j) => node.querier.createMessage({ id: `${node.instanceId}-${i + j}`, session_id: 's', role: 'user', parts: '[]' })));
        }
        return w;
      }),
    );
    const seen = await reading;
    // 1 session + per message its creation and the session's update.
    expect(seen.map((c) => c.seq)).toEqual(Array.from({ length: 1 + 4 * count }, (_, i) => i + 1));
    const messages = seen.filter((c) => c.entity === 'messages').map((c) => c.key);
    expect(new Set(messages).size).toBe(2 * count);
    expect(seen[0]).toMatchObject({ entity: 'sessions', key: 's', op: 'created', source_instance_id: 'a' });
    // Each writer's own messages arrive in the order it wrote them.
    for (const id of ['a', 'b']) {
      const own = messages.filter((k) => k.startsWith(`${id}-`)).map((k) => Number(k.slice(2)));
      expect(own.slice().sort((x, y) => x - y)).toEqual(Array.from({ length: count }, (_, i) => i));
      for (let i = 0; i + 5 <= count; i += 5) expect(own.slice(i, i + 5).sort((x, y) => x - y)).toEqual([i, i + 1, i + 2, i + 3, i + 4]);
    }
    // The reader's view is the log: what another reader gets from the same start.
    const again = await collect(a, { since: 0 }, (s) => s.length === seen.length);
    expect(again).toEqual(seen);
  });

  it('resumes after the last seq applied, without a gap or a repeat, and filters by topic prefix', async () => {
    const node = await engines.openTestNode(engine);
    await node.querier.createSession({ id: 's', title: 't' });
    for (let i = 0; i < 6; i++) await node.querier.createMessage({ id: `m${i}`, session_id: 's', role: 'user', parts: '[]' });
    await node.querier.updateSession({ id: 's', title: 'renamed' });
    const firstPart = await collect(node, { since: 0 }, (s) => s.length === 5);
    const rest = await collect(node, { since: firstPart.at(-1)!.seq }, (s) => s.length === 14 - 5);
    expect([...firstPart, ...rest].map((c) => c.seq)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
    const created = await collect(node, { since: 0, topics: ['db.messages.created', 'db.sessions.updated'] }, (s) => s.length === 6 + 7);
    expect(created.filter((c) => c.entity === 'messages').map((c) => c.key)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    expect(created.every((c) => (c.entity === 'messages' && c.op === 'created') || (c.entity === 'sessions' && c.op === 'updated'))).toBe(true);
    expect(created.map((c) => c.seq)).toEqual(created.map((c) => c.seq).sort((x, y) => x - y));
  });

  it('says RESYNC_NEEDED to a reader whose changes were pruned past the retention, with the seq to start again from', async () => {
    const node = await engines.openTestNode(engine, { changeRetention: 10 });
    await node.querier.createSession({ id: 's', title: 't' });
    // The logs are pruned every 1000 writes (in one process); a reader from seq 1 is then past the retention.
    for (let i = 0; i < 1000; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => node.querier.createProject({ id: `p${i + j}`, name: 'p', path: `/p${i + j}` })));
    }
    const latest = (await node.querier.query<{ n: number }>('SELECT MAX(seq) AS n FROM _scribe_changes'))[0]!.n;
    expect(latest).toBe(1001);
    // On PostgreSQL the prune runs after the batch that crossed 1000 writes, beside the next
    // ones (not inside them): wait until it has committed.
    await waitFor(async () => ((await node.querier.query<{ m: number }>('SELECT MIN(seq) AS m FROM _scribe_changes'))[0]!.m ?? 0) > 1, 20_000, 'the prune of the change log');
    const err = await node.changes({ since: 1 }).next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResyncNeededError);
    expect(err).toMatchObject({ code: 'RESYNC_NEEDED', since: 1, latest });
    // Starting again from `latest` works.
    const next = collect(node, { since: (err as ResyncNeededError).latest }, (s) => s.length === 1);
    await node.querier.createSession({ id: 'after', title: 't' });
    expect((await next)[0]).toMatchObject({ seq: latest + 1, key: 'after' });
  }, 60_000);
});
