import { spawn as spawnProcess, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from './helpers/node-process.js';
import { useTempCluster } from './helpers/temp-cluster.js';

const CLI = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const cluster = useTempCluster('top');
const started: ChildProcess[] = [];
afterEach(() => {
  for (const c of started.splice(0)) c.kill('SIGKILL');
});

function once(): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CLI, 'top', '--once', '--db', cluster.dbPath], { encoding: 'utf8', timeout: 20_000 });
}

describe('scribe top', () => {
  it('--once prints the members, the write path, failovers, refused writes and the change feed of a real cluster', async () => {
    const primary = await cluster.spawn({ instanceId: 'top-p' });
    const secondary = await cluster.spawn({ instanceId: 'top-s' });
    await secondary.call('createSession', { id: 'sess-1', title: 'watched' });
    await secondary.call('createSession', { id: 'sess-1', title: 'again' }).catch(() => undefined);
    // The secondary reports itself each heartbeat; the history samples once a second.
    const r = await waitFor(() => {
      const out = once();
      return /top-s/.test(out.stdout) && /CONFLICT 1/.test(out.stdout) ? out : undefined;
    }, 15_000, 'a frame with the secondary and the refused write');
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain('\x1b');
    expect(r.stdout).toMatch(new RegExp(`^scribe top  \\S+  primary top-p \\(pid ${primary.ready.pid}, epoch 1\\)  \\d\\d:\\d\\d:\\d\\d$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^\\*\\s+primary\\s+top-p\\s+${primary.ready.pid}\\s+1\\s.*answering$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^\\s+secondary\\s+top-s\\s+${secondary.ready.pid}\\s+1\\s.*answering$`, 'm'));
    expect(r.stdout).toMatch(/^writes\/s\s+committed \d+, refused \d+/m);
    expect(r.stdout).toMatch(/^latency\s+p50 [\d.]+ ms, p99 [\d.]+ ms/m);
    expect(r.stdout).toMatch(/^REFUSED OR FAILED  CONFLICT 1$/m);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d  CONFLICT  CreateSession  x1$/m);
    expect(r.stdout).toMatch(/^1\s+\d\d:\d\d:\d\d\s+sessions\s+sess-1\s+created\s+top-s$/m);

    await primary.kill('SIGKILL');
    const after = await waitFor(() => {
      const out = once();
      return /primary top-s/.test(out.stdout) ? out : undefined;
    }, 15_000, 'the new primary');
    expect(after.stdout).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d  top-p \\(pid ${primary.ready.pid}, epoch 1\\) -> top-s \\(epoch 2\\)  writes waited <= \\d+ ms  promoted$`, 'm'));
  });

  it('--once says plainly that no primary answers, and exits 1', async () => {
    const none = once();
    expect(none.status).toBe(1);
    expect(none.stdout).toMatch(/^no primary answers: no scribe cluster runs on .* \(no primary has published itself\)$/m);
    const primary = await cluster.spawn({ instanceId: 'p' });
    primary.child.kill('SIGSTOP');
    try {
      const stuck = spawnSync(process.execPath, [CLI, 'top', '--once', '--timeout', '500', '--db', cluster.dbPath], { encoding: 'utf8', timeout: 20_000 });
      expect(stuck.status).toBe(1);
      expect(stuck.stdout).toMatch(/^no primary answers: the primary named in the discovery file \(p, pid \d+, epoch 1\) did not answer \(TIMEOUT\)$/m);
    } finally {
      primary.child.kill('SIGCONT');
    }
  });

  it('refreshes in place under a terminal and quits on q, restoring the screen', async () => {
    const primary = await cluster.spawn({ instanceId: 'p' });
    // script(1) from util-linux gives top a pseudo-terminal; keys go in on its stdin.
    const child = spawnProcess('script', ['-q', '-e', '-c', `${process.execPath} ${CLI} top --db ${cluster.dbPath}`, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    started.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitFor(() => out.includes('no changes yet'), 15_000, 'the first frame');
    expect(out.startsWith('\x1b[?1049h')).toBe(true);
    expect(out).toMatch(/primary \x1b\[1mp\x1b\[22m \(pid \d+, epoch 1\)/);
    const frames = out.split('\x1b[H').length;
    await primary.call('createSession', { id: 'seen-live', title: 'x' });
    await waitFor(() => out.includes('seen-live'), 15_000, 'a later frame showing the new change');
    expect(out.split('\x1b[H').length).toBeGreaterThan(frames);
    child.stdin!.write('q');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 10_000))]);
    expect(code).toBe(0);
    expect(out.trimEnd().endsWith('\x1b[?25h\x1b[?1049l')).toBe(true);
  });

  it('refuses to draw on a non-terminal without --once', () => {
    const r = spawnSync(process.execPath, [CLI, 'top', '--db', cluster.dbPath], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('scribe top: the output is not a terminal; use --once for scripts\n');
  });
});
