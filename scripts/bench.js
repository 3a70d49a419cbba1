// The throughput benchmark: `npm run bench` (after `npm ci`). Method and latest
// results: docs/performance.md.
//
// For each durability level (--sync FULL,NORMAL) and process count P (--procs 1,2,4,8)
// it runs, in this one run, each in a fresh temp directory:
//   - scribe: a primary process (writes nothing itself) plus P secondary processes,
//     each forwarding `count` CreateMessage writes with K (--inflight) in flight;
//   - direct: P processes writing the same rows straight into the file with
//     better-sqlite3 (WAL, busy_timeout 5000), one transaction per write, one at a time;
//   - limit (once per sync level): one process writing the same rows as plain
//     INSERT/UPDATE statements, 256 writes per transaction, no network, no bookkeeping:
//     the one-writer limit of this machine;
//   - store alone (once per sync level): one process writing the same rows through the
//     Store's batch executor (savepoint, request record and change events paid), 256
//     writes per transaction, no network: what the store itself costs per write;
//   - payloads (at P = 4, or the largest P run): scribe and direct with `parts` of
//     each --payloads size;
// and the latency of a single forwarded write on an idle cluster (one secondary,
// one write in flight, sequential). Prints a markdown table on stdout, progress on
// stderr, and writes latest.json, latest.md and latest.svg under --out.
//
// Flags: --count N (writes per process; default 12,000 at FULL, 30,000 at NORMAL)
//        --procs 1,2,4,8  --inflight 16  --sync FULL,NORMAL  --idle N (idle writes)
//        --quick (small counts, a smoke run)  --out DIR (default bench-results/ for a
//          full run, a new temp directory for --quick, so a smoke run never replaces
//          the committed results; the path is printed)
//        --timeout S (per scenario, default 180)
//        --payloads 1024,65536 (bytes of `parts` JSON; default those two in a full run,
//          none with --quick; '' for none)  --payload-count N (writes per process per
//          payload size, default 1,000, 20 with --quick; at most 8 MiB per process)
//        --commit-sync pipelined|inline (the primary's commitSync; default: the node's default)
//        --profile-primary (run the primaries under --cpu-prof; writes profiled.* and
//          profile-primary.md instead of latest.*; raw profiles in --profile-dir)
//        --engines sqlite,postgres (default both; 'sqlite' alone skips PostgreSQL, 'postgres'
//          alone runs only the PostgreSQL rows)  --no-postgres (the same as --engines sqlite)
//        --pg-count N (writes per PostgreSQL peer; default 800, 200 with --quick; the
//          idle PostgreSQL row writes a tenth of --idle, one at a time)
//        --help (prints these flags)
//
// PostgreSQL (unless skipped): the bench starts its own throwaway server
// (scripts/lib/postgres-server.js, the tests' one: the system's binaries, a temp
// directory, a unix socket only, fsync and synchronous_commit on; as root it runs as
// the `postgres` user) and, at each P, runs P peer processes (`openNode({ url })`) each
// writing the same CreateMessage rows with K in flight, into a fresh database. No
// PostgreSQL installed: those rows are skipped with a note, the run does not fail.
import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openNode } from '@scribe/node';
import { Store } from '@scribe/store';
import { renderChart } from './bench/chart.js';
import { profileMarkdown, summariseProfile } from './bench/profile-summary.js';
import { hasPostgres, NO_POSTGRES_MESSAGE, startPostgresServer } from './lib/postgres-server.js';

