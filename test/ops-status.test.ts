import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NodeProcess, waitFor } from './helpers/node-process.js';
import { useTempCluster } from './helpers/temp-cluster.js';

const CLI = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const cluster = useTempCluster('status');
const spawn = (options: Record<string, unknown>): Promise<NodeProcess> => cluster.spawn(options);

function scribe(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });
}

describe('scribe status and migrate', () => {
  it('shows every member of the cluster, as a table and as JSON', async () => {
    const p = await spawn({ instanceId: 'p', heartbeatIntervalMs: 100 });
    await spawn({ instanceId: 'a', heartbeatIntervalMs: 100 });
    await spawn({ instanceId: 'b', promote: false, heartbeatIntervalMs: 100 });
    await waitFor(() => {
      const r = scribe('status', '--db', cluster.dbPath, '--json');
      const j = JSON.parse(r.stdout) as { members?: Array<{ last_heartbeat_at: string | null }> };
      return j.members?.length === 3 && j.members.slice(1).every((m) => m.last_heartbeat_at !== null);
    }, 10_000, 'both secondaries to report, having heard a heartbeat');
    const json = JSON.parse(scribe('status', '--db', cluster.dbPath, '--json').stdout);
    expect(json).toMatchObject({ ok: true, primary: { role: 'primary', instance_id: 'p', pid: p.ready.pid } });
    expect(json.members.map((m: { role: string; instance_id: string }) => `${m.role}:${m.instance_id}`)).toEqual(['primary:p', 'secondary:a', 'secondary:b']);
    const table = scribe('status', '--db', cluster.dbPath);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/^ROLE\s+PID\s+INSTANCE\s+UPTIME\s+QUEUE\s+LAST HEARTBEAT\s+PRIMARY SEEN AS$/m);
    expect(table.stdout).toMatch(new RegExp(`^primary\\s+${p.ready.pid}\\s+p\\s+\\d+ s\\s+0\\s+-\\s+-$`, 'm'));
    expect(table.stdout).toMatch(/^secondary\s+\d+\s+a\s+\d+ s\s+0\s+\d+\.\d s ago\s+(responsive|UNRESPONSIVE)( \(\d+ lapses?\))?$/m);
    expect(table.stdout).toMatch(/^secondary\s+\d+\s+b\s+/m);
    // one word for writes refused before the queue, as in the JSON (writes.rejected)
    expect(table.stdout).toMatch(/^writes\s+\d+ accepted, \d+ completed, \d+ failed, \d+ rejected$/m);
    expect(json.primary.writes).toHaveProperty('rejected');
  });

  it('says plainly when no cluster runs on a path', () => {
    const r = scribe('status', '--db', cluster.dbPath);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^no scribe cluster runs on .*status\.db \(no primary has published itself\)$/m);
  });

  it('refuses to migrate a database that does not exist, creating nothing, unless --create is given', () => {
    const dir = join(dirname(cluster.dbPath), 'no', 'such', 'dir');
    const r = scribe('migrate', '--db', join(dir, 'x.db'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^scribe migrate: no database at .*\/no\/such\/dir\/x\.db; check --db, or give --create to create it$/m);
    expect(existsSync(join(dirname(cluster.dbPath), 'no'))).toBe(false);
    const created = scribe('migrate', '--db', join(dir, 'x.db'), '--create');
    expect(created.status).toBe(0);
    expect(created.stdout).toMatch(/applied scribe@1, scribe@2, scribe@3, scribe@4; schema version 4/);
    expect(existsSync(join(dir, 'x.db'))).toBe(true);
  });

  it('migrates on demand, applies nothing the second time, and refuses while a primary runs', async () => {
    const first = scribe('migrate', '--db', cluster.dbPath, '--create');
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/applied scribe@1, scribe@2, scribe@3, scribe@4; schema version 4/);
    const again = scribe('migrate', '--db', cluster.dbPath);
    expect(again.stdout).toMatch(/schema version 4, nothing to apply/);
    await spawn({ instanceId: 'p' });
    const busy = scribe('migrate', '--db', cluster.dbPath);
    expect(busy.status).toBe(1);
    expect(busy.stderr).toMatch(/a primary is running on .*; it applies migrations itself when it starts/);
  });
});
