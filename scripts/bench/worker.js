// One process of the benchmark, driven by scripts/bench.js over the IPC channel.
// Modes: 'primary' (a scribe primary that writes nothing itself), 'scribe' (a
// secondary forwarding writes), 'direct' (better-sqlite3 on the file, no scribe).
import Database from 'better-sqlite3';
import { openNode } from '@scribe/node';

const [mode, dbPath, sync] = process.argv.slice(2);
const PARTS = JSON.stringify([{ type: 'text', text: 'x'.repeat(100) }]);

let node;
let write;
if (mode === 'primary' || mode === 'scribe') {
  node = await openNode({
    dbPath,
    instanceId: `${mode}-${process.pid}`,
    promote: mode === 'primary',
    synchronous: sync,
    provenanceLevel: 'silent',
    writeTimeoutMs: 30_000,
  });
  if (mode === 'primary' && (await node.querier.getSession('bench')) === undefined) {
    await node.querier.createSession({ id: 'bench', title: 'bench' });
  }
  write = () => node.querier.createMessage({ session_id: 'bench', role: 'user', parts: PARTS });
} else if (mode === 'direct') {
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sync}`);
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  let n = 0;
  const insert = db.prepare(
    'INSERT INTO messages (id, session_id, role, parts, model, finished_at, created_at, updated_at) VALUES (?, ?, ?, ?, NULL, NULL, ?, ?)',
  );
  const bump = db.prepare('UPDATE sessions SET message_count = message_count + 1, updated_at = ? WHERE id = ?');
  // What an application does without scribe: one transaction per write, retried by
  // better-sqlite3's busy handler while another process holds the write lock.
  const tx = db.transaction(() => {
    const now = new Date().toISOString();
    insert.run(`d-${process.pid}-${++n}`, 'bench', 'user', PARTS, now, now);
    bump.run(now, 'bench');
  });
  write = async () => tx();
} else {
  throw new Error(`unknown mode ${mode}`);
}

async function run({ count, inflight }) {
  const latencies = new Float64Array(count);
  let next = 0;
  let errors = 0;
  const firstError = [];
  const started = Date.now();
  async function lane() {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      try {
        await write();
      } catch (e) {
        errors++;
        if (firstError.length === 0) firstError.push(`${e.code ?? e.name}: ${e.message}`);
      }
      latencies[i] = performance.now() - t0;
    }
  }
  await Promise.all(Array.from({ length: mode === 'direct' ? 1 : inflight }, lane));
  return { started, ended: Date.now(), latencies: Array.from(latencies), errors, firstError: firstError[0] ?? null };
}

process.on('message', async (msg) => {
  if (msg.cmd === 'run') process.send({ type: 'result', ...(await run(msg)) });
  else if (msg.cmd === 'close') {
    await node?.close();
    process.send({ type: 'closed' });
    process.disconnect();
  }
});
process.send({ type: 'ready' });
