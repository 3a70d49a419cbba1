// The throughput benchmark: `npm run bench` (flags: --procs 1,2,4,8 --count N
// --inflight K --sync FULL,NORMAL --quick --out DIR).
// For each durability level and process count P it runs, in this one run:
//   - scribe: a primary process plus P secondary processes forwarding CreateMessage
//     writes with K in flight each;
//   - direct: P processes writing the same rows straight into the file with
//     better-sqlite3 (WAL, busy_timeout 5000), one transaction per write;
// and once the latency of a single forwarded write on an idle cluster.
// Prints a markdown table and writes JSON, markdown and an SVG chart.
import { fork } from 'node:child_process';
import { cpus } from 'node:os';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { Store } from '@scribe/store';
import { renderChart } from './bench/chart.js';

const WORKER = fileURLToPath(new URL('./bench/worker.js', import.meta.url));
const { values } = parseArgs({
  options: {
    procs: { type: 'string', default: '1,2,4,8' },
    count: { type: 'string' },
    inflight: { type: 'string', default: '16' },
    sync: { type: 'string', default: 'FULL,NORMAL' },
    idle: { type: 'string', default: '2000' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: fileURLToPath(new URL('../bench-results', import.meta.url)) },
  },
});
const procsList = values.procs.split(',').map(Number);
const countFor = (sync) => Number(values.count ?? (values.quick ? 500 : sync === 'FULL' ? 2_000 : 10_000));
const inflight = Number(values.inflight);
const syncs = values.sync.split(',').map((s) => s.trim().toUpperCase());
const idleCount = values.quick ? 300 : Number(values.idle);
const log = (line) => process.stderr.write(`${line}\n`);

