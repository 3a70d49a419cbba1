/** examples/notes-app runs as its README says: a `scribe start --plugin …` daemon and agent processes beside it. */
import { spawn as spawnProcess, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from './helpers/node-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'packages/cli/dist/main.js');
let daemon: ChildProcess | undefined;
let dir = '';

afterEach(() => {
  daemon?.kill('SIGKILL');
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('examples/notes-app', () => {
  it('runs two agents against a daemon started with the packages and the notes plugin', async () => {
    dir = mkdtempSync(join(tmpdir(), 'scribe-example-'));
    const db = join(dir, 'notes.db');
    const plugins = ['@scribe/shadow', '@scribe/segments', '@scribe/datastores', './examples/notes-app/notes-plugin.mjs'].flatMap((p) => ['--plugin', p]);
    daemon = spawnProcess(process.execPath, [CLI, 'start', '--db', db, ...plugins], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    daemon.stdout!.on('data', (d) => (out += d));
    daemon.stderr!.on('data', (d) => (out += d));
    await waitFor(() => out.includes('"msg":"scribe started"') || daemon!.exitCode !== null, 20_000, 'scribe start');
    expect(daemon.exitCode).toBeNull();

    const results = [];
    for (const id of ['agent-1', 'agent-2']) {
      const r = spawnSync(process.execPath, ['examples/notes-app/agent.mjs', '--db', db, '--id', id], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      results.push(JSON.parse(r.stdout) as Record<string, unknown>);
    }
    expect(results[0]).toMatchObject({ role: 'secondary', note: { id: 'agent-1-note', title: 'written by agent-1' }, notes: 1, seeded: 1, shadowBody: 'edited in the shadow', position: 1, datastoreSeq: 1 });
    // The second agent sees the first one's note, locally, and seeds its shadow session with both.
    expect(results[1]).toMatchObject({ role: 'secondary', notes: 2, seeded: 2, shadowBody: 'edited in the shadow' });
    const status = spawnSync(process.execPath, [CLI, 'status', '--db', db], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
    expect(status.stdout).toMatch(/^plugins\s+.*notes-app \(schema 1\)$/m);
  });
});