const WORKER = fileURLToPath(new URL('./bench/worker.js', import.meta.url));
const { values } = parseArgs({
  options: {
    procs: { type: 'string', default: '1,2,4,8' },
    count: { type: 'string' },
    inflight: { type: 'string', default: '16' },
    sync: { type: 'string', default: 'FULL,NORMAL' },
    idle: { type: 'string' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    timeout: { type: 'string', default: '180' },
    'profile-primary': { type: 'boolean', default: false },
    'profile-dir': { type: 'string' },
    payloads: { type: 'string' },
    'payload-count': { type: 'string' },
    'commit-sync': { type: 'string' },
    engines: { type: 'string', default: 'sqlite,postgres' },
    'no-postgres': { type: 'boolean', default: false },
    'pg-count': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  // The flags are documented once, in this file's header comment: print it.
  const header = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
  const end = header.findIndex((l) => !l.startsWith('//'));
  process.stdout.write(`${header.slice(0, end).map((l) => l.replace(/^\/\/ ?/, '')).join('\n')}\n`);
  process.exit(0);
}
const ENGINES = ['sqlite', 'postgres'];
const engines = values['no-postgres'] ? ['sqlite'] : values.engines.split(',').map((e) => e.trim().toLowerCase()).filter((e) => e !== '');
for (const e of engines) if (!ENGINES.includes(e)) throw new Error(`bench: --engines takes ${ENGINES.join(', ')}, got '${e}'`);
if (engines.length === 0) throw new Error(`bench: --engines needs at least one of ${ENGINES.join(', ')}`);
const runSqlite = engines.includes('sqlite');
/** Why the PostgreSQL rows were not run (undefined when they were asked for and can run). */
const pgSkipped = !engines.includes('postgres') ? 'not asked for (--engines)' : hasPostgres ? undefined : NO_POSTGRES_MESSAGE;
/**
 * The bench's PostgreSQL server: the tests' durable defaults, with room for 8 peers'
 * pools (8 × (10 + the LISTEN connection)) and the bench's own connections.
 */
const PG_SETTINGS = { max_connections: 200 };
const pgCount = Number(values['pg-count'] ?? (values.quick ? 200 : 800));
const DEFAULT_COUNT = { FULL: 12_000, NORMAL: 30_000 };
const procsList = values.procs.split(',').map((p) => Number(p.trim()));
const countFor = (sync) => Number(values.count ?? (values.quick ? 500 : (DEFAULT_COUNT[sync] ?? 8_000)));
const inflight = Number(values.inflight);
const syncs = values.sync.split(',').map((s) => s.trim().toUpperCase());
const idleCount = Number(values.idle ?? (values.quick ? 300 : 3_000));
const scenarioTimeoutMs = Number(values.timeout) * 1000;
/** Writes of the PostgreSQL idle row (one peer, one in flight): a tenth of --idle. */
const pgIdleCount = Math.max(10, Math.round(idleCount / 10));
const profile = values['profile-primary'];
const profileDir = profile ? resolve(values['profile-dir'] ?? mkdtempSync(join(tmpdir(), 'scribe-bench-prof-'))) : undefined;
for (const [name, v] of [['--inflight', inflight], ['--idle', idleCount], ['--pg-count', pgCount], ...syncs.map((s) => [`--count (${s})`, countFor(s)]), ...procsList.map((p) => ['--procs', p])]) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`bench: ${name} must be a positive integer, got ${v}`);
}
const payloadSizes = (values.payloads ?? (values.quick ? '' : '1024,65536'))
  .split(',')
  .map((p) => p.trim())
  .filter((p) => p !== '')
  .map(Number);
const payloadCountBase = Number(values['payload-count'] ?? (values.quick ? 20 : 1_000));
/** Writes per process for a payload size: --payload-count, but at most 8 MiB of `parts` per process. */
const payloadCountFor = (bytes) => Math.max(1, Math.min(payloadCountBase, Math.floor((8 * 1024 * 1024) / bytes)));
/** The P of the payload rows: 4 if it is run, else the largest P. */
const payloadProcs = procsList.includes(4) ? 4 : Math.max(...procsList);
/** Writes of the one-writer limit (and of the store alone): as many as all processes of the largest P write. */
const limitCountFor = (sync) => Math.max(...procsList) * countFor(sync);
/** Writes per transaction of the limit and the store alone (scripts/bench/worker.js LIMIT_BATCH). */
const LIMIT_BATCH = 256;
for (const [name, v] of [['--payload-count', payloadCountBase], ...payloadSizes.map((b) => ['--payloads', b])]) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`bench: ${name} must be a positive integer, got ${v}`);
}
const log = (line) => process.stderr.write(`${line}\n`);

