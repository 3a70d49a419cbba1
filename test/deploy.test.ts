import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate } from 'dockerfile-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { waitFor } from './helpers/node-process.js';

// The deployment files under deploy/: checked as far as this machine allows (no
// container engine runs here; systemd-analyze does when it is installed), and the
// example agent of the compose file run for real against a real daemon.
const DEPLOY = fileURLToPath(new URL('../deploy/', import.meta.url));
const CLI = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const read = (name: string): string => readFileSync(join(DEPLOY, name), 'utf8');
const cliBin = (JSON.parse(readFileSync(new URL('../packages/cli/package.json', import.meta.url), 'utf8')) as { bin: { scribe: string } }).bin.scribe;
/** Where the scribe bin is once the tarballs are installed in /opt/scribe. */
const INSTALLED_BIN = `/opt/scribe/node_modules/@scribe/cli/${cliBin.replace(/^\.\//, '')}`;
const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('deploy/scribe.service', () => {
  const unit = read('scribe.service');

  it('runs node on the installed bin, never npm or npx, and stops with SIGTERM', () => {
    const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1];
    expect(execStart).toBe(`/usr/bin/node ${INSTALLED_BIN} start`);
    expect(unit).toMatch(/^KillSignal=SIGTERM$/m);
    expect(unit).not.toMatch(/^Exec\w*=.*\b(npm|npx)\b/m);
  });

  it.skipIf(!hasSystemdAnalyze)('passes systemd-analyze verify without a warning (and the check does see a bad key)', () => {
    const r = spawnSync('systemd-analyze', ['verify', join(DEPLOY, 'scribe.service')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'scribe-unit-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'scribe.service'), unit.replace('[Service]', '[Service]\nRestartSecs=1s'));
    const bad = spawnSync('systemd-analyze', ['verify', join(dir, 'scribe.service')], { encoding: 'utf8' });
    expect(bad.stderr).toMatch(/Unknown key 'RestartSecs'/);
  });
});

describe('deploy/Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('has no lint finding (dockerfile-utils, the linter of the VS Code Docker extension)', () => {
    const findings = validate(dockerfile).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    expect(findings).toEqual([]);
    // The linter does report problems: the same file with a broken instruction.
    expect(validate(`${dockerfile}\nEXPOSE port-nine\n`).length).toBeGreaterThan(0);
  });

  it('runs the installed bin with node in exec form (SIGTERM reaches node), as an unprivileged user, on a volume', () => {
    expect(dockerfile).toContain(`ENTRYPOINT ["node", "${INSTALLED_BIN}"]`);
    expect(dockerfile).toMatch(/^CMD \["start", "--db", "\/data\/scribe\.db"\]$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^VOLUME \["\/data"\]$/m);
    expect(dockerfile).not.toMatch(/^(CMD|ENTRYPOINT).*\b(npm|npx)\b/m);
    // It installs the packed tarballs, as a user outside the repository does.
    expect(dockerfile).toMatch(/npm run pack/);
    expect(dockerfile).toMatch(/npm install .*\/src\/packed\/\*\.tgz/);
  });
});

describe('deploy/compose.yaml', () => {
  interface Service {
    image?: string;
    build?: { context: string; dockerfile: string };
    entrypoint?: string[];
    command?: string[];
    volumes?: string[];
    init?: boolean;
    stop_signal?: string;
    depends_on?: Record<string, { condition: string }>;
  }
  const compose = parseYaml(read('compose.yaml')) as { services: Record<string, Service>; volumes: Record<string, unknown> };

  it('runs a daemon and an agent from the same image on one shared volume', () => {
    const { scribe, agent } = compose.services;
    expect(scribe?.build).toEqual({ context: '..', dockerfile: 'deploy/Dockerfile' });
    expect(agent?.image).toBe(scribe?.image);
    expect(scribe?.volumes).toEqual(['scribe-data:/data']);
    expect(agent?.volumes).toEqual(['scribe-data:/data']);
    expect(Object.keys(compose.volumes)).toEqual(['scribe-data']);
    for (const s of [scribe, agent]) expect([s?.init, s?.stop_signal]).toEqual([true, 'SIGTERM']);
    expect(scribe?.command?.slice(0, 3)).toEqual(['start', '--db', '/data/scribe.db']);
    // The agent waits for the daemon, so the daemon is the primary.
    expect(agent?.depends_on).toEqual({ scribe: { condition: 'service_healthy' } });
    // The agent script the compose file runs is the one the Dockerfile copies.
    expect(agent?.entrypoint).toEqual(['node', '/opt/scribe/agent.js']);
    expect(agent?.command).toEqual(['/data/scribe.db']);
    expect(read('Dockerfile')).toMatch(/^WORKDIR \/opt\/scribe\nCOPY deploy\/agent\.js \.\/agent\.js$/m);
  });

  it("the agent writes through the daemon as a secondary and stops cleanly on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scribe-deploy-'));
    dirs.push(dir);
    const db = join(dir, 'scribe.db');
    const run = (args: string[], env: Record<string, string> = {}): { child: ChildProcess; out: () => string; exit: Promise<number | null> } => {
      const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (out += d));
      return { child, out: () => out, exit: new Promise((r) => child.once('exit', (code) => r(code))) };
    };
    const daemon = run([CLI, 'start', '--db', db]);
    await waitFor(() => daemon.out().includes('"msg":"scribe started"') || daemon.child.exitCode !== null, 20_000, 'the daemon');
    expect(daemon.out()).toMatch(/"role":"primary"/);
    // The agent script the image runs, here against the repository's packages.
    const agent = run([join(DEPLOY, 'agent.js'), db], { AGENT_INTERVAL_MS: '20' });
    const lines = (): Array<Record<string, unknown>> =>
      agent.out().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    await waitFor(() => lines().filter((l) => l.msg === 'wrote').length >= 3 || agent.child.exitCode !== null, 20_000, 'three agent writes');
    expect(lines()[0]).toMatchObject({ msg: 'agent started', role: 'secondary' });
    expect(lines().filter((l) => l.msg === 'wrote').every((l) => l.role === 'secondary')).toBe(true);
    agent.child.kill('SIGTERM');
    expect(await agent.exit).toBe(0);
    expect(lines().at(-1)).toMatchObject({ msg: 'agent stopped' });
    daemon.child.kill('SIGTERM');
    expect(await daemon.exit).toBe(0);
  });
});
