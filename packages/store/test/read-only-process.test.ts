import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Store } from '@scribe/store';
import { harness, item, rejection, thrown, within } from './helpers.js';

const PEER = fileURLToPath(new URL('./fixtures/read-only-peer.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs the read-only peer fixture in a real child process and returns its report. */
function runPeer(dbPath: string, projectId: string): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    // cwd at the repo root so `@scribe/store` resolves through node_modules to the built package.
    const child = spawn(process.execPath, [PEER, dbPath, projectId], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`peer exited with ${String(code)}: ${stderr}`));
      else resolve(JSON.parse(stdout) as Record<string, any>);
    });
  });
}

describe('a read-only store in another process', () => {
  it('sees rows committed by the primary (still open) and its writes answer NOT_PRIMARY', async () => {
    const { q, store, path } = harness();
    const project = await q.createProject({ id: 'p1', name: 'shared', path: '/shared' });
    await q.createSession({ id: 's1', title: 'one' });
    await store.executeWrite(item('CreateSession', { id: 's2', title: 'two' }, 'committed-elsewhere'));

    const report = await within(runPeer(path, 'p1'), 20_000, 'the read-only peer');

    expect(report.readonly).toBe(true);
    expect(report.schema_version).toBe(store.schemaVersion());
    expect(report.project).toEqual(project);
    expect([...report.sessions].sort()).toEqual(['s1', 's2']);
    expect(report.request).toMatchObject({ request_id: 'committed-elsewhere', method: 'CreateSession', ok: true });
    expect(report.write).toMatchObject({ ok: false, name: 'WriteError', code: 'NOT_PRIMARY', retryable: true });
    // The secondary's attempt changed nothing.
    expect((await q.listAllSessions()).map((s) => s.id).sort()).toEqual(['s1', 's2']);
  });

  it('sees a commit made after it opened, on its next read', async () => {
    const { q, path } = harness();
    const reader = Store.open({ path, readonly: true });
    try {
      expect(await reader.reads.getSession('late')).toBeUndefined();
      await q.createSession({ id: 'late', title: 'after open' });
      expect(await reader.reads.getSession('late')).toMatchObject({ id: 'late', title: 'after open' });
    } finally {
      reader.close();
    }
  });

  it('refuses migrate and executeBatch with NOT_PRIMARY in the same process too', async () => {
    const { path } = harness();
    const reader = Store.open({ path, readonly: true });
    try {
      expect(thrown(() => reader.migrate())).toMatchObject({ code: 'NOT_PRIMARY' });
      expect(await rejection(reader.executeBatch([item('CreateSession', { title: 'x' })]))).toMatchObject({ code: 'NOT_PRIMARY' });
    } finally {
      reader.close();
    }
  });

  it('needs the file to exist', async () => {
    const { dir } = harness();
    expect(() => Store.open({ path: `${dir}/missing.db`, readonly: true })).toThrow(/read-only/);
  });
});
