import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import datastores from '@scribe/datastores';
import segments from '@scribe/segments';
import { createDefaultRegistry } from '@scribe/store';
import { afterEach, describe, expect, it } from 'vitest';
import { PgStore } from '../src/pg-store.js';
import { runPostgresTests, usePostgres } from '../../../test/helpers/postgres-server.js';

const server = usePostgres();
const PEER = fileURLToPath(new URL('./fixtures/pg-peer.mjs', import.meta.url));
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A peer process and the JSON lines it prints. */
function peer(args: string[]): { child: ChildProcess; lines: Array<Record<string, unknown>>; next: (n: number) => Promise<void>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [PEER, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  cleanups.push(() => child.kill('SIGKILL'));
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(JSON.parse(l) as Record<string, unknown>);
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const next = async (n: number): Promise<void> => {
    const end = Date.now() + 20_000;
    while (lines.length < n) {
      if (Date.now() > end) throw new Error(`peer: ${lines.length} of ${n} lines`);
      await Promise.race([new Promise<void>((r) => waiters.push(r)), exited]);
      if (child.exitCode !== null && lines.length < n) throw new Error(`peer exited (${child.exitCode}) after ${lines.length} of ${n} lines`);
    }
  };
  return { child, lines, next, exited };
}

async function openStore(url: string): Promise<PgStore> {
  const registry = createDefaultRegistry();
  segments.register!(registry);
  datastores.register!(registry);
  const store = await PgStore.open({ url, max: 2, registry, plugins: [segments, datastores] });
  cleanups.push(() => store.close());
  return store;
}

const meta = (request_id: string) => ({ request_id, source_instance_id: 'test', timestamp: new Date().toISOString() });

describe.runIf(runPostgresTests)('peers of one PostgreSQL database', () => {
  it('applies every write once when a writer is killed with -9 mid-write and a new process resends them all with the same request ids', async () => {
    const url = await server.database();
    const store = await openStore(url);
    await store.executeWrite({ meta: meta('seed'), method: 'InsertSkill', params: { id: 'k', title: 'k', content: '' } });
    const total = 60;
    const first = peer([url, 'increments', '0', String(total), '3']);
    await first.next(9);
    first.child.kill('SIGKILL');
    await first.exited;
    const before = new Map(first.lines.map((l) => [l['rid'], l['usage']]));
    expect(before.size).toBeGreaterThanOrEqual(9);
    expect(before.size).toBeLessThan(total);

    const second = peer([url, 'increments', '0', String(total), '7']);
    expect(await second.exited).toBe(0);
    expect(second.lines).toHaveLength(total);
    for (const l of second.lines) {
      expect(l['ok']).toBe(true);
      // What the first process saw committed is answered from its record: the first outcome, not run again.
      if (before.has(l['rid'])) expect(l).toMatchObject({ duplicate: true, usage: before.get(l['rid']) });
    }
    const skill = await store.reader.get<{ usage_count: number }>("SELECT usage_count FROM skill_library WHERE id = 'k'");
    expect(skill?.usage_count).toBe(total);
    // Each increment ran once: the counts its writes returned are exactly 1..total.
    const usages = second.lines.map((l) => l['usage'] as number).sort((a, b) => a - b);
    expect(usages).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  }, 60_000);

  it('gives appenders in several processes gap-free, unique segment positions and datastore seqs', async () => {
    const url = await server.database();
    const store = await openStore(url);
    await store.executeWrite({ meta: meta('s'), method: 'CreateSegment', params: { session_id: 'sess', segment_id: 'seg', entries: [] } });
    await store.executeWrite({ meta: meta('d'), method: 'OpenDatastore', params: { id: 'ds', kind: 'permanent' } });
    const count = 25;
    const peers = ['p1', 'p2', 'p3'].map((name) => peer([url, 'append', name, String(count)]));
    await Promise.all(peers.map((p) => p.next(1)));
    for (const p of peers) p.child.stdin!.write('go\n');
    expect(await Promise.all(peers.map((p) => p.exited))).toEqual([0, 0, 0]);
    const results = peers.flatMap((p) => p.lines.slice(1));
    const n = 3 * count;
    expect(results.map((r) => r['position'] as number).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(results.map((r) => r['seq'] as number).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const stored = await store.reader.all<{ position: number }>("SELECT position FROM _segment_entries WHERE segment_id = 'seg' ORDER BY position");
    expect(stored.map((r) => r.position)).toEqual(Array.from({ length: n }, (_, i) => i));
    const seg = await store.reader.get<{ entry_count: number }>("SELECT entry_count FROM _segments WHERE segment_id = 'seg'");
    expect(seg?.entry_count).toBe(n);
  }, 60_000);
});
