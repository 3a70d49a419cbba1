// One node of the two-node demo. Logs (pino JSON) go to stdout for the demo to show;
// commands arrive over the IPC channel from scripts/demo.js.
import { openNode } from '@scribe/node';
import { pino } from 'pino';

const [dbPath, instanceId] = process.argv.slice(2);
const logger = pino({ level: 'info', base: undefined });
const node = await openNode({ dbPath, instanceId, logger, provenanceLevel: 'info' });
process.send({ type: 'ready', role: node.role, epoch: node.epoch });

const q = node.querier;

async function secondaryWork() {
  const project = await q.createProject({ id: 'demo-project', name: 'Demo', path: '/demo/project' });
  const session = await q.createSession({ id: 'demo-session', title: 'Hello from the secondary' });
  const texts = ['What is scribe?', 'A shared SQLite with one writer.', 'And the secondary forwards its writes.'];
  const messages = [];
  for (const [i, text] of texts.entries()) {
    messages.push(
      await q.createMessage({
        id: `demo-message-${i + 1}`,
        session_id: session.id,
        role: i % 2 === 0 ? 'user' : 'assistant',
        parts: JSON.stringify([{ type: 'text', text }]),
        model: i % 2 === 0 ? null : 'demo-model',
      }),
    );
  }
  let conflict = null;
  try {
    await q.createMessage({ id: 'demo-message-1', session_id: session.id, role: 'user', parts: '[]' });
  } catch (e) {
    conflict = { code: e.code, method: e.method, retryable: e.isRetryable(), message: e.message };
  }
  return { project: project.id, session: session.id, messages: messages.map((m) => m.id), conflict };
}

async function readBack() {
  const session = await q.getSession('demo-session');
  const messages = await q.listMessages('demo-session');
  const project = await q.getProject('demo-project');
  return {
    project: project?.name ?? null,
    session: session?.title ?? null,
    message_count: session?.message_count ?? null,
    messages: messages.map((m) => `${m.role}: ${JSON.parse(m.parts)[0]?.text}`),
  };
}

process.on('message', async ({ id, cmd }) => {
  try {
    let result;
    if (cmd === 'work') result = await secondaryWork();
    else if (cmd === 'read') result = await readBack();
    else if (cmd === 'close') result = await node.close();
    process.send({ id, ok: true, result: result ?? null });
  } catch (e) {
    process.send({ id, ok: false, error: { code: e.code, message: e.message } });
  }
  if (cmd === 'close') process.disconnect();
});
