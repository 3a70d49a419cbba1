// One process of the benchmark, driven by scripts/bench.js over the IPC channel
// (advanced serialization, so latencies travel as a Float64Array).
//
//   node worker.js primary <db> <sync> [commitSync]   a scribe primary; writes nothing itself, creates the sessions
//   node worker.js scribe  <db> <sync>   a secondary forwarding CreateMessage writes to the primary
//   node worker.js direct  <db> <sync>   better-sqlite3 on the file, no scribe (the baseline)
//   node worker.js limit   <db> <sync>   the one-writer limit: one process, no network, the same
//                                        rows as raw INSERT/UPDATE statements, LIMIT_BATCH writes per
//                                        transaction, no bookkeeping (no request record, no change log)
//   node worker.js store   <db> <sync>   the store alone: one process, no network, LIMIT_BATCH writes
//                                        per Store.executeBatch call (scribe's bookkeeping paid)
//   node worker.js pg      <url> -       a peer of a PostgreSQL server (openNode({ url })) writing the
//                                        same CreateMessage rows through its own group commit
//
// Messages in:  {cmd:'go', count, inflight, payload?} | {cmd:'stats'} | {cmd:'close'}
//               (payload: the size in bytes of the `parts` JSON; default ~130 bytes)
// Messages out: {type:'ready'} | {type:'done'} then {type:'result', ...} | {type:'stats', ...} | {type:'closed'}
//
// Writers warm up (WARMUP writes into the session 'warm', not counted) before they
// say 'ready', so the measured writes start on a connected socket and warm code.
import Database from 'better-sqlite3';
import { openNode } from '@scribe/node';
import { uuidv7 } from '@scribe/protocol';
import { Store } from '@scribe/store';

const [mode, dbPath, sync, commitSync] = process.argv.slice(2);
const SESSION = 'bench';
const WARM_SESSION = 'warm';
const WARMUP = 200;
const TEXT = 'The quick brown fox jumps over the lazy dog while the benchmark writes one small message row. 0123456';
/** A message of ~100 bytes of text, as `parts` JSON (~130 bytes). */
const PARTS = JSON.stringify([{ type: 'text', text: TEXT }]);
/** Connections each PostgreSQL peer opens for writes and reads (the node's default is 10; scripts/bench.js sizes max_connections for 8 peers of this). */
const PG_POOL_SIZE = 10;
/** Writes per transaction of the one-writer limit and of the store alone. */
const LIMIT_BATCH = 256;

/** `parts` JSON of exactly `bytes` characters (ASCII), or the default PARTS. */
function partsOf(bytes) {
  if (bytes === undefined) return PARTS;
  const overhead = JSON.stringify([{ type: 'text', text: '' }]).length;
  const n = Math.max(0, bytes - overhead);
  return JSON.stringify([{ type: 'text', text: TEXT.repeat(Math.ceil(n / TEXT.length)).slice(0, n) }]);
}
/** The `parts` the measured writes carry (set by 'go'). */
let parts = PARTS;

let node;
/** write(session) → Promise; resolves when the write is acknowledged (scribe) or committed (direct). */
let write;
/** How many writes a direct writer can have in flight on its one connection: one. */
let lanesCap = Infinity;
/** The store alone's Store (mode 'store'). */
let store;
/** writeBatch(session, n) → Promise of n outcomes: one transaction of n writes (modes 'limit' and 'store'). */
let writeBatch;

if (mode === 'primary') {
  node = await openNode({
    dbPath,
    instanceId: `bench-primary-${process.pid}`,
    synchronous: sync,
    provenanceLevel: 'silent',
    ...(commitSync ? { commitSync } : {}),
  });
  for (const id of [SESSION, WARM_SESSION]) {
    if ((await node.querier.getSession(id)) === undefined) await node.querier.createSession({ id, title: id });
  }
} else if (mode === 'scribe') {
  node = await openNode({ dbPath, instanceId: `bench-secondary-${process.pid}`, promote: false });
  if (node.role !== 'secondary') throw new Error(`bench: expected a secondary, got ${node.role}`);
  write = (session) => node.querier.createMessage({ session_id: session, role: 'user', parts });
} else if (mode === 'pg') {
  // A peer of the PostgreSQL server: every process writes through its own coordinator
  // and pool; the bench made the schema and the sessions before starting it.
  node = await openNode({ url: dbPath, instanceId: `bench-pg-${process.pid}`, provenanceLevel: 'silent', poolSize: PG_POOL_SIZE });
  write = (session) => node.querier.createMessage({ session_id: session, role: 'user', parts });
} else if (mode === 'direct') {
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync}`);
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  const insert = db.prepare(
    'INSERT INTO messages (id, session_id, role, parts, model, finished_at, created_at, updated_at) VALUES (?, ?, ?, ?, NULL, NULL, ?, ?)',
  );
  const bump = db.prepare('UPDATE sessions SET message_count = message_count + 1, updated_at = ? WHERE id = ?');
  // What an application does without scribe: one transaction per write (the message
  // and its session's count together), SQLite's busy handler waiting out the other
  // writers. Ids are UUIDv7, as scribe generates them, so both sides index the same.
  const tx = db.transaction((session) => {
    const now = new Date().toISOString();
    insert.run(uuidv7(), session, 'user', parts, now, now);
    bump.run(now, session);
  });
  write = async (session) => tx(session);
  lanesCap = 1;
  node = { close: async () => db.close() };
} else if (mode === 'limit') {
  // The one-writer limit: the same CreateMessage rows (the message and its session's
  // count) as plain statements on one connection, LIMIT_BATCH writes per transaction,
  // without scribe's bookkeeping, network, queue or second process: what any
  // one-writer design can do at most on this machine and this file.
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync}`);
  db.pragma('foreign_keys = ON');
  const insert = db.prepare(
    'INSERT INTO messages (id, session_id, role, parts, model, finished_at, created_at, updated_at) VALUES (?, ?, ?, ?, NULL, NULL, ?, ?)',
  );
  const bump = db.prepare('UPDATE sessions SET message_count = message_count + 1, updated_at = ? WHERE id = ?');
  const tx = db.transaction((session, n) => {
    const now = new Date().toISOString();
    for (let i = 0; i < n; i++) {
      insert.run(uuidv7(), session, 'user', parts, now, now);
      bump.run(now, session);
    }
  });
  writeBatch = async (session, n) => {
    tx(session, n);
    return Array.from({ length: n }, () => ({ ok: true }));
  };
  node = { close: async () => db.close() };
} else if (mode === 'store') {
  // The store alone: the same rows through the Store's batch executor, so the same
  // bookkeeping is paid as on scribe's primary (a savepoint, the request record and
  // the change events per write), LIMIT_BATCH writes per transaction, no network.
  store = Store.open({ path: dbPath, synchronous: sync });
  writeBatch = async (session, n) => {
    const timestamp = new Date().toISOString();
    const items = Array.from({ length: n }, () => ({
      meta: { source_instance_id: `bench-store-${process.pid}`, request_id: uuidv7(), timestamp },
      method: 'CreateMessage',
      params: { session_id: session, role: 'user', parts },
    }));
    return (await store.executeBatch(items)).outcomes;
  };
  node = { close: async () => store.close() };
} else {
  throw new Error(`bench worker: unknown mode ${mode}`);
}

