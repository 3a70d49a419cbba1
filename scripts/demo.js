// The two-node demo: `npm run demo`.
// Starts a primary and a secondary as two processes on one new database; the
// secondary creates a project, a session and messages (forwarded to the primary),
// tries one duplicate id (CONFLICT), both read everything back, and the primary's
// provenance log lines are shown. Exits 0 when everything checked out.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const NODE = fileURLToPath(new URL('./demo-node.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'scribe-demo-'));
const dbPath = join(dir, 'demo.db');
const out = (line) => process.stdout.write(`${line}\n`);

// Request ids are UUIDv7: the leading digits are the time (alike for writes made in
// the same moment); the trailing ones are random and tell the writes apart.
function describeLog(entry) {
  if (entry.msg === 'write') {
    const dup = entry.duplicate ? ' (duplicate)' : '';
    return `write ${entry.method} from ${entry.source} request …${String(entry.request_id).slice(-12)} ${entry.outcome}${dup} in ${Number(entry.duration_ms).toFixed(1)} ms`;
  }
  if (String(entry.msg).startsWith('role:')) return `${entry.msg} (epoch ${entry.epoch})`;
  return null;
}

function start(name) {
  const child = fork(NODE, [dbPath, name], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      return out(`[${name}] ${line}`);
    }
    const text = describeLog(entry);
    if (text) out(`[${name}] ${text}`);
  });
  let seq = 0;
  const pending = new Map();
  child.on('message', (m) => {
    if (m.id !== undefined && pending.has(m.id)) {
      const { resolve, reject } = pending.get(m.id);
      pending.delete(m.id);
      m.ok ? resolve(m.result) : reject(new Error(`${m.error.code}: ${m.error.message}`));
    }
  });
  const ready = new Promise((resolve, reject) => {
    child.on('message', (m) => m.type === 'ready' && resolve(m));
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
  });
  const send = (cmd) =>
    new Promise((resolve, reject) => {
      const id = ++seq;
      pending.set(id, { resolve, reject });
      child.send({ id, cmd });
    });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { name, child, ready, send, exited };
}

const problems = [];
function check(ok, what) {
  if (!ok) problems.push(what);
}

let a;
let b;
try {
  out(`scribe demo: database ${dbPath}`);
  a = start('node-a');
  const ra = await a.ready;
  b = start('node-b');
  const rb = await b.ready;
  out(`node-a is ${ra.role}, node-b is ${rb.role} (epoch ${ra.epoch})`);
  check(ra.role === 'primary' && rb.role === 'secondary', 'roles: expected node-a primary and node-b secondary');

  const work = await b.send('work');
  out(`node-b (secondary) created project ${work.project}, session ${work.session}, messages ${work.messages.join(', ')}`);
  if (work.conflict) {
    out(`node-b tried demo-message-1 again: ${work.conflict.code} (retryable: ${work.conflict.retryable}) "${work.conflict.message}"`);
  }
  check(work.conflict?.code === 'CONFLICT' && work.conflict.retryable === false, 'duplicate id: expected a non-retryable CONFLICT');

  const [viewA, viewB] = await Promise.all([a.send('read'), b.send('read')]);
  for (const [name, view] of [['node-a', viewA], ['node-b', viewB]]) {
    out(`${name} reads: project "${view.project}", session "${view.session}" with ${view.message_count} messages`);
    for (const m of view.messages) out(`    ${m}`);
  }
  check(JSON.stringify(viewA) === JSON.stringify(viewB), 'both nodes should read the same rows');
  check(viewA.message_count === 3 && viewA.messages.length === 3, 'expected 3 messages and message_count 3');
  await b.send('close');
  await a.send('close');
  await Promise.all([a.exited, b.exited]);
} catch (e) {
  problems.push(e.message);
} finally {
  a?.child.kill('SIGKILL');
  b?.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}

if (problems.length === 0) {
  out('summary: OK: 2 processes, 5 forwarded writes committed, 1 CONFLICT refused, both nodes read the same 3 messages');
} else {
  out(`summary: FAILED: ${problems.join('; ')}`);
  process.exitCode = 1;
}
