import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The command line as an operator meets it: each case runs the real `scribe` binary.
const CLI = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const NEVER_DB = join(tmpdir(), 'scribe-args-never', 'never.db');

function scribe(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
}

describe('the scribe command line', () => {
  it('prints its version (the @scribe/cli package version) with --version and -V', () => {
    const { version } = JSON.parse(readFileSync(new URL('../packages/cli/package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = scribe([flag]);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${version}\n`);
    }
  });

  it('exits 0 without a stack when the reader of its output goes away (`scribe help | head`)', async () => {
    // The pipe is closed before the child writes, so its write fails with EPIPE.
    const child = spawn(process.execPath, [CLI, 'help', 'start'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it("shows one command's options with `<command> --help` and `help <command>`, not the others'", () => {
    for (const args of [['start', '--help'], ['help', 'start']]) {
      const r = scribe(args);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^Usage: scribe start /);
      expect(r.stdout).toMatch(/--synchronous <level>/);
      expect(r.stdout).toMatch(/env: SCRIBE_SYNCHRONOUS/);
      expect(r.stdout).not.toMatch(/^\s+--(json|timeout|out|from)\b/m);
    }
    const status = scribe(['status', '--help']);
    expect(status.stdout).toMatch(/--timeout <ms>/);
    expect(status.stdout).not.toMatch(/^\s+--(synchronous|router)\b/m);
  });

  it('lists the commands with --help, with `help`, and with no arguments', () => {
    for (const args of [['--help'], ['help'], []]) {
      const r = scribe(args);
      expect(r.status).toBe(0);
      for (const command of ['start', 'status', 'migrate', 'keygen']) expect(r.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
  });

  it("refuses another command's flag and an unknown flag with one line naming it, the command's usage and exit code 2", () => {
    const r = scribe(['keygen', '--synchronous', 'OFF']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe("scribe keygen: unknown option '--synchronous'");
    expect(lines[1]).toMatch(/^usage: scribe keygen\b/);
    expect(r.stderr).not.toMatch(/TypeError|ERR_PARSE_ARGS|at parseArgs/);

    const unknown = scribe(['status', '--jsn']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^scribe status: unknown option '--jsn'/);
    expect(unknown.stderr).toMatch(/\(Did you mean --json\?\)/);
    expect(unknown.stderr).toMatch(/^usage: scribe status \[--db <path>\] \[--json\] \[--timeout <ms>\]/m);
  });

  it('refuses an unknown command, a missing value and an unexpected argument with exit code 2', () => {
    const cases: Array<[string[], RegExp]> = [
      [['frobnicate'], /^scribe: unknown command 'frobnicate'/],
      [['status', '--timeout'], /^scribe status: option '--timeout <ms>' argument missing/],
      [['migrate', 'extra'], /^scribe migrate: too many arguments/],
      [['status', '--timeout', '0', '--db', NEVER_DB], /^scribe status: --timeout must be a whole number of milliseconds above 0, got "0"/],
    ];
    for (const [args, message] of cases) {
      const r = scribe(args);
      expect({ args, status: r.status }).toEqual({ args, status: 2 });
      expect(r.stderr).toMatch(message);
    }
  });

  it('takes options from the environment and names the variable when its value is wrong', () => {
    const r = scribe(['start', '--db', NEVER_DB], { SCRIBE_SYNCHRONOUS: 'sometimes' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^scribe start: --synchronous \(from SCRIBE_SYNCHRONOUS\) must be one of OFF, NORMAL, FULL, EXTRA, got "SOMETIMES"/);
    const log = scribe(['start', '--db', NEVER_DB], { SCRIBE_LOG_LEVEL: 'loud' });
    expect(log.status).toBe(2);
    expect(log.stderr).toMatch(/--log-level \(from SCRIBE_LOG_LEVEL\) must be a pino level/);
    // a flag wins over the environment
    const flagWins = scribe(['start', '--db', NEVER_DB, '--synchronous', 'never'], { SCRIBE_SYNCHRONOUS: 'FULL' });
    expect(flagWins.stderr).toMatch(/^scribe start: --synchronous must be one of/);
  });
});