/** Runs `count` writes with `inflight` lanes; latencies in ms (NaN for a failed write). */
async function run(session, count, inflight) {
  const latencies = new Float64Array(count);
  let next = 0;
  let errors = 0;
  let firstError = null;
  async function lane() {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      try {
        await write(session);
        latencies[i] = performance.now() - t0;
      } catch (e) {
        latencies[i] = NaN;
        errors++;
        firstError ??= `${e?.code ?? e?.name}: ${e?.message}`;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(inflight, lanesCap)) }, lane));
  return { latencies, errors, firstError };
}

/**
 * The limit and the store alone: `count` writes in transactions of LIMIT_BATCH, one
 * after the other. A write's latency is its transaction's (from building the batch
 * to COMMIT), the time it would wait for its acknowledgement.
 */
async function runBatches(session, count) {
  const latencies = new Float64Array(count);
  let errors = 0;
  let firstError = null;
  for (let start = 0; start < count; start += LIMIT_BATCH) {
    const n = Math.min(LIMIT_BATCH, count - start);
    const t0 = performance.now();
    let outcomes;
    try {
      outcomes = await writeBatch(session, n);
    } catch (e) {
      outcomes = Array.from({ length: n }, () => ({ ok: false, error: e }));
    }
    const ms = performance.now() - t0;
    outcomes.forEach((o, j) => {
      if (o.ok) latencies[start + j] = ms;
      else {
        latencies[start + j] = NaN;
        errors++;
        firstError ??= `${o.error?.code ?? o.error?.name}: ${o.error?.message}`;
      }
    });
  }
  return { latencies, errors, firstError };
}

/** The coordinator's batch counters, from the node's Prometheus registry. */
async function stats() {
  const metrics = await node.metricsRegistry.getMetricsAsJSON();
  const pick = (name, suffix) =>
    metrics.find((m) => m.name === name)?.values.find((v) => v.metricName === `${name}${suffix}`)?.value ?? 0;
  const cpu = process.cpuUsage();
  return {
    cpu_us: cpu.user + cpu.system,
    batches: pick('scribe_batch_size', '_count'),
    batched_writes: pick('scribe_batch_size', '_sum'),
    commit_seconds: pick('scribe_commit_seconds', '_sum'),
  };
}

process.on('message', async (msg) => {
  try {
    if (msg.cmd === 'go') {
      parts = partsOf(msg.payload);
      const cpu0 = process.cpuUsage();
      const r = writeBatch !== undefined ? await runBatches(SESSION, msg.count) : await run(SESSION, msg.count, msg.inflight);
      process.send({ type: 'done' });
      const cpu = process.cpuUsage(cpu0);
      process.send({ type: 'result', ...r, cpu_us: cpu.user + cpu.system });
    } else if (msg.cmd === 'stats') {
      process.send({ type: 'stats', ...(await stats()) });
    } else if (msg.cmd === 'close') {
      await node.close();
      // Exit on purpose (a --cpu-prof profile is written at exit).
      process.send({ type: 'closed' }, () => process.exit(0));
    }
  } catch (e) {
    process.send({ type: 'failed', error: `${e?.code ?? e?.name}: ${e?.message}` });
  }
});

if (write !== undefined || writeBatch !== undefined) {
  const warm = writeBatch !== undefined ? await runBatches(WARM_SESSION, WARMUP) : await run(WARM_SESSION, WARMUP, 16);
  if (warm.errors > 0) throw new Error(`bench: warm-up failed: ${warm.firstError}`);
}
process.send({ type: 'ready', pid: process.pid, warmup: write !== undefined || writeBatch !== undefined ? WARMUP : 0 });
