import { spawn as spawnProcess, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { inspectDatabase } from '@scribe/store';
import { auditSession, type SeriesResult } from './helpers/cluster-check.js';
import type { NodeProcess } from './helpers/node-process.js';
import { waitFor } from './helpers/node-process.js';
import { useTempCluster } from './helpers/temp-cluster.js';

const CLI = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const cluster = useTempCluster('backup');
const spawn = (options: Record<string, unknown>): Promise<NodeProcess> => cluster.spawn(options);

function scribe(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
}

/** Runs the CLI without blocking this process, so the nodes' messages keep flowing. */
function scribeAsync(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawnProcess(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

async function stopNode(p: NodeProcess): Promise<void> {
  await p.close();
  await p.exited;
}

describe('scribe backup and restore', () => {
  it('takes a consistent, verified, owner-only copy while a cluster keeps writing', async () => {
    await spawn({ instanceId: 'p' });
    const writers = [await spawn({ instanceId: 'w1', promote: false }), await spawn({ instanceId: 'w2', promote: false })];
    await writers[0]!.call('createSession', { id: 's', title: 'backup under load' });
    const rows = () => auditSession(cluster.dbPath, 's').markers.length;
    const running = Promise.all(
      writers.map((w) => w.send<SeriesResult>('writeSeries', { sessionId: 's', prefix: w.ready.instanceId, count: 1_000_000, concurrency: 16, withIds: false })),
    );
    await waitFor(() => rows() > 200, 15_000, 'writes before the backup');
    const out = join(dirname(cluster.dbPath), 'snapshot.db');
    const before = rows();
    const r = await scribeAsync('backup', '--db', cluster.dbPath, '--out', out);
    const after = rows();
    await Promise.all(writers.map((w) => w.send('stop')));
    await running;
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^backed up .*backup\.db to .*snapshot\.db: [\d,]+ bytes, \d+ pages of \d+ bytes, schema version \d+, integrity ok\n$/);
    // the writes went on during the copy: the snapshot is somewhere between
    expect(after).toBeGreaterThan(before);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const facts = inspectDatabase(out);
    expect(facts.integrity).toBe('ok');
    expect(facts.schemaVersion).toBeGreaterThan(0);
    const copy = auditSession(out, 's');
    expect(copy.integrity).toBe('ok');
    // consistent: the session's message_count (updated in the same transaction as each row) matches the rows
    expect(copy.messageCount).toBe(copy.markers.length);
    expect(copy.markers.length).toBeGreaterThanOrEqual(before);
    expect(copy.markers.length).toBeLessThanOrEqual(after);
    const live = new Set(auditSession(cluster.dbPath, 's').markers);
    expect(copy.markers.filter((m) => !live.has(m))).toEqual([]);
    // no temp file left beside it, and --out is not replaced without --force
    expect(readdirSync(dirname(out)).filter((f) => f.includes('snapshot.db.'))).toEqual([]);
    const again = scribe('backup', '--db', cluster.dbPath, '--out', out);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/snapshot\.db exists; give --force to replace it/);
  });

  it('refuses to restore while a primary runs on the database, or any other process has it open, and changes nothing', async () => {
    const p = await spawn({ instanceId: 'p' });
    await p.call('createSession', { id: 'kept', title: 'live' });
    const out = join(dirname(cluster.dbPath), 'snapshot.db');
    expect(scribe('backup', '--db', cluster.dbPath, '--out', out).status).toBe(0);
    const secondary = await spawn({ instanceId: 'reader', promote: false });
    const refused = scribe('restore', '--db', cluster.dbPath, '--from', out);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`^scribe restore: a node runs on .*backup\\.db as primary \\(pid ${p.ready.pid}\\); stop every node on it first$`, 'm'));
    // with the primary gone, the secondary that cannot promote still has the file open
    await stopNode(p);
    const stillOpen = scribe('restore', '--db', cluster.dbPath, '--from', out);
    expect(stillOpen.status).toBe(1);
    expect(stillOpen.stderr).toMatch(new RegExp(`processes .*\\b${secondary.ready.pid}\\b.* have .*backup\\.db open`));
    expect(readdirSync(dirname(cluster.dbPath)).filter((f) => f.includes('.bak-'))).toEqual([]);
    expect(await secondary.call('getSession', 'kept')).toMatchObject({ id: 'kept' });
  });

  it('restores a backup in place of the database, keeping the old one, and a node started on it serves the backed-up data', async () => {
    const p = await spawn({ instanceId: 'p' });
    await p.call('createSession', { id: 'before', title: 'in the backup' });
    const out = join(dirname(cluster.dbPath), 'snapshot.db');
    expect(scribe('backup', '--db', cluster.dbPath, '--out', out).status).toBe(0);
    await p.call('createSession', { id: 'after', title: 'written after the backup' });
    await stopNode(p);
    // with no node running, backup works the same
    const offline = join(dirname(cluster.dbPath), 'offline.db');
    expect(scribe('backup', '--db', cluster.dbPath, '--out', offline).status).toBe(0);
    expect(auditSession(offline, 'after').messageCount).toBe(0); // the session exists there (-1 when absent)

    const r = scribe('restore', '--db', cluster.dbPath, '--from', out);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^restored .*backup\.db from .*snapshot\.db: [\d,]+ bytes, \d+ pages of \d+ bytes, schema version \d+, integrity ok$/m);
    const bak = /^the previous database is kept as (.*\.bak-[\dTZ-]+) /m.exec(r.stdout)?.[1];
    expect(bak).toBeDefined();
    expect(existsSync(`${cluster.dbPath}-wal`)).toBe(false);
    expect(statSync(cluster.dbPath).mode & 0o777).toBe(0o600);

    const restarted = await spawn({ instanceId: 'p2' });
    expect(restarted.ready.role).toBe('primary');
    expect(await restarted.call('getSession', 'before')).toMatchObject({ id: 'before' });
    expect(await restarted.call('getSession', 'after')).toBeNull();
    await restarted.call('createSession', { id: 'new', title: 'written to the restored file' });
    expect(await restarted.call('getSession', 'new')).toMatchObject({ id: 'new' });
    // the old database (with its WAL beside it) still has what was written after the backup
    expect(auditSession(bak!, 'after').messageCount).toBe(0); // present (-1 when absent)
    expect(inspectDatabase(bak!).integrity).toBe('ok');
  });

  it('refuses a backup that is missing or is not a database, and a backup without --out', () => {
    const garbage = join(dirname(cluster.dbPath), 'garbage.db');
    writeFileSync(garbage, Buffer.alloc(8192, 'not a database '));
    const bad = scribe('restore', '--db', cluster.dbPath, '--from', garbage);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^scribe: inspect: check .*garbage\.db\n  caused by: file is not a database$/m);
    expect(existsSync(cluster.dbPath)).toBe(false);
    const missing = scribe('restore', '--db', cluster.dbPath, '--from', join(dirname(cluster.dbPath), 'nope.db'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^scribe restore: no backup at .*nope\.db; check --from$/m);
    const noOut = scribe('backup', '--db', cluster.dbPath);
    expect(noOut.status).toBe(2);
    expect(noOut.stderr).toMatch(/^scribe backup: required option '--out <file>' not specified/);
  });
});
