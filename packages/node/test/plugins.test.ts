import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { WriteError } from '@scribe/protocol';
import { createDefaultRegistry, defineWrite, type ScribePlugin } from '@scribe/store';
import { openNode, resolvePlugins, type ScribeNode } from '@scribe/node';

let dir: string;
const nodes: ScribeNode[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scribe-plugins-'));
});
afterEach(async () => {
  for (const n of nodes.splice(0).reverse()) await n.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(options: Parameters<typeof openNode>[0]): Promise<ScribeNode> {
  const node = await openNode(options);
  nodes.push(node);
  return node;
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A plugin with one table and one write, AddNote, that inserts into it. */
function notesPlugin(name = 'notes', runs?: { n: number }): ScribePlugin {
  return {
    name,
    migrations: [{ version: 1, name: 'notes table', up: `CREATE TABLE ${name.replace(/\W/g, '_')}_notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)` }],
    register(registry) {
      registry.register(
        defineWrite({
          name: `AddNote_${name.replace(/\W/g, '_')}`,
          description: 'Adds a note; returns its id.',
          schema: z.strictObject({ body: z.string().min(1) }),
          handler: async (ctx, p) => ({
            id: Number((await ctx.tx.get<{ id: number }>(`INSERT INTO ${name.replace(/\W/g, '_')}_notes (body) VALUES (?) RETURNING id`, [p.body]))!.id),
          }),
        }),
      );
    },
    ...(runs === undefined ? {} : { maintenance: [{ name: 'count', intervalMs: 20, run: () => void runs.n++ }] }),
  };
}

async function rejection(p: Promise<unknown>): Promise<WriteError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(WriteError);
  return e as WriteError;
}

describe('openNode({ plugins })', () => {
  it("registers a plugin's writes, applies its migrations in its namespace, and reports it", async () => {
    const node = await open({ dbPath: join(dir, 'a.db'), plugins: [notesPlugin()] });
    expect(await node.querier.write('AddNote_notes', { body: 'hello' })).toEqual({ id: 1 });
    expect(await node.querier.query('SELECT plugin, version FROM _scribe_migrations WHERE plugin = ?', ['notes'])).toEqual([{ plugin: 'notes', version: 1 }]);
    expect(node.info().plugins).toEqual([{ name: 'notes', schema_version: 1 }]);
  });

  it('takes the same plugin object twice as once', async () => {
    const p = notesPlugin();
    const resolved = resolvePlugins({ plugins: [p, p] });
    expect(resolved.plugins).toEqual([p]);
    const node = await open({ dbPath: join(dir, 'twice.db'), plugins: [p, p] });
    expect(await node.querier.write('AddNote_notes', { body: 'once' })).toEqual({ id: 1 });
    expect(node.info().plugins).toEqual([{ name: 'notes', schema_version: 1 }]);
  });

  it('refuses two different plugins with one name, and two claims on one write name, naming both', async () => {
    await expect(openNode({ dbPath: join(dir, 'x.db'), plugins: [notesPlugin(), { name: 'other' }, notesPlugin()] })).rejects.toThrow(
      "plugins[0] and plugins[2] are two different plugins named 'notes': they would claim the same migration identities (notes@1, …); pass one of them",
    );
    const thief: ScribePlugin = { name: 'thief', register: (r) => notesPlugin().register!(r) };
    await expect(openNode({ dbPath: join(dir, 'x.db'), plugins: [notesPlugin(), thief] })).rejects.toThrow(
      "write 'AddNote_notes' is claimed by both plugin 'notes' and plugin 'thief'; a write name may be registered once",
    );
    const shadowing: ScribePlugin = { name: 'shadowing', register: (r) => r.register({ ...createDefaultRegistry().get('CreateMessage')! }) };
    await expect(openNode({ dbPath: join(dir, 'x.db'), plugins: [shadowing] })).rejects.toThrow(
      "write 'CreateMessage' is claimed by both scribe's built-in writes and plugin 'shadowing'",
    );
    await expect(openNode({ dbPath: join(dir, 'x.db'), plugins: [{ name: 'scribe' }] })).rejects.toThrow(/plugins\[0\]: .*other than 'scribe'/);
    await expect(openNode({ dbPath: join(dir, 'x.db'), plugins: [{ nom: 'x' } as never] })).rejects.toThrow(/plugins\[0\]: Expected a scribe plugin/);
  });

  it("runs a plugin's maintenance on the primary only, and it moves with the role", async () => {
    const runs = { a: { n: 0 }, b: { n: 0 } };
    const dbPath = join(dir, 'm.db');
    const a = await open({ dbPath, instanceId: 'a', plugins: [notesPlugin('notes', runs.a)] });
    const b = await open({ dbPath, instanceId: 'b', pollIntervalMs: 20, plugins: [notesPlugin('notes', runs.b)] });
    await until(() => runs.a.n >= 3, "a's sweep");
    expect(runs.b.n).toBe(0);
    await a.close();
    await until(() => b.role === 'primary', 'b to take over');
    await until(() => runs.b.n >= 2, "b's sweep");
  });

  it('lets a secondary use a subset of the primary plugins, and refuses the writes of one that needs a plugin the file lacks, naming it', async () => {
    const dbPath = join(dir, 's.db');
    await open({ dbPath, instanceId: 'p', plugins: [notesPlugin('notes')] });
    const subset = await open({ dbPath, instanceId: 'subset', promote: false });
    expect(subset.role).toBe('secondary');
    await expect(subset.querier.createSession({ id: 's1', title: 'ok' })).resolves.toMatchObject({ id: 's1' });
    const extra = await open({ dbPath, instanceId: 'extra', promote: false, plugins: [notesPlugin('notes'), notesPlugin('@acme/extra')] });
    for (const write of [extra.querier.write('AddNote_notes', { body: 'x' }), extra.querier.createSession({ title: 'y' })]) {
      const e = await rejection(write);
      expect(e.code).toBe('SCHEMA_MISMATCH');
      expect(e.message).toContain("the database lacks plugin '@acme/extra' version 1 (notes table), which this process uses (@acme/extra@1)");
      expect(e.message).toContain('start the primary with --plugin @acme/extra');
    }
    expect(extra.info().plugins).toEqual([
      { name: 'notes', schema_version: 1 },
      { name: '@acme/extra', schema_version: 1 },
    ]);
  });
});
