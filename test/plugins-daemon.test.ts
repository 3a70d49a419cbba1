/**
 * The documented deployment: one `scribe start --plugin …` daemon hosting the
 * agent-storage packages and an application plugin loaded from a file, and agent
 * processes (secondaries) beside it with the same plugins, a subset, or one too many.
 */
import { spawn as spawnProcess, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentCluster, failure } from './helpers/agent-node.js';
import { waitFor } from './helpers/node-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'packages/cli/dist/main.js');
const NOTES_PLUGIN = join(ROOT, 'examples/notes-app/notes-plugin.mjs');
const QUICK_SWEEPS = join(ROOT, 'test/fixtures/quick-sweeps-plugins.mjs');
const EXTRA_PLUGIN = join(ROOT, 'test/fixtures/extra-plugin.mjs');
const NOTES_V2 = join(ROOT, 'test/fixtures/notes-app-v2.mjs');
const PACKAGES = ['@scribe/shadow', '@scribe/segments', '@scribe/datastores'];

interface Daemon {
  child: ChildProcess;
  output: () => string;
  /** The fields of the `scribe started` log line. */
  started: Record<string, unknown>;
}

/** `scribe start` with plugins, run from the repository root (specs resolve from there); resolves once it has started. */
async function startDaemon(dbPath: string, pluginArgs: string[]): Promise<Daemon> {
  const child = spawnProcess(process.execPath, [CLI, 'start', '--db', dbPath, '--log-level', 'info', ...pluginArgs], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await waitFor(() => out.includes('"msg":"scribe started"') || child.exitCode !== null, 20_000, 'scribe start');
  if (child.exitCode !== null) throw new Error(`scribe start exited: ${out}`);
  const line = out.split('\n').find((l) => l.includes('"msg":"scribe started"'))!;
  return { child, output: () => out, started: JSON.parse(line) as Record<string, unknown> };
}

function scribe(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
}

/** Agents beside the daemon: never primary; a write budget generous enough for a loaded machine (the tests time nothing). */
const AGENT = { promote: false, writeTimeoutMs: 20_000 };

const EVERY_PLUGIN = [
  { name: '@scribe/shadow', schema_version: 1 },
  { name: '@scribe/segments', schema_version: 1 },
  { name: '@scribe/datastores', schema_version: 2 },
  { name: 'notes-app', schema_version: 1 },
];

describe('a scribe start daemon with the three packages and an application plugin from a file', { timeout: 60_000 }, () => {
  const cluster = agentCluster('plugins-daemon');
  let daemon: Daemon;
  beforeAll(async () => {
    daemon = await startDaemon(cluster.dbPath, [...PACKAGES.flatMap((p) => ['--plugin', p]), '--plugin', NOTES_PLUGIN]);
  });
  afterAll(() => {
    daemon?.child.kill('SIGKILL');
  });

  it('lists its plugins with their schema versions in the start-up line and in scribe status (table and JSON)', () => {
    expect(daemon.started).toMatchObject({ role: 'primary', plugins: EVERY_PLUGIN });
    const json = scribe('status', '--db', cluster.dbPath, '--json');
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, primary: { role: 'primary', plugins: EVERY_PLUGIN } });
    expect(scribe('status', '--db', cluster.dbPath).stdout).toMatch(
      /^plugins\s+@scribe\/shadow \(schema 1\), @scribe\/segments \(schema 1\), @scribe\/datastores \(schema 2\), notes-app \(schema 1\)$/m,
    );
  });

  it('serves agents beside it: application writes, shadow sessions seeded from the application table, segment logs and datastores', async () => {
    const specs = { pluginSpecs: [NOTES_PLUGIN, ...PACKAGES], ...AGENT };
    const a = await cluster.spawn('agent-a', specs);
    const b = await cluster.spawn('agent-b', specs);
    expect([a.ready.role, b.ready.role]).toEqual(['secondary', 'secondary']);

    // The application's typed write, through the daemon; its read, local.
    await expect(a.write('AddNote', { id: 'n1', title: 'first', body: 'one' })).resolves.toMatchObject({ id: 'n1', title: 'first' });
    await a.write('AddNote', { id: 'n2', title: 'second', body: 'two' });
    expect(await failure(a.write('AddNote', { id: 'n1', title: 'again', body: '' }))).toMatchObject({ code: 'CONFLICT', method: 'AddNote' });
    expect(await failure(a.write('AddNote', { id: 'n3', title: '' }))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.title' });
    expect(await b.query('SELECT id FROM notes ORDER BY id')).toEqual([{ id: 'n1' }, { id: 'n2' }]);

    // A shadow session seeded from the application's table, seen by the other agent.
    const opened = await b.open('agent-b-work', { shadowTable: 'notes_shadow', seedFromTable: 'notes' });
    expect(opened.seeded).toBe(2);
    expect(await b.session('agent-b-work', 'update', { body: 'edited' }, { id: 'n1' })).toBe(1);
    expect(await a.session<Array<{ id: string; body: string }>>('agent-b-work', 'rows', {}, { orderBy: 'id' })).toMatchObject([
      { id: 'n1', body: 'edited' },
      { id: 'n2', body: 'two' },
    ]);
    expect(await a.query('SELECT body FROM notes WHERE id = ?', ['n1'])).toEqual([{ body: 'one' }]);

    // Segment logs from both agents.
    await a.logs('createSegment', 'agent-b-work', 'turn-1', [{ role: 'user', text: 'hi' }]);
    expect(await b.logs('append', 'agent-b-work', 'turn-1', { role: 'assistant', text: 'hello' })).toEqual({ position: 1, entry_count: 2 });
    expect(await a.logs('readAll', 'agent-b-work', 'turn-1')).toEqual([
      { role: 'user', text: 'hi' },
      { role: 'assistant', text: 'hello' },
    ]);

    // A datastore written by one agent, read by the other.
    expect(await a.datastores('open', 'board', { kind: 'permanent' })).toBe('board');
    await expect(a.datastore('board', 'set', { id: 'card-1', title: 'plugins' })).resolves.toMatchObject({ datastore_id: 'board', seq: 1, op: 'created' });
    expect(await b.datastore('board', 'get', 'card-1')).toEqual({ id: 'card-1', title: 'plugins' });
  });

  it('serves an agent that uses a subset of its plugins', async () => {
    const segmentsOnly = await cluster.spawn('segments-only', { pluginSpecs: ['@scribe/segments'], ...AGENT });
    await segmentsOnly.logs('createSegment', 'subset-session', 'log', [1, 2]);
    expect(await segmentsOnly.logs('readEntryCount', 'subset-session', 'log')).toBe(2);
    // It reports its own plugins to the daemon (db.member), which scribe status shows per member.
    const member = await waitFor(() => {
      const report = JSON.parse(scribe('status', '--db', cluster.dbPath, '--json').stdout) as { members?: Array<{ instance_id: string; plugins?: unknown }> };
      return report.members?.find((m) => m.instance_id === 'segments-only' && m.plugins !== undefined);
    }, 10_000, 'the subset agent to report itself');
    expect(member.plugins).toEqual([{ name: '@scribe/segments', schema_version: 1 }]);
  });

  it('refuses the writes of an agent that needs a plugin, or a plugin version, the daemon lacks, with SCHEMA_MISMATCH naming it', async () => {
    const extra = await cluster.spawn('extra', { pluginSpecs: [NOTES_PLUGIN, ...PACKAGES, EXTRA_PLUGIN], ...AGENT });
    for (const write of [extra.write('AddNote', { id: 'x', title: 'x', body: 'x' }), extra.logs('createSegment', 'extra-session', 'log', [])]) {
      const e = await failure(write);
      const err = e.code === 'SCHEMA_MISMATCH' ? e : e.cause;
      expect(err).toMatchObject({ code: 'SCHEMA_MISMATCH' });
      expect(err!.message).toContain("the database lacks plugin 'extra-plugin' version 1 (extra table)");
      expect(err!.message).toContain('--plugin extra-plugin');
    }
    const ahead = await cluster.spawn('ahead', { pluginSpecs: [NOTES_V2], ...AGENT });
    const e = await failure(ahead.write('AddNote', { id: 'y', title: 'y', body: 'y' }));
    expect(e).toMatchObject({ code: 'SCHEMA_MISMATCH', method: 'AddNote' });
    expect(e.message).toContain("the database lacks plugin 'notes-app' version 2 (note tags)");
    // Nothing was written by either, and reads still work for them.
    expect(await extra.query("SELECT count(*) AS n FROM notes WHERE id IN ('x', 'y')")).toEqual([{ n: 0 }]);
  });
});