/** Forks a worker; `next(type)` resolves with its next message of that type. */
function start(mode, dbPath, sync, execArgv = []) {
  const child = fork(WORKER, [mode, dbPath, sync, ...(mode === 'primary' && values['commit-sync'] ? [values['commit-sync']] : [])], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    serialization: 'advanced',
    execArgv: [...process.execArgv, ...execArgv],
  });
  const next = (type) =>
    new Promise((resolve, reject) => {
      const onMessage = (m) => {
        if (m.type === type || m.type === 'failed') {
          child.off('message', onMessage);
          child.off('exit', onExit);
          if (m.type === 'failed') reject(new Error(`${mode} worker failed: ${m.error}`));
          else resolve(m);
        }
      };
      const onExit = (code, signal) => {
        child.off('message', onMessage);
        reject(new Error(`${mode} worker exited (${signal ?? code}) while waiting for '${type}'`));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  return { child, next, ready: next('ready') };
}

async function stop(w) {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  const exited = new Promise((r) => w.child.once('exit', r));
  const closed = w.next('closed').catch(() => undefined);
  w.child.send({ cmd: 'close' });
  await closed;
  await exited;
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Nearest-rank percentile of a sorted array. */
function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const round3 = (x) => (Number.isFinite(x) ? +x.toFixed(3) : null);

function summarise(results, wallMs) {
  const n = results.reduce((a, r) => a + r.latencies.length, 0);
  const all = new Float64Array(n);
  let o = 0;
  for (const r of results) {
    all.set(r.latencies, o);
    o += r.latencies.length;
  }
  const ok = all.filter((x) => !Number.isNaN(x)).sort();
  return {
    writes: ok.length,
    seconds: +(wallMs / 1000).toFixed(3),
    throughput: Math.round(ok.length / (wallMs / 1000)),
    p50_ms: round3(percentile(ok, 50)),
    p99_ms: round3(percentile(ok, 99)),
    max_ms: round3(ok[ok.length - 1]),
    errors: results.reduce((a, r) => a + r.errors, 0),
    // CPU time (user + system) the writing processes spent per acknowledged write.
    writer_cpu_us_per_write: ok.length > 0 ? +(results.reduce((a, r) => a + (r.cpu_us ?? 0), 0) / ok.length).toFixed(1) : null,
    first_error: results.find((r) => r.firstError)?.firstError ?? null,
  };
}

function countRows(dbPath, session) {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare('SELECT COUNT(*) AS n FROM messages WHERE session_id = ?').get(session).n;
  } finally {
    db.close();
  }
}

/** One scenario in a fresh directory: start everyone, wait for ready, 'go' to all at once, collect. */
async function scenario(kind, sync, procs, count, k, payload) {
  const dir = mkdtempSync(join(tmpdir(), 'scribe-bench-'));
  const dbPath = join(dir, 'bench.db');
  const workers = [];
  let primary;
  const base = { kind, sync, procs, inflight: kind === 'scribe' ? k : 1, count_per_proc: count, ...(payload === undefined ? {} : { payload_bytes: payload }) };
  try {
    if (kind === 'scribe') {
      const prof = profile
        ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=primary-${sync}-P${procs}-K${k}-${Date.now()}.cpuprofile`]
        : [];
      primary = start('primary', dbPath, sync, prof);
      await withTimeout(primary.ready, 30_000, 'primary start');
    } else {
      // The schema and the sessions, exactly as scribe makes them; then closed.
      const store = Store.open({ path: dbPath, synchronous: sync });
      for (const id of ['bench', 'warm']) {
        await store.executeWrite({
          meta: { source_instance_id: 'bench', request_id: `setup-${id}`, timestamp: new Date().toISOString() },
          method: 'CreateSession',
          params: { id, title: id },
        });
      }
      store.close();
    }
    for (let i = 0; i < procs; i++) workers.push(start(kind, dbPath, sync));
    await withTimeout(Promise.all(workers.map((w) => w.ready)), 60_000, `${kind} workers start`);
    const before = primary ? await (primary.child.send({ cmd: 'stats' }), primary.next('stats')) : undefined;
    // The clock runs in this process only: from sending 'go' to the last 'done'.
    const dones = workers.map((w) => w.next('done').then(() => performance.now()));
    const results = workers.map((w) => w.next('result'));
    const t0 = performance.now();
    for (const w of workers) w.child.send({ cmd: 'go', count, inflight: k, payload });
    const ends = await withTimeout(Promise.all(dones), scenarioTimeoutMs, `${kind} ${sync} P=${procs}`);
    const wallMs = Math.max(...ends) - t0;
    const summary = summarise(await Promise.all(results), wallMs);
    let batch = {};
    if (primary) {
      primary.child.send({ cmd: 'stats' });
      const after = await primary.next('stats');
      const batches = after.batches - before.batches;
      const writes = after.batched_writes - before.batched_writes;
      batch = {
        batches,
        mean_batch: batches ? +(writes / batches).toFixed(1) : null,
        mean_commit_ms: batches ? +((1000 * (after.commit_seconds - before.commit_seconds)) / batches).toFixed(3) : null,
        // The primary's CPU time per write over the measured part (user + system, all its threads).
        primary_cpu_us_per_write: summary.writes > 0 ? +((after.cpu_us - before.cpu_us) / summary.writes).toFixed(1) : null,
      };
    }
    await Promise.all(workers.map(stop));
    if (primary) await stop(primary);
    const rows = countRows(dbPath, 'bench');
    const expected = procs * count;
    if (rows !== expected) log(`    WARNING: ${rows} rows in the file, expected ${expected} (${summary.errors} writes failed)`);
    return { ...base, ...summary, ...batch, rows, rows_ok: rows === expected };
  } catch (e) {
    log(`    FAILED: ${e.message}`);
    return { ...base, writes: 0, seconds: null, throughput: 0, p50_ms: null, p99_ms: null, max_ms: null, errors: procs * count, first_error: e.message, rows: null, rows_ok: false };
  } finally {
    for (const w of [...workers, primary]) if (w && w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs one statement on a PostgreSQL database with a short-lived client; its rows. */
async function pgQuery(url, sql, params = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * CPU time (µs) of the PostgreSQL server's postmaster and its children that have exited
 * (the backends of closed connections), from /proc; undefined where there is no /proc.
 */
function serverCpuUs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    // utime, stime, cutime, cstime: fields 14-17 of stat(5), in clock ticks (100 per second on Linux).
    return [11, 12, 13, 14].reduce((a, i) => a + Number(fields[i]), 0) * 10_000;
  } catch {
    return undefined;
  }
}

/** Waits (at most 10 s) until the server has no client backends but the asking one, so their CPU time is counted. */
async function backendsGone(url) {
  for (let i = 0; i < 100; i++) {
    const [{ n }] = await pgQuery(url, "SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()");
    if (n === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The coordinators' batch counters summed over the given workers. */
async function batchStats(workers) {
  const all = await Promise.all(workers.map((w) => (w.child.send({ cmd: 'stats' }), w.next('stats'))));
  return all.reduce((a, s) => ({ batches: a.batches + s.batches, batched_writes: a.batched_writes + s.batched_writes }), { batches: 0, batched_writes: 0 });
}

/**
 * The PostgreSQL row at P: a fresh database on the bench's server, the schema and the
 * sessions made by one peer (then closed), P peer processes each writing `count`
 * CreateMessage rows with K in flight; 'go' to all at once, the clock in this process.
 */
async function pgScenario(server, procs, count, k) {
  const base = { kind: 'postgres', sync: null, procs, inflight: k, count_per_proc: count };
  const workers = [];
  try {
    const url = await server.createDatabase();
    const setup = await openNode({ url, instanceId: 'bench-setup', provenanceLevel: 'silent' });
    try {
      for (const id of ['bench', 'warm']) await setup.querier.createSession({ id, title: id });
    } finally {
      await setup.close();
    }
    await backendsGone(url);
    const cpu0 = serverCpuUs(server.pid);
    for (let i = 0; i < procs; i++) workers.push(start('pg', url, '-'));
    const warmups = (await withTimeout(Promise.all(workers.map((w) => w.ready)), 60_000, 'postgres peers start')).reduce((a, m) => a + (m.warmup ?? 0), 0);
    const before = await batchStats(workers);
    const dones = workers.map((w) => w.next('done').then(() => performance.now()));
    const results = workers.map((w) => w.next('result'));
    const t0 = performance.now();
    for (const w of workers) w.child.send({ cmd: 'go', count, inflight: k });
    const ends = await withTimeout(Promise.all(dones), scenarioTimeoutMs, `postgres P=${procs}`);
    const wallMs = Math.max(...ends) - t0;
    const summary = summarise(await Promise.all(results), wallMs);
    const after = await batchStats(workers);
    const batches = after.batches - before.batches;
    // Writes per commit, over all peers: each peer group-commits its own writes.
    const batch = { batches, mean_batch: batches ? +((after.batched_writes - before.batched_writes) / batches).toFixed(1) : null };
    await Promise.all(workers.map(stop));
    await backendsGone(url);
    const cpu1 = serverCpuUs(server.pid);
    // The server's CPU time per write: its backends' time is counted when they exit, so over
    // the peers' whole lives, per write they made (their warm-up writes included).
    const serverCpu = cpu0 !== undefined && cpu1 !== undefined && summary.writes > 0 ? { server_cpu_us_per_write: +((cpu1 - cpu0) / (summary.writes + warmups)).toFixed(1) } : {};
    const rows = Number((await pgQuery(url, 'SELECT COUNT(*) AS n FROM messages WHERE session_id = $1', ['bench']))[0].n);
    const expected = procs * count;
    if (rows !== expected) log(`    WARNING: ${rows} rows in the database, expected ${expected} (${summary.errors} writes failed)`);
    return { ...base, ...summary, ...batch, ...serverCpu, rows, rows_ok: rows === expected };
  } catch (e) {
    log(`    FAILED: ${e.message}`);
    return { ...base, writes: 0, seconds: null, throughput: 0, p50_ms: null, p99_ms: null, max_ms: null, errors: procs * count, first_error: e.message, rows: null, rows_ok: false };
  } finally {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  }
}

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const db = new Database(':memory:');
  const sqlite = db.prepare('SELECT sqlite_version() AS v').get().v;
  db.close();
  // The filesystem the databases live on (fsync cost is what FULL measures).
  let fs = 'unknown';
  try {
    const tmp = tmpdir();
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')).filter((f) => f.length > 2);
    const m = mounts.filter(([, at]) => tmp === at || tmp.startsWith(at.endsWith('/') ? at : `${at}/`)).sort((a, b) => b[1].length - a[1].length)[0];
    if (m) fs = `${m[2]} (${m[0]}) at ${m[1]}`;
  } catch {
    // not Linux
  }
  return { nproc: availableParallelism(), cpu: model, node: process.version, sqlite, platform: `${process.platform} ${process.arch}`, tmpdir: tmpdir(), filesystem: fs };
}

const fmtMs = (x) => (x === null ? '–' : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : Math.round(x).toString());
const fmtN = (x) => x.toLocaleString('en');

/** scribe's throughput over another's (null when that one has none). */
const ratio = (s, other) => (other && other.throughput > 0 && s ? +(s.throughput / other.throughput).toFixed(4) : null);
const fmtX = (x) => (x === null ? '–' : `${x.toFixed(2)}×`);
const fmtPct = (x) => (x === null ? '–' : `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`);

function markdown(rows, limits, stores, payloadRows, idle, m, meta, postgres) {
  const cell = (r) =>
    `${fmtMs(r.p50_ms)} / ${fmtMs(r.p99_ms)} / ${fmtMs(r.max_ms)}${r.errors ? ` (${fmtN(r.errors)} errors)` : ''}${r.rows_ok ? '' : ' ⚠ rows'}`;
  const limitCell = (l) => `${fmtN(l.throughput)}${l.errors ? ` (${fmtN(l.errors)} errors)` : ''}${l.rows_ok ? '' : ' ⚠ rows'}`;
  const lines = [];
  if (rows.length > 0) lines.push(...sqliteTables(rows, limits, stores, payloadRows, idle, cell, limitCell));
  if (postgres !== undefined) lines.push(...postgresTable(postgres, rows, cell));
  lines.push('');
  lines.push(
    `Machine: nproc ${m.nproc}, ${m.cpu}; Node ${m.node}; SQLite ${m.sqlite} (better-sqlite3)${postgres?.server ? `; ${postgres.server.version}` : ''}; ${m.platform}; databases on ${m.filesystem}. ` +
      `Run took ${meta.seconds} s${profile ? ' (primaries profiled with --cpu-prof: slower than normal)' : ''}.`,
  );
  return lines.join('\n');
}

/** The SQLite tables: scribe, direct, limit and store alone at each (sync, P); payloads; the idle write; the counts. */
function sqliteTables(rows, limits, stores, payloadRows, idle, cell, limitCell) {
  const lines = [
    '| sync | P | scribe writes/s | scribe p50 / p99 / max ms | direct writes/s | direct p50 / p99 / max ms | scribe ÷ direct | limit writes/s | scribe ÷ limit | store alone writes/s | scribe ÷ store alone | writes per commit |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const sync of syncs) {
    for (const procs of procsList) {
      const s = rows.find((r) => r.kind === 'scribe' && r.sync === sync && r.procs === procs);
      const d = rows.find((r) => r.kind === 'direct' && r.sync === sync && r.procs === procs);
      lines.push(
        `| ${sync} | ${procs} | ${fmtN(s.throughput)} | ${cell(s)} | ${fmtN(d.throughput)} | ${cell(d)} | ${fmtX(s.scribe_per_direct)} | ${limitCell(limits[sync])} | ${fmtPct(s.scribe_per_limit)} | ${limitCell(stores[sync])} | ${fmtPct(s.scribe_per_store)} | ${s.mean_batch ?? '–'} |`,
      );
    }
  }
  lines.push('');
  lines.push(
    `limit: one process, no network, writing the same CreateMessage rows as plain INSERT and UPDATE statements (no request record, no change log), ` +
      `${LIMIT_BATCH} writes per transaction, ${syncs.map((s) => `${fmtN(limitCountFor(s))} writes at ${s}`).join(', ')}: the ceiling of any one-writer design on this machine (with small counts, as in --quick, it is noise). ` +
      `store alone: the same rows through the Store's batch executor (\`Store.executeBatch\`: a savepoint, the request record and the change events of each write), ${LIMIT_BATCH} per transaction, no network: what the store itself costs. ` +
      `scribe ÷ limit = scribe writes/s ÷ limit writes/s; scribe ÷ store alone likewise.`,
  );
  if (payloadRows.length > 0) {
    lines.push('');
    lines.push(`Payload size, P = ${payloadProcs} (scribe K = ${inflight}):`);
    lines.push('');
    lines.push('| sync | parts bytes | writes per process | scribe writes/s | scribe p50 / p99 / max ms | direct writes/s | direct p50 / p99 / max ms | scribe ÷ direct |');
    lines.push('|---|---|---|---|---|---|---|---|');
    for (const sync of syncs) {
      const base = rows.filter((r) => r.sync === sync && r.procs === payloadProcs);
      const sized = [
        ['~130 (above)', base],
        ...payloadSizes.map((b) => [fmtN(b), payloadRows.filter((r) => r.sync === sync && r.payload_bytes === b)]),
      ];
      for (const [label, pair] of sized) {
        const s = pair.find((r) => r.kind === 'scribe');
        const d = pair.find((r) => r.kind === 'direct');
        if (!s || !d) continue;
        lines.push(`| ${sync} | ${label} | ${fmtN(s.count_per_proc)} | ${fmtN(s.throughput)} | ${cell(s)} | ${fmtN(d.throughput)} | ${cell(d)} | ${fmtX(s.scribe_per_direct)} |`);
      }
    }
  }
  lines.push('');
  lines.push(
    `Single forwarded write on an idle cluster (one secondary, one write in flight, ${fmtN(idleCount)} in sequence): ` +
      Object.entries(idle)
        .map(([sync, r]) => `${sync} p50 ${fmtMs(r.p50_ms)} ms, p99 ${fmtMs(r.p99_ms)} ms, max ${fmtMs(r.max_ms)} ms${r.errors ? ` (${r.errors} errors)` : ''}`)
        .join('; ') +
      '.',
  );
  lines.push('');
  lines.push(
    `Writes per process: ${syncs.map((s) => `${fmtN(countFor(s))} at ${s}`).join(', ')}; scribe: K = ${inflight} in flight per secondary; direct: one at a time. ` +
      `Latencies in ms (p50 / p99 / max over every write of every process); throughput = all writes ÷ time from 'go' to the last process done.`,
  );
  return lines;
}

/** The sync level PostgreSQL is compared with: FULL (both fsync every commit) when it ran, else the first. */
const pgPeerSync = () => (syncs.includes('FULL') ? 'FULL' : syncs[0]);

/** The PostgreSQL table (or the note saying why it was skipped). */
function postgresTable(postgres, rows, cell) {
  const lines = [''];
  if (postgres.skipped !== undefined) {
    lines.push(`PostgreSQL: skipped, ${postgres.skipped}.`);
    return lines;
  }
  const sync = pgPeerSync();
  const withSqlite = rows.length > 0;
  lines.push(
    `PostgreSQL peers (${postgres.server?.version ?? 'PostgreSQL'}, fsync on, synchronous_commit on; P peer processes \`openNode({ url })\`, K = ${inflight} in flight each, ${fmtN(pgCount)} writes each; the same CreateMessage rows):`,
  );
  lines.push('');
  lines.push(`| P | postgres writes/s | postgres p50 / p99 / max ms | writes per commit | CPU µs per write: peers / server |${withSqlite ? ` postgres ÷ scribe ${sync} | postgres ÷ direct ${sync} |` : ''}`);
  lines.push(`|---|---|---|---|---|${withSqlite ? '---|---|' : ''}`);
  const us = (x) => (typeof x === 'number' ? fmtN(Math.round(x)) : '–');
  for (const r of postgres.rows) {
    lines.push(
      `| ${r.procs} | ${fmtN(r.throughput)} | ${cell(r)} | ${r.mean_batch ?? '–'} | ${us(r.writer_cpu_us_per_write)} / ${us(r.server_cpu_us_per_write)} |${withSqlite ? ` ${fmtX(r.pg_per_scribe ?? null)} | ${fmtX(r.pg_per_direct ?? null)} |` : ''}`,
    );
  }
  if (postgres.idle) {
    const r = postgres.idle;
    lines.push('');
    lines.push(
      `Single write on an idle server (one peer, one write in flight, ${fmtN(r.count_per_proc)} in sequence): p50 ${fmtMs(r.p50_ms)} ms, p99 ${fmtMs(r.p99_ms)} ms, max ${fmtMs(r.max_ms)} ms${r.errors ? ` (${r.errors} errors)` : ''}; ` +
        `CPU per write: peer ${us(r.writer_cpu_us_per_write)} µs, server ${us(r.server_cpu_us_per_write)} µs.`,
    );
  }
  lines.push('');
  lines.push(
    `Every peer group-commits its own writes (no primary, no sockets between processes); the server is a throwaway cluster on this machine, reached over its unix socket: ` +
      `the cost of the server itself, without a network. Writes per commit: over all peers. ` +
      `CPU per write: the peers' (user + system) over the measured writes; the server's (postmaster and its backends, from /proc, counted as the backends exit) over every write the peers made, warm-up included.`,
  );
  return lines;
}

const started = Date.now();
const rows = [];
const limits = {};
const stores = {};
const payloadRows = [];
log(`scribe bench: procs ${procsList.join(',')}, inflight ${inflight}, sync ${syncs.join(',')}, counts ${syncs.map((s) => `${s} ${countFor(s)}`).join(', ')}${profile ? `, profiling primaries into ${profileDir}` : ''}`);
for (const sync of runSqlite ? syncs : []) {
  log(`  limit ${sync}: one process, plain statements, ${LIMIT_BATCH} per transaction × ${fmtN(limitCountFor(sync))} ...`);
  limits[sync] = await scenario('limit', sync, 1, limitCountFor(sync), 1);
  log(`    ${fmtN(limits[sync].throughput)} writes/s in ${limits[sync].seconds} s${limits[sync].errors ? `, ${limits[sync].errors} errors (${limits[sync].first_error})` : ''}`);
  log(`  store alone ${sync}: one process, Store.executeBatch, ${LIMIT_BATCH} per transaction × ${fmtN(limitCountFor(sync))} ...`);
  stores[sync] = await scenario('store', sync, 1, limitCountFor(sync), 1);
  log(`    ${fmtN(stores[sync].throughput)} writes/s in ${stores[sync].seconds} s${stores[sync].errors ? `, ${stores[sync].errors} errors (${stores[sync].first_error})` : ''}`);
  for (const procs of procsList) {
    for (const kind of ['scribe', 'direct']) {
      const count = countFor(sync);
      log(`  ${kind} ${sync} P=${procs} × ${fmtN(count)} ...`);
      const r = await scenario(kind, sync, procs, count, inflight);
      log(
        `    ${fmtN(r.throughput)} writes/s in ${r.seconds} s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, max ${r.max_ms} ms` +
          `${r.mean_batch ? `, ${r.mean_batch} writes per commit` : ''}` +
          `${r.writer_cpu_us_per_write ? `, CPU per write: writers ${r.writer_cpu_us_per_write} µs${r.primary_cpu_us_per_write ? `, primary ${r.primary_cpu_us_per_write} µs` : ''}` : ''}${r.errors ? `, ${r.errors} errors (${r.first_error})` : ''}`,
      );
      rows.push(r);
    }
    const [s, d] = rows.slice(-2);
    s.scribe_per_direct = ratio(s, d);
    s.scribe_per_limit = ratio(s, limits[sync]);
    s.scribe_per_store = ratio(s, stores[sync]);
  }
  for (const bytes of payloadSizes) {
    const count = payloadCountFor(bytes);
    const pair = [];
    for (const kind of ['scribe', 'direct']) {
      log(`  ${kind} ${sync} P=${payloadProcs} parts ${fmtN(bytes)} bytes × ${fmtN(count)} ...`);
      const r = await scenario(kind, sync, payloadProcs, count, inflight, bytes);
      log(`    ${fmtN(r.throughput)} writes/s in ${r.seconds} s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, max ${r.max_ms} ms${r.errors ? `, ${r.errors} errors (${r.first_error})` : ''}`);
      pair.push(r);
    }
    pair[0].scribe_per_direct = ratio(pair[0], pair[1]);
    payloadRows.push(...pair);
  }
}
const idle = {};
for (const sync of runSqlite ? syncs : []) {
  log(`  idle ${sync}: one secondary, one write at a time × ${fmtN(idleCount)} ...`);
  idle[sync] = await scenario('scribe', sync, 1, idleCount, 1);
  log(`    p50 ${idle[sync].p50_ms} ms, p99 ${idle[sync].p99_ms} ms, max ${idle[sync].max_ms} ms`);
}

/** The PostgreSQL rows: { skipped } or { server: { version, settings }, idle, rows }. */
let postgres;
if (pgSkipped !== undefined) {
  postgres = { skipped: pgSkipped };
  log(`  PostgreSQL: skipped, ${pgSkipped}`);
} else {
  log(`  PostgreSQL: starting a throwaway server ...`);
  let server;
  try {
    server = await startPostgresServer({ settings: PG_SETTINGS });
    const version = (await pgQuery(server.url, 'SELECT version() AS v'))[0].v.split(' on ')[0];
    postgres = { server: { version, settings: server.settings }, rows: [] };
    log(`  postgres idle: one peer, one write at a time × ${fmtN(pgIdleCount)} ...`);
    postgres.idle = await pgScenario(server, 1, pgIdleCount, 1);
    log(`    p50 ${postgres.idle.p50_ms} ms, p99 ${postgres.idle.p99_ms} ms, max ${postgres.idle.max_ms} ms`);
    for (const procs of procsList) {
      log(`  postgres P=${procs} × ${fmtN(pgCount)} ...`);
      const r = await pgScenario(server, procs, pgCount, inflight);
      log(
        `    ${fmtN(r.throughput)} writes/s in ${r.seconds} s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, max ${r.max_ms} ms` +
          `${r.mean_batch ? `, ${r.mean_batch} writes per commit` : ''}${r.writer_cpu_us_per_write ? `, CPU per write: peers ${r.writer_cpu_us_per_write} µs${r.server_cpu_us_per_write ? `, server ${r.server_cpu_us_per_write} µs` : ''}` : ''}${r.errors ? `, ${r.errors} errors (${r.first_error})` : ''}`,
      );
      r.pg_per_scribe = ratio(r, rows.find((x) => x.kind === 'scribe' && x.sync === pgPeerSync() && x.procs === procs));
      r.pg_per_direct = ratio(r, rows.find((x) => x.kind === 'direct' && x.sync === pgPeerSync() && x.procs === procs));
      postgres.rows.push(r);
    }
  } catch (e) {
    // The server did not start (or broke): the SQLite rows stand; say so instead of failing.
    log(`  PostgreSQL: FAILED, ${e.message}`);
    postgres = { skipped: `the server failed: ${e.message.split('\n')[0]}`, rows: postgres?.rows ?? [] };
  } finally {
    await server?.stop();
  }
}

const m = machine();
const seconds = Math.round((Date.now() - started) / 1000);
const table = markdown(rows, limits, stores, payloadRows, idle, m, { seconds }, postgres);
process.stdout.write(`${table}\n`);

// Only a full run may replace the committed bench-results/latest.*; a smoke run goes to a temp dir.
const out = resolve(
  values.out ?? (values.quick ? mkdtempSync(join(tmpdir(), 'scribe-bench-quick-')) : fileURLToPath(new URL('../bench-results', import.meta.url))),
);
const name = profile ? 'profiled' : 'latest';
mkdirSync(out, { recursive: true });
const json = {
  date: new Date().toISOString(),
  machine: m,
  options: {
    procs: procsList,
    syncs,
    inflight,
    counts: Object.fromEntries(syncs.map((s) => [s, countFor(s)])),
    idle: idleCount,
    profile,
    commit_sync: values['commit-sync'] ?? 'default',
    limit: { batch: LIMIT_BATCH, counts: Object.fromEntries(syncs.map((s) => [s, limitCountFor(s)])), via: 'plain statements' },
    store: { batch: LIMIT_BATCH, counts: Object.fromEntries(syncs.map((s) => [s, limitCountFor(s)])), via: 'Store.executeBatch' },
    payloads: { bytes: payloadSizes, procs: payloadProcs, counts: Object.fromEntries(payloadSizes.map((b) => [b, payloadCountFor(b)])) },
    engines,
    postgres: { count: pgCount, idle: pgIdleCount, compared_with: pgPeerSync() },
  },
  seconds,
  rows,
  limit: limits,
  store: stores,
  payloads: payloadRows,
  idle,
  postgres,
};
writeFileSync(join(out, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
writeFileSync(join(out, `${name}.md`), `${table}\n`);
writeFileSync(
  join(out, `${name}.svg`),
  renderChart(rows, syncs, procsList, { machine: m, inflight, date: json.date, limits, limitBatch: LIMIT_BATCH, postgres: postgres.rows ?? [], postgresSync: pgPeerSync() }),
);
log(`wrote ${join(out, `${name}.json`)}, ${name}.md and ${name}.svg`);

if (profile) {
  const files = readdirSync(profileDir).filter((f) => f.startsWith('primary-') && f.endsWith('.cpuprofile')).sort();
  const sections = files.map((f) => `## ${f}\n\n${profileMarkdown(summariseProfile(join(profileDir, f), 10))}`);
  writeFileSync(join(out, 'profile-primary.md'), `# CPU profiles of the primary\n\n${sections.join('\n')}`);
  log(`profiles in ${profileDir}; summary in ${join(out, 'profile-primary.md')}`);
}
