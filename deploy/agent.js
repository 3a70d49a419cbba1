// An example agent process for deploy/compose.yaml: it opens the shared database
// (a secondary while the daemon holds the primary lock; it would take over if the
// daemon died), writes a message every AGENT_INTERVAL_MS (default 5000), and logs
// each write as one JSON line. SIGTERM or SIGINT: it closes the node and exits 0.
//   node agent.js /data/scribe.db
import { isWriteError, openNode } from '@scribe/node';

const dbPath = process.argv[2] ?? process.env.SCRIBE_DB;
if (dbPath === undefined) {
  process.stderr.write('usage: node agent.js DB (or SCRIBE_DB)\n');
  process.exit(2);
}
const intervalMs = Number(process.env.AGENT_INTERVAL_MS ?? 5000);
const log = (fields) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);

const node = await openNode({ dbPath });
log({ msg: 'agent started', role: node.role, node: node.instanceId });
const session = await node.querier.createSession({ title: `agent ${node.instanceId}` });

const stop = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => stop.abort());

let n = 0;
while (!stop.signal.aborted) {
  try {
    const message = await node.querier.createMessage({
      session_id: session.id,
      role: 'assistant',
      parts: JSON.stringify([{ text: `tick ${++n}` }]),
    });
    log({ msg: 'wrote', role: node.role, session: session.id, message: message.id });
  } catch (e) {
    // A structured error: retryable ones (no primary for a moment) are simply tried again next tick.
    if (!isWriteError(e)) throw e;
    log({ msg: 'write failed', code: e.code, retryable: e.isRetryable() });
  }
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, intervalMs);
    stop.signal.addEventListener('abort', () => (clearTimeout(timer), resolve(undefined)), { once: true });
  });
}
await node.close();
log({ msg: 'agent stopped', writes: n });
