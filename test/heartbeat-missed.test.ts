/**
 * A secondary that misses its primary's heartbeats says so (issue 14 §3): in its
 * events, its /healthz and, through its member report, in `scribe status`, while the
 * primary lock (held by the stalled process) stays the authority: nobody promotes.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NodeProcess, waitFor } from './helpers/node-process.js';
import { useTempCluster } from './helpers/temp-cluster.js';

const CLI = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const cluster = useTempCluster('heartbeat');
const spawn = (options: Record<string, unknown>): Promise<NodeProcess> => cluster.spawn(options);
const timings = { heartbeatIntervalMs: 100, pollIntervalMs: 100 };

async function healthz(p: NodeProcess): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://${p.ready.http!.host}:${p.ready.http!.port}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function eventsOf(p: NodeProcess, type: string): Array<Record<string, unknown>> {
  return p.events.filter((e) => e.type === type);
}

describe('missed heartbeats', () => {
  it('a secondary reports a stalled primary unresponsive (event, /healthz), then responsive again, without promoting; status shows the lapse', async () => {
    const primary = await spawn({ instanceId: 'p', ...timings });
    const secondary = await spawn({ instanceId: 's', http: { port: 0 }, ...timings });
    expect(secondary.ready.role).toBe('secondary');
    // Healthy, and it has heard at least one heartbeat (a secondary counts the primary responsive
    // from the start, before its subscription delivers the first one).
    await waitFor(
      async () => {
        const h = await healthz(secondary);
        return h.status === 200 && typeof (h.body.primary as { last_heartbeat_at?: unknown } | undefined)?.last_heartbeat_at === 'string'
          ? true
          : undefined;
      },
      10_000,
      'a healthy secondary that has heard a heartbeat',
    );
    expect((await healthz(secondary)).body).toMatchObject({ ok: true, primary: { responsive: true } });

    // A loaded machine can delay a heartbeat past the limit on its own: count from here.
    const before = eventsOf(secondary, 'primary:unresponsive').length;
    primary.child.kill('SIGSTOP');
    try {
      const down = await waitFor(() => eventsOf(secondary, 'primary:unresponsive')[before], 10_000, 'primary:unresponsive');
      expect(down).toMatchObject({ type: 'primary:unresponsive', instance_id: 'p', epoch: primary.ready.epoch });
      expect(down.silent_ms as number).toBeGreaterThan(3 * timings.heartbeatIntervalMs);
      expect(typeof down.last_heartbeat_at).toBe('string');
      const bad = await healthz(secondary);
      expect(bad.status).toBe(503);
      expect(bad.body).toMatchObject({ ok: false, role: 'secondary', primary: { responsive: false } });
      // The lock is still held by the stalled process: the secondary has not taken over.
      expect(eventsOf(secondary, 'role:changed')).toEqual([]);
    } finally {
      primary.child.kill('SIGCONT');
    }

    const up = await waitFor(() => eventsOf(secondary, 'primary:responsive')[before], 10_000, 'primary:responsive');
    expect(up).toMatchObject({ instance_id: 'p', epoch: primary.ready.epoch });
    // Each lapse is reported once, and each is followed by its recovery.
    expect(eventsOf(secondary, 'primary:unresponsive').length).toBe(eventsOf(secondary, 'primary:responsive').length);
    expect(eventsOf(secondary, 'role:changed')).toEqual([]);
    await waitFor(async () => ((await healthz(secondary)).status === 200 ? true : undefined), 10_000, 'healthy again');

    // The secondary's member report carries its view; scribe status shows it.
    const member = await waitFor(() => {
      const r = spawnSync(process.execPath, [CLI, 'status', '--db', cluster.dbPath, '--json'], { encoding: 'utf8', timeout: 20_000 });
      const s = JSON.parse(r.stdout) as { members?: Array<{ instance_id: string; primary_responsive?: boolean; primary_lapses?: number }> };
      const m = s.members?.find((x) => x.instance_id === 's');
      return m?.primary_lapses !== undefined && m.primary_lapses > before && m.primary_responsive === true ? m : undefined;
    }, 10_000, "the secondary's report in scribe status");
    expect(member.primary_responsive).toBe(true);
    expect(member.primary_lapses).toBeGreaterThan(before);
    const table = spawnSync(process.execPath, [CLI, 'status', '--db', cluster.dbPath], { encoding: 'utf8', timeout: 20_000 });
    expect(table.stdout).toMatch(/^secondary\s+\d+\s+s\s+.*\s+(responsive|UNRESPONSIVE) \(\d+ lapses?\)$/m);
  });
});
