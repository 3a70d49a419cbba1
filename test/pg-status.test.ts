import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openNode, type PgScribeNode, type StatusReport } from '@scribe/node';
import { PgPeerTable, type PeerRecord } from '@scribe/postgres';
import { SCHEMA_VERSION } from '@scribe/store';
import { afterEach, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium } from './helpers/browser.js';
import { NodeProcess, waitFor } from './helpers/node-process.js';
import { runPostgresTests, startPostgresServer, usePostgres } from './helpers/postgres-server.js';

// The status page of peers of one PostgreSQL server: each peer records itself in
// _scribe_peers, and each peer's /status.json lists the others from there.

const server = usePostgres();
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const CLI = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));

/** Runs the CLI without blocking this process (the peer it watches answers from this very event loop). */
function scribe(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Screenshots are kept as the test's artefacts. */
const ARTEFACTS = mkdtempSync(join(tmpdir(), 'scribe-pg-status-artefacts-'));

/** Peers beat every 100 ms here, so "not answering" (3 missed beats) comes quickly. */
const BEAT_MS = 100;

async function peer(url: string, instanceId: string): Promise<PgScribeNode> {
  const node = await openNode({ url, instanceId, http: { port: 0 }, heartbeatIntervalMs: BEAT_MS });
  cleanups.push(() => node.close());
  return node;
}

async function spawnPeer(url: string, instanceId: string): Promise<NodeProcess> {
  const p = await NodeProcess.spawn({ url, instanceId, http: { port: 0 }, heartbeatIntervalMs: BEAT_MS });
  cleanups.push(() => p.kill());
  return p;
}

function base(address: { host: string; port: number } | null | undefined): string {
  if (address === undefined || address === null) throw new Error('no HTTP listener');
  return `http://${address.host}:${address.port}`;
}

async function status(address: { host: string; port: number } | null | undefined): Promise<StatusReport> {
  const res = await fetch(`${base(address)}/status.json`);
  expect(res.status).toBe(200);
  return (await res.json()) as StatusReport;
}

async function admin(url: string, sql: string, values: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql, values);
  } finally {
    await client.end();
  }
}

