import { spawn as spawnProcess, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { readDiscovery, resolveRuntimePaths } from '@scribe/node';
import { auditSession, checkInvariants, type SeriesResult } from './helpers/cluster-check.js';
import { ChildCallError, NodeProcess, waitFor } from './helpers/node-process.js';
import { useTempCluster } from './helpers/temp-cluster.js';

const CLI = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const cluster = useTempCluster('cli');
const spawn = (options: Record<string, unknown>): Promise<NodeProcess> => cluster.spawn(options);
const started: ChildProcess[] = [];

afterEach(() => {
  for (const c of started.splice(0)) c.kill('SIGKILL');
});

/** `scribe start` in its own process; resolves once it has published itself as primary. */
async function startCli(args: string[]): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  const child = spawnProcess(process.execPath, [CLI, 'start', '--db', cluster.dbPath, '--log-level', 'info', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await waitFor(() => out.includes('"msg":"scribe started"') || child.exitCode !== null, 15_000, 'scribe start');
  if (child.exitCode !== null) throw new Error(`scribe start exited: ${out}`);
  return { child, output: () => out, exited };
}

describe('scribe keygen', () => {
  it('writes the key pair owner-only with --out, refuses to overwrite without --force, and warns when printing it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scribe-keygen-'));
    try {
      const file = join(dir, 'keys.json');
      const r = spawnSync(process.execPath, [CLI, 'keygen', '--out', file], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      const keys = JSON.parse(readFileSync(file, 'utf8')) as { publicKey: string; secretKey: string };
      expect(keys.secretKey).toHaveLength(40);
      expect(r.stdout).toBe(`wrote ${file} (mode 0600); public key ${keys.publicKey}\n`);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(r.stdout).not.toContain(keys.secretKey);

      const again = spawnSync(process.execPath, [CLI, 'keygen', '--out', file], { encoding: 'utf8' });
      expect(again.status).toBe(1);
      expect(again.stderr).toMatch(/exists; give --force to replace it/);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(keys);

      const forced = spawnSync(process.execPath, [CLI, 'keygen', '--out', file, '--force'], { encoding: 'utf8' });
      expect(forced.status).toBe(0);
      expect(JSON.parse(readFileSync(file, 'utf8')).secretKey).not.toBe(keys.secretKey);
      expect(statSync(file).mode & 0o777).toBe(0o600);

      const printed = spawnSync(process.execPath, [CLI, 'keygen'], { encoding: 'utf8' });
      expect(printed.status).toBe(0);
      expect(JSON.parse(printed.stdout)).toMatchObject({ publicKey: expect.any(String), secretKey: expect.any(String) });
      expect(printed.stderr).toMatch(/printing the secret key.*prefer --out FILE/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('scribe start', () => {
  it('fails fast with a message that says what to change when the database path cannot be used', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scribe-badpath-'));
    try {
      writeFileSync(join(dir, 'a-file'), 'not a directory');
      const r = spawnSync(process.execPath, [CLI, 'start', '--db', join(dir, 'a-file', 'app.db')], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/scribe: cannot use --db .*a-file\/app\.db: its directory .* cannot be created or written \((ENOTDIR|EEXIST)\); choose another path with --db or SCRIBE_DB/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses tcp beyond loopback and malformed options with a usage error', () => {
    for (const [args, message] of [
      [['--router', 'tcp://0.0.0.0:7100', '--pub', 'tcp://0.0.0.0:7101'], /would accept connections from other machines; tcp beyond loopback needs CURVE keys/],
      [['--router', 'tcp://127.0.0.1:7100'], /--router and --pub go together/],
      [['--http', 'nine'], /--http must be HOST:PORT or PORT/],
      [['--synchronous', 'sometimes'], /--synchronous must be one of OFF, NORMAL, FULL, EXTRA/],
      [['--commit-sync', 'later'], /--commit-sync must be one of pipelined, inline, got "later"/],
    ] as const) {
      const r = spawnSync(process.execPath, [CLI, 'start', '--db', join(tmpdir(), 'never.db'), ...args], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('logs what it uses, serves on loopback tcp when asked, and turns raw SQL off', async () => {
    const cli = await startCli(['--router', 'tcp://127.0.0.1:*', '--pub', 'tcp://127.0.0.1:*', '--no-raw-sql', '--commit-sync', 'pipelined']);
    const line = cli.output().split('\n').find((l) => l.includes('"msg":"scribe started"'))!;
    expect(JSON.parse(line)).toMatchObject({ role: 'primary', synchronous: 'FULL', commitSync: 'pipelined', autoMigrate: true, rawSql: false });
    const discovery = readDiscovery(resolveRuntimePaths(cluster.dbPath).discoveryPath)!;
    expect(discovery.router).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const secondary = await spawn({ instanceId: 's', promote: false });
    await expect(secondary.call('createSession', { id: 'over-tcp', title: 't' })).resolves.toMatchObject({ id: 'over-tcp' });
    const raw = await secondary.call('exec', 'SELECT 1').catch((e: unknown) => e);
    expect((raw as ChildCallError).error).toMatchObject({ code: 'DISABLED', method: 'Exec' });
  });

  it('over tcp with CURVE keys, admits members holding the cluster keys and refuses a client with other keys', async () => {
    const keysFile = join(cluster.dbPath, '..', 'keys.json');
    const keygen = spawnSync(process.execPath, [CLI, 'keygen', '--out', keysFile], { encoding: 'utf8' });
    expect(keygen.status).toBe(0);
    const keys = JSON.parse(readFileSync(keysFile, 'utf8')) as { publicKey: string; secretKey: string };
    const cli = await startCli(['--router', 'tcp://127.0.0.1:*', '--pub', 'tcp://127.0.0.1:*', '--curve-keys', keysFile]);
    expect(cli.output()).not.toMatch(/insecure/);
    const member = await spawn({ instanceId: 'member', promote: false, curve: keys });
    await expect(member.call('createSession', { id: 'curve', title: 'encrypted' })).resolves.toMatchObject({ id: 'curve' });
    const otherKeys = JSON.parse(spawnSync(process.execPath, [CLI, 'keygen'], { encoding: 'utf8' }).stdout);
    // A member follows a primary only once it answers db.ping: with other keys it never
    // does, so the stranger never joins (UNREACHABLE, saying why) and writes nothing.
    const refused = await spawn({ instanceId: 'stranger', promote: false, curve: otherKeys, startTimeoutMs: 1_500 }).catch((e: unknown) => e);
    expect((refused as ChildCallError).error.code).toBe('UNREACHABLE');
    expect((refused as ChildCallError).error.message).toMatch(/does not answer as that primary/);
    expect(await member.call('getSession', 'nope')).toBeNull();
    const withKeys = spawnSync(process.execPath, [CLI, 'status', '--db', cluster.dbPath, '--curve-keys', keysFile, '--json'], { encoding: 'utf8' });
    expect(JSON.parse(withKeys.stdout)).toMatchObject({ ok: true, primary: { role: 'primary' } });
    const without = spawnSync(process.execPath, [CLI, 'status', '--db', cluster.dbPath, '--timeout', '500'], { encoding: 'utf8' });
    expect(without.status).toBe(1);
    expect(without.stdout).toMatch(/^CURVE is on: the primary \(pid \d+\) at tcp:\/\/127\.0\.0\.1:\d+ admits only clients holding the cluster's keys; give --curve-keys FILE/m);
    const otherFile = join(cluster.dbPath, '..', 'other.json');
    writeFileSync(otherFile, JSON.stringify(otherKeys));
    const wrong = spawnSync(process.execPath, [CLI, 'status', '--db', cluster.dbPath, '--curve-keys', otherFile], { encoding: 'utf8' });
    expect(wrong.status).toBe(1);
    expect(wrong.stdout).toMatch(/CURVE is on, and the --curve-keys given are not this cluster's/);
    const table = spawnSync(process.execPath, [CLI, 'status', '--db', cluster.dbPath, '--curve-keys', keysFile], { encoding: 'utf8' });
    expect(table.stdout).toMatch(/^curve\s+on$/m);
  });

  it('logs human-readable lines with --log-pretty or SCRIBE_LOG_PRETTY=1', async () => {
    for (const [args, env] of [[['--log-pretty'], {}], [[], { SCRIBE_LOG_PRETTY: '1' }]] as const) {
      const child = spawnProcess(process.execPath, [CLI, 'start', '--db', cluster.dbPath, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...env },
      });
      started.push(child);
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      await waitFor(() => /INFO.*: scribe started/.test(out) || child.exitCode !== null, 15_000, 'pretty scribe start');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d{4}\] INFO \(\d+\): scribe started$/m);
      expect(out).toMatch(/^ {4}node: "\d+-[0-9a-f]{6}"$/m);
      expect(out).not.toMatch(/^\{"level"/m);
    }
  });

  it('warns at start when run insecurely (tcp without CURVE keys)', async () => {
    const cli = await startCli(['--router', 'tcp://127.0.0.1:*', '--pub', 'tcp://127.0.0.1:*']);
    expect(cli.output()).toMatch(/"level":40.*"msg":"insecure: tcp without CURVE keys/);
  });

  it('shuts down gracefully on SIGTERM during writes, losing nothing acknowledged, and a secondary takes over', async () => {
    const cli = await startCli([]);
    const standby = await spawn({ instanceId: 'standby' });
    const writers = [await spawn({ instanceId: 'w1', promote: false }), await spawn({ instanceId: 'w2', promote: false })];
    await writers[0]!.call('createSession', { id: 's', title: 'sigterm' });
    const rows = () => auditSession(cluster.dbPath, 's').markers.length;
    const running = Promise.all(
      writers.map((w) => w.send<SeriesResult>('writeSeries', { sessionId: 's', prefix: w.ready.instanceId, count: 1_000_000, concurrency: 16, withIds: false })),
    );
    await waitFor(() => rows() > 300, 15_000, 'writes before SIGTERM');
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(cli.output()).toMatch(/"signal":"SIGTERM","msg":"shutting down"/);
    // every line, the daemon's own (start, shutdown) as well as the node's, names the node and has an ISO time
    const lines = cli.output().trim().split('\n').map((l) => JSON.parse(l) as { node?: string; time?: unknown; msg: string });
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['scribe started', 'shutting down', 'scribe stopped']));
    const node = lines.find((l) => l.msg === 'scribe started')!.node;
    expect(node).toMatch(/^\d+-[0-9a-f]{6}$/);
    expect(lines.filter((l) => l.node !== node)).toEqual([]);
    expect(lines.filter((l) => typeof l.time !== 'string' || new Date(l.time).toISOString() !== l.time)).toEqual([]);
    await waitFor(() => standby.events.some((e) => e.type === 'role:changed' && e.role === 'primary'), 10_000, 'the standby to take over');
    const before = rows();
    await waitFor(() => rows() > before + 300, 15_000, 'writes through the new primary');
    await Promise.all(writers.map((w) => w.send('stop')));
    const results = await running;
    expect(checkInvariants(auditSession(cluster.dbPath, 's'), results)).toEqual([]);
    expect(results.flatMap((r) => r.failed)).toEqual([]);
  });
});
