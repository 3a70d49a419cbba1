/**
 * `scribe start --url`: the daemon as a peer of a PostgreSQL server, with the same
 * plugin and HTTP flags as on a database file; SQLite-only flags beside --url refused.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openNode } from '@scribe/node';
import { SegmentLogs } from '@scribe/segments';
import { waitFor } from './helpers/node-process.js';
import { runPostgresTests, usePostgres } from './helpers/postgres-server.js';

const CLI = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const server = usePostgres({ durable: false });
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

describe.runIf(runPostgresTests)('scribe start --url', () => {
  it('runs a peer of the server with the plugins given, which another peer sees; the password is never logged; SIGTERM stops it', async () => {
    const url = (await server.database()).replace('postgresql://scribe@', 'postgresql://scribe:cli-s3cret@');
    const child = spawn(process.execPath, [CLI, 'start', '--plugin', '@scribe/segments', '--log-level', 'info'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SCRIBE_URL: url },
    });
    children.push(child);
    let out = '';
    child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await waitFor(() => out.includes('"msg":"scribe started"') || child.exitCode !== null, 20_000, 'scribe start --url');
    const started = JSON.parse(out.split('\n').find((l) => l.includes('"msg":"scribe started"'))!) as Record<string, unknown>;
    expect(started).toMatchObject({ role: 'peer', server: expect.stringContaining('scribe:***@') });
    expect(started['plugins']).toEqual([expect.objectContaining({ name: '@scribe/segments' })]);
    // The daemon migrated the plugin's tables: another peer uses them.
    const peer = await openNode({ url, plugins: [(await import('@scribe/segments')).plugin] });
    try {
      await new SegmentLogs(peer.querier).createSegment('s', 'seg', ['a']);
      expect(await new SegmentLogs(peer.querier).readAll('s', 'seg')).toEqual(['a']);
    } finally {
      await peer.close();
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('"msg":"scribe stopped"');
    expect(out).not.toContain('cli-s3cret');
  }, 60_000);

  it('refuses SQLite flags beside --url, and a url that is not postgres://, with a usage error', () => {
    const url = 'postgres://scribe@localhost/x';
    for (const [args, flag] of [
      [['--db', '/tmp/x.db'], '--db'],
      [['--synchronous', 'NORMAL'], '--synchronous'],
      [['--commit-sync', 'pipelined'], '--commit-sync'],
      [['--file-mode', '640'], '--file-mode'],
    ] as const) {
      const r = spawnSync(process.execPath, [CLI, 'start', '--url', url, ...args], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`${flag} is an option of the SQLite cluster`);
    }
    const bad = spawnSync(process.execPath, [CLI, 'start', '--url', 'mysql://x'], { encoding: 'utf8', timeout: 20_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--url must be a postgres:// or postgresql:// connection URL');
  });
});