describe.runIf(runPostgresTests)('the status page of PostgreSQL peers', () => {
  it('lists every peer of the database with host, pid and listener; its own write path as samples; the change log tail of all peers; refused writes', async () => {
    const url = (await server.database()).replace('postgresql://scribe@', 'postgresql://scribe:s3cret-pw@');
    const a = await peer(url, 'a');
    const b = await spawnPeer(url, 'b');
    await b.call('createSession', { id: 's1', title: 'from b' });
    await a.querier.createMessage({ id: 'm1', session_id: 's1', role: 'user', parts: '[]' });
    await expect(a.querier.createSession({ id: 's1', title: 'again' })).rejects.toMatchObject({ code: 'CONFLICT' });

    const report = await waitFor(
      async () => {
        const r = await status(a.httpAddress);
        const c = r.cluster;
        const committed = c?.samples.some((s) => (s.committed ?? 0) > 0) === true;
        return c !== null && c.members.length === 2 && committed && c.errors.totals['CONFLICT'] === 1 && c.changes.length >= 3 ? r : undefined;
      },
      15_000,
      'both peers, a committed sample, the refused write and the changes on /status.json',
    );
    expect(report).toMatchObject({
      served_by: { instance_id: 'a', role: 'peer', pid: process.pid, epoch: 0, http: base(a.httpAddress) },
      known_primary: null,
      primary_answers: true,
      problem: null,
    });
    const c = report.cluster!;
    expect(c.engine).toBe('postgres');
    expect(c.server).not.toContain('s3cret-pw');
    expect(c.server).toContain('***');
    expect(c.primary).toMatchObject({ role: 'peer', instance_id: 'a', schema_version: SCHEMA_VERSION, http: base(a.httpAddress) });
    expect(c.failovers).toEqual([]);
    expect(c.members.map((m) => [m.instance_id, m.role, m.pid, m.host, m.http, m.answering, m.schema_version])).toEqual([
      ['a', 'peer', process.pid, hostname(), base(a.httpAddress), true, SCHEMA_VERSION],
      ['b', 'peer', b.ready.pid, hostname(), base(b.ready.http), true, SCHEMA_VERSION],
    ]);
    // The tail of the change log on the server, newest first, with both peers' writes.
    expect(c.changes.map((x) => [x.entity, x.key, x.op, x.source_instance_id])).toEqual(
      expect.arrayContaining([
        ['sessions', 's1', 'created', 'b'],
        ['messages', 'm1', 'created', 'a'],
      ]),
    );
    expect(c.changes.map((x) => x.seq)).toEqual(c.changes.map((x) => x.seq).sort((x, y) => y - x));
    expect(c.errors.recent[0]).toMatchObject({ code: 'CONFLICT', method: 'CreateSession', count: 1 });

    // The other peer serves the same page with the same peers, from its own seat.
    const fromB = await waitFor(async () => {
      const r = await status(b.ready.http);
      return r.cluster?.members.length === 2 ? r : undefined;
    }, 15_000, 'b lists both peers');
    expect(fromB.cluster!.members.map((m) => m.instance_id)).toEqual(['b', 'a']);
    expect(fromB.served_by).toMatchObject({ instance_id: 'b', role: 'peer' });

    const page = await fetch(`${base(a.httpAddress)}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await page.text()).toContain('<title>scribe status</title>');
  });

  it('drops a peer that closed at once, and shows a peer killed with -9 as not answering', async () => {
    const url = await server.database();
    const a = await peer(url, 'a');
    const closing = await spawnPeer(url, 'closing');
    const killed = await spawnPeer(url, 'killed');
    await waitFor(async () => (await status(a.httpAddress)).cluster?.members.filter((m) => m.answering).length === 3, 15_000, 'three answering peers');

    await closing.close();
    await waitFor(async () => {
      const ids = (await status(a.httpAddress)).cluster?.members.map((m) => m.instance_id);
      return ids !== undefined && !ids.includes('closing') ? ids : undefined;
    }, 15_000, 'the closed peer gone from the list');

    await killed.kill('SIGKILL');
    const silent = await waitFor(async () => {
      const m = (await status(a.httpAddress)).cluster?.members.find((x) => x.instance_id === 'killed');
      return m !== undefined && !m.answering ? m : undefined;
    }, 15_000, 'the killed peer shown as not answering');
    expect(silent).toMatchObject({ role: 'peer', pid: killed.ready.pid, http: base(killed.ready.http) });
    // The one that serves is answering, whatever happened to the others.
    expect((await status(a.httpAddress)).cluster!.members[0]).toMatchObject({ instance_id: 'a', answering: true });
  });

  it('prunes a peer silent for longer than the forget period with the next heartbeat of any peer, never the beating one', async () => {
    const url = await server.database();
    const node = await openNode({ url, heartbeatIntervalMs: 60_000 }); // migrates; its own beat is not part of this test
    cleanups.push(() => node.close());
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    cleanups.push(() => pool.end());
    const table = new PgPeerTable(pool, { forgetMs: 5_000 });
    const record = (instance_id: string): PeerRecord => ({
      instance_id,
      pid: 1,
      host: 'h',
      http: null,
      schema_version: SCHEMA_VERSION,
      plugins: [{ name: 'p', schema_version: 2 }],
      load: { queue_depth: 0, committed_per_s: 5 },
      interval_ms: 1_000,
      uptime_s: 1,
      started_at: new Date().toISOString(),
    });
    await table.beat(record('ghost'));
    await table.beat(record('me'));
    // Ten minutes of silence for the ghost, and for 'me' too before its next beat.
    await admin(url, "UPDATE _scribe_peers SET seen_at = to_char((now() - interval '10 minutes') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')");
    const before = await table.list();
    expect(before.map((r) => r.instance_id)).toEqual(expect.arrayContaining(['ghost', 'me']));
    expect(before.find((r) => r.instance_id === 'ghost')!.age_ms).toBeGreaterThan(5_000);
    await table.beat(record('me'));
    const after = await table.list();
    expect(after.map((r) => r.instance_id)).not.toContain('ghost');
    expect(after.find((r) => r.instance_id === 'me')).toMatchObject({ plugins: [{ name: 'p', schema_version: 2 }], load: { queue_depth: 0, committed_per_s: 5 } });
    expect(after.find((r) => r.instance_id === 'me')!.age_ms).toBeLessThan(5_000);
  });

  it('keeps serving its own figures when the server goes away, with the members and changes it read last and the reason', async () => {
    const own = await startPostgresServer({ durable: false });
    cleanups.push(() => own.stop());
    const url = await own.createDatabase();
    const node = await openNode({ url, instanceId: 'alone', http: { port: 0 }, heartbeatIntervalMs: BEAT_MS, writeTimeoutMs: 1_000 });
    cleanups.push(() => node.close());
    await node.querier.createSession({ id: 's', title: 't' });
    await waitFor(async () => (await status(node.httpAddress)).cluster?.changes.length === 1, 15_000, 'the change on the page');

    await own.stop();
    await expect(node.querier.createSession({ id: 'x', title: 'lost' })).rejects.toMatchObject({ code: expect.stringMatching(/^(UNREACHABLE|SHUTTING_DOWN)$/) });
    const r = await waitFor(async () => {
      const x = await status(node.httpAddress);
      return x.problem !== null && Object.keys(x.cluster?.errors.totals ?? {}).length > 0 ? x : undefined;
    }, 15_000, 'the problem and the refused write on the page');
    expect(r.primary_answers).toBe(false);
    expect(r.problem).toMatch(/^the server postgresql:\/\/.* does not answer \((UNREACHABLE|SHUTTING_DOWN)\): this peer's own figures are live, the other peers and the change feed are as last read at /);
    expect(r.cluster!.members.map((m) => m.instance_id)).toEqual(['alone']);
    expect(r.cluster!.changes.map((c) => c.key)).toEqual(['s']);
    expect(r.cluster!.errors.recent[0]).toMatchObject({ method: 'CreateSession' });
  });

  it('scribe top --http watches the peers through any peer\'s listener', async () => {
    const url = await server.database();
    const a = await peer(url, 'a');
    const b = await spawnPeer(url, 'b');
    await b.call('createSession', { id: 'topped', title: 't' });
    const where = `${a.httpAddress!.host}:${a.httpAddress!.port}`;
    const r = await waitFor(async () => {
      const out = await scribe('top', '--once', '--http', where);
      return /^\s+peer\s+b\s/m.test(out.stdout) && /sessions\s+topped\s+created\s+b$/m.test(out.stdout) ? out : undefined;
    }, 15_000, 'a frame with both peers and the change');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^scribe top  postgresql://\\S+  served by peer a \\(pid ${process.pid}\\)  \\d\\d:\\d\\d:\\d\\d$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^\\*\\s+peer\\s+a\\s+${process.pid}\\s+${hostname()}\\s.*answering, \\S+ writes/s, queue 0$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^\\s+peer\\s+b\\s+${b.ready.pid}\\s+${hostname()}\\s.*answering`, 'm'));
    expect(r.stdout).not.toContain('FAILOVERS');

    await a.close();
    const gone = await scribe('top', '--once', '--http', where);
    expect(gone.status).toBe(1);
    expect(gone.stdout).toMatch(/the node at http:\/\/127\.0\.0\.1:\d+ does not answer/);
    const usage = await scribe('top', '--once', '--http', where, '--db', 'x.db');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/--http watches a node's listener: give it without --db/);
  });

  // Without Chromium the page cannot be rendered; CI installs it (.ci/run), so there it must.
  it.skipIf(!hasChromium && process.env['CI'] === undefined)('renders a peer cluster in a real browser: the peers with their hosts, this peer marked, a killed one NOT ANSWERING, no failover section', async () => {
    const url = await server.database();
    const a = await peer(url, 'a');
    const b = await spawnPeer(url, 'b');
    await b.call('createSession', { id: 'live', title: 'page' });
    const writing = b.send<{ acked: string[] }>('writeSeries', { sessionId: 'live', prefix: 'w', count: 1_000_000, concurrency: 2 });
    writing.catch(() => undefined); // awaited below; a failure before then must not go unhandled
    const browser = await launchChromium();
    cleanups.push(browser.close);
    const page = await browser.context.newPage();
    await page.goto(`${base(a.httpAddress)}/`);
    const text = (selector: string): Promise<string> => page.locator(selector).innerText();

    await waitFor(async () => (await page.locator('#members tr').count()) === 2, 15_000, 'both peers listed');
    expect(await text('#who')).toMatch(/^served by a \(peer, pid \d+\)$/);
    expect(await text('#primary-label')).toBe('peers of');
    expect(await text('#primary')).toMatch(/^postgresql:\/\/scribe@/);
    expect(await text('#th-epoch')).toBe('host');
    expect(await text('#members tr.self')).toMatch(new RegExp(`THIS PEER\\s+a\\s+${process.pid}\\s+${hostname()}`));
    expect(await text('#members tr:not(.self)')).toMatch(new RegExp(`peer\\s+b\\s+${b.ready.pid}\\s+${hostname()}`));
    expect(await page.locator('#failovers-section').isVisible()).toBe(false);
    // Each peer's own page is a link away.
    expect(await page.locator('#members tr:not(.self) a').getAttribute('href')).toBe(`${base(b.ready.http)}/`);
    // b's writes are in the change feed of the server; a's own write path committed none.
    await waitFor(async () => /\tmessages\tw-\d{6}\tcreated\tb$/m.test(await text('#changes')), 15_000, "b's writes in the change feed");
    await waitFor(async () => /answering, [1-9]\d* writes\/s/.test(await text('#members tr:not(.self)')), 15_000, "b's write rate on its row");
    await page.screenshot({ path: join(ARTEFACTS, 'status-page-postgres.png'), fullPage: true });

    await b.send('stop');
    expect((await writing).acked.length).toBeGreaterThan(0);
    await b.kill('SIGKILL');
    await waitFor(async () => /NOT ANSWERING\s+b\s/.test(await text('#members')), 15_000, 'the killed peer NOT ANSWERING');
  });
});