describe('maintenance configured through the plugin factories runs on the daemon', { timeout: 60_000 }, () => {
  const cluster = agentCluster('plugins-sweeps');
  let daemon: Daemon;
  beforeAll(async () => {
    daemon = await startDaemon(cluster.dbPath, ['--plugin', QUICK_SWEEPS, '--plugin', NOTES_PLUGIN]);
  });
  afterAll(() => {
    daemon?.child.kill('SIGKILL');
  });

  it('purges an expired temp datastore (the agents never purge: they are secondaries)', async () => {
    const agent = await cluster.spawn('ds-agent', { pluginSpecs: ['@scribe/datastores'], ...AGENT });
    expect(await agent.datastores('open', 'scratch', { kind: 'temp', ttlMs: 300 })).toBe('scratch');
    await agent.datastore('scratch', 'set', { id: 'k', v: 1 }).catch(() => undefined);
    const rows = () => agent.query<{ n: number }>("SELECT (SELECT count(*) FROM _datastores WHERE id = 'scratch') + (SELECT count(*) FROM _datastore_records WHERE datastore_id = 'scratch') AS n");
    // The rows are physically gone: a purge, not just the expiry that hides them.
    await waitFor(async () => (await rows())[0]!.n === 0, 20_000, 'the daemon to purge the expired datastore');
    expect(daemon.started).toMatchObject({ plugins: expect.arrayContaining([{ name: '@scribe/datastores', schema_version: 2 }]) });
  });

  it('reaps the shadow session of a killed agent once its age has passed', async () => {
    const writer = await cluster.spawn('writer', { pluginSpecs: [NOTES_PLUGIN, '@scribe/shadow'], ...AGENT });
    await writer.write('AddNote', { id: 'seed', title: 'seed', body: 's' });
    const doomed = await cluster.spawn('doomed', { pluginSpecs: [NOTES_PLUGIN, '@scribe/shadow'], ...AGENT });
    const opened = await doomed.open('doomed-session', { shadowTable: 'notes_shadow', seedFromTable: 'notes' });
    expect(opened.seeded).toBe(1);
    await doomed.kill();
    const left = async () =>
      (await writer.query<{ n: number }>(
        "SELECT (SELECT count(*) FROM _shadow_sessions WHERE session_id = 'doomed-session') + (SELECT count(*) FROM notes_shadow WHERE session_id = 'doomed-session') AS n",
      ))[0]!.n;
    await waitFor(async () => (await left()) === 0, 20_000, 'the daemon to reap the killed agent’s session');
    // Reaped no earlier than its age (reapAfterMs 2000 in quick-sweeps-plugins.mjs): the
    // reaper only closes sessions opened at least that long ago by the daemon's clock.
    expect(Date.now() - Date.parse(opened.openedAt)).toBeGreaterThanOrEqual(2_000);
  });
});

describe('scribe start --plugin with a spec it cannot use', () => {
  it('fails at once with exit code 2 and a message naming the spec, before touching the database', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scribe-badplugin-'));
    try {
      const db = join(dir, 'never.db');
      for (const [args, env, message] of [
        [['--plugin', '@scribe/no-such-package'], {}, /--plugin @scribe\/no-such-package: cannot load it from .* \(MODULE_NOT_FOUND/],
        [['--plugin', './test/fixtures/no-such-file.mjs'], {}, /--plugin \.\/test\/fixtures\/no-such-file\.mjs: cannot load it from/],
        [['--plugin', '@scribe/shadow', '--plugin', './test/fixtures/not-a-plugin.mjs'], {}, /--plugin \.\/test\/fixtures\/not-a-plugin\.mjs: the module has no default export and no 'plugin' export/],
        [[], { SCRIBE_PLUGINS: '@scribe/segments, ./test/fixtures/not-a-plugin.mjs' }, /--plugin \.\/test\/fixtures\/not-a-plugin\.mjs \(from SCRIBE_PLUGINS\): the module has no default export/],
      ] as const) {
        const r = spawnSync(process.execPath, [CLI, 'start', '--db', db, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(existsSync(db)).toBe(false);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
