import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openNode, type ScribeNode } from '@scribe/node';

let dir: string;
const nodes: ScribeNode[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scribe-maint-'));
});
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('maintenance tasks', () => {
  it('run only on the primary, and move to the node that takes over', async () => {
    const runs = { a: 0, b: 0 };
    const dbPath = join(dir, 'm.db');
    const a = await openNode({
      dbPath,
      instanceId: 'a',
      maintenance: [{ name: 'count', intervalMs: 20, run: () => void runs.a++ }],
    });
    nodes.push(a);
    const b = await openNode({
      dbPath,
      instanceId: 'b',
      pollIntervalMs: 20,
      maintenance: [
        {
          name: 'count',
          intervalMs: 20,
          run: async (q) => {
            runs.b++;
            // Tasks write through the querier like any caller.
            await q.createSession({ title: `swept by b ${runs.b}` });
          },
        },
      ],
    });
    nodes.push(b);
    expect([a.role, b.role]).toEqual(['primary', 'secondary']);
    await until(() => runs.a >= 3, 'a to run its task');
    expect(runs.b).toBe(0);

    await a.close();
    const afterClose = runs.a;
    await until(() => b.role === 'primary', 'b to take over');
    await until(() => runs.b >= 2, 'b to run its task');
    expect(runs.a).toBe(afterClose);
    expect((await b.querier.listAllSessions()).some((s) => s.title.startsWith('swept by b'))).toBe(true);
  });

  it('keeps running after a task throws', async () => {
    let runs = 0;
    const node = await openNode({
      dbPath: join(dir, 't.db'),
      maintenance: [
        {
          name: 'flaky',
          intervalMs: 10,
          run: () => {
            runs++;
            throw new Error('boom');
          },
        },
      ],
    });
    nodes.push(node);
    await until(() => runs >= 3, 'three runs despite throws');
  });

  it('validates tasks with a message that says what to change', async () => {
    await expect(
      openNode({ dbPath: join(dir, 'v.db'), maintenance: [{ name: 'x', intervalMs: 0, run: () => undefined }] }),
    ).rejects.toThrow("Expected 'maintenance[0].intervalMs' to be a number above 0, got 0 (number)");
  });
});

describe('a closed node', () => {
  it('refuses writes at once with SHUTTING_DOWN, not a driver error', async () => {
    const node = await openNode({ dbPath: join(dir, 'closed.db') });
    await node.close();
    await expect(node.querier.createSession({ title: 'late' }, { timeoutMs: 200 })).rejects.toMatchObject({
      name: 'WriteError',
      code: 'SHUTTING_DOWN',
      method: 'CreateSession',
    });
  });
});