function start(mode, dbPath, sync) {
  const child = fork(WORKER, [mode, dbPath, sync], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const next = (type) =>
    new Promise((resolve, reject) => {
      const onMessage = (m) => {
        if (m.type === type) {
          child.off('message', onMessage);
          child.off('exit', onExit);
          resolve(m);
        }
      };
      const onExit = (code) => reject(new Error(`${mode} worker exited with ${code} while waiting for ${type}`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  return { child, next, ready: next('ready') };
}

async function stop(w) {
  if (w.child.exitCode !== null) return;
  const closed = w.next('closed').catch(() => undefined);
  w.child.send({ cmd: 'close' });
  await closed;
  await new Promise((r) => (w.child.exitCode !== null ? r() : w.child.once('exit', r)));
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summarise(results) {
  const lat = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const first = Math.min(...results.map((r) => r.started));
  const last = Math.max(...results.map((r) => r.ended));
  const writes = lat.length;
  return {
    writes,
    seconds: (last - first) / 1000,
    throughput: Math.round(writes / ((last - first) / 1000)),
    p50_ms: +percentile(lat, 50).toFixed(3),
    p99_ms: +percentile(lat, 99).toFixed(3),
    max_ms: +lat[lat.length - 1].toFixed(3),
    errors: results.reduce((a, r) => a + r.errors, 0),
    first_error: results.find((r) => r.firstError)?.firstError ?? null,
  };
}

function countRows(dbPath) {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare("SELECT COUNT(*) AS n FROM messages WHERE session_id = 'bench'").get().n;
  } finally {
    db.close();
  }
}

async function scenario(kind, sync, procs, count, k) {
  const dir = mkdtempSync(join(tmpdir(), 'scribe-bench-'));
  const dbPath = join(dir, 'bench.db');
  const workers = [];
  try {
    let primary;
    if (kind === 'scribe') {
      primary = start('primary', dbPath, sync);
      await primary.ready;
    } else {
      const store = Store.open({ path: dbPath, synchronous: sync });
      store.executeWrite({
        meta: { source_instance_id: 'bench', request_id: 'setup', timestamp: new Date().toISOString() },
        method: 'CreateSession',
        params: { id: 'bench', title: 'bench' },
      });
      store.close();
    }
    for (let i = 0; i < procs; i++) workers.push(start(kind === 'scribe' ? 'scribe' : 'direct', dbPath, sync));
    await Promise.all(workers.map((w) => w.ready));
    const results = await Promise.all(
      workers.map((w) => {
        const done = w.next('result');
        w.child.send({ cmd: 'run', count, inflight: k });
        return done;
      }),
    );
    await Promise.all(workers.map(stop));
    if (primary) await stop(primary);
    const summary = summarise(results);
    const rows = countRows(dbPath);
    return { kind, sync, procs, inflight: kind === 'scribe' ? k : 1, count_per_proc: count, ...summary, rows_ok: rows === procs * count - summary.errors };
  } finally {
    for (const w of workers) w.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? 'unknown';
  const db = new Database(':memory:');
  const sqlite = db.prepare('SELECT sqlite_version() AS v').get().v;
  db.close();
  return { cores: cpus().length, cpu: model, node: process.version, sqlite, platform: `${process.platform} ${process.arch}` };
}

const started = Date.now();
const rows = [];
log(`scribe bench: procs ${procsList.join(',')}, inflight ${inflight}, sync ${syncs.join(',')}`);
for (const sync of syncs) {
  for (const procs of procsList) {
    for (const kind of ['scribe', 'direct']) {
      const count = countFor(sync);
      log(`  ${kind} ${sync} P=${procs} × ${count} ...`);
      const r = await scenario(kind, sync, procs, count, inflight);
      log(`    ${r.throughput} writes/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, max ${r.max_ms} ms${r.errors ? `, ${r.errors} errors (${r.first_error})` : ''}`);
      rows.push(r);
    }
  }
}
log(`  idle: one secondary, one write at a time × ${idleCount} ...`);
const idle = await scenario('scribe', 'FULL', 1, idleCount, 1);
const idleNormal = await scenario('scribe', 'NORMAL', 1, idleCount, 1);

const header = '| sync | P | scribe writes/s | scribe p50 / p99 / max ms | direct writes/s | direct p50 / p99 / max ms | scribe ÷ direct |';
const lines = [header, '|---|---|---|---|---|---|---|'];
for (const sync of syncs) {
  for (const procs of procsList) {
    const s = rows.find((r) => r.kind === 'scribe' && r.sync === sync && r.procs === procs);
    const d = rows.find((r) => r.kind === 'direct' && r.sync === sync && r.procs === procs);
    const cell = (r) => `${r.p50_ms} / ${r.p99_ms} / ${r.max_ms}${r.errors ? ` (${r.errors} errors)` : ''}${r.rows_ok ? '' : ' ⚠ rows'}`;
    lines.push(`| ${sync} | ${procs} | ${s.throughput.toLocaleString('en')} | ${cell(s)} | ${d.throughput.toLocaleString('en')} | ${cell(d)} | ${(s.throughput / d.throughput).toFixed(2)}× |`);
  }
}
lines.push('');
lines.push(`Single forwarded write on an idle cluster (one secondary, one write in flight): FULL p50 ${idle.p50_ms} ms, p99 ${idle.p99_ms} ms; NORMAL p50 ${idleNormal.p50_ms} ms, p99 ${idleNormal.p99_ms} ms.`);
const m = machine();
lines.push('');
lines.push(`Machine: ${m.cores} cores, ${m.cpu}; Node ${m.node}; SQLite ${m.sqlite}; ${m.platform}. K = ${inflight} writes in flight per secondary. Run took ${Math.round((Date.now() - started) / 1000)} s.`);
const table = lines.join('\n');
process.stdout.write(`${table}\n`);

const out = resolve(values.out);
mkdirSync(out, { recursive: true });
const json = { date: new Date().toISOString(), machine: m, inflight, rows, idle: { FULL: idle, NORMAL: idleNormal } };
writeFileSync(join(out, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
writeFileSync(join(out, 'latest.md'), `${table}\n`);
writeFileSync(join(out, 'latest.svg'), renderChart(rows, syncs, procsList));
log(`wrote ${join(out, 'latest.json')}, latest.md and latest.svg`);
