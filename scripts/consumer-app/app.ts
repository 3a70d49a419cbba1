// An application outside the scribe repository, as a user writes it against the
// packed tarballs (scripts/pack-install-check.js installs them and runs this).
// `node app.js DB` opens the database as the primary, starts itself again as a
// second process (`node app.js DB secondary`) that writes through the primary and
// reads its writes back, then checks from the primary what the secondary wrote.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openNode, isWriteError, type Message, type Querier, type Session, type WriteErrorCode } from '@scribe/node';

const [dbPath, mode = 'primary'] = process.argv.slice(2);
if (dbPath === undefined) throw new Error('usage: node app.js DB [primary|secondary]');

/** What the secondary reports to the primary. */
interface SecondaryReport {
  role: string;
  session: Session;
  messages: Message[];
  duplicate: WriteErrorCode | 'no error' | 'not a WriteError';
}

async function secondary(): Promise<void> {
  const node = await openNode({ dbPath: dbPath!, promote: false });
  try {
    const q: Querier = node.querier;
    const session = await q.createSession({ title: 'written by the secondary' });
    await q.createMessage({ session_id: session.id, role: 'user', parts: JSON.stringify([{ text: 'hi' }]) });
    let duplicate: SecondaryReport['duplicate'] = 'no error';
    try {
      await q.createSession({ id: session.id, title: 'again' });
    } catch (e) {
      duplicate = isWriteError(e) ? e.code : 'not a WriteError';
    }
    const report: SecondaryReport = { role: node.role, session, messages: await q.listMessages(session.id), duplicate };
    process.send!(report);
  } finally {
    await node.close();
  }
}

async function primary(): Promise<void> {
  const node = await openNode({ dbPath: dbPath! });
  try {
    if (node.role !== 'primary') throw new Error(`expected to be the primary, am ${node.role}`);
    const child = fork(fileURLToPath(import.meta.url), [dbPath!, 'secondary'], { stdio: 'inherit' });
    const report = await new Promise<SecondaryReport>((resolve, reject) => {
      child.once('message', (m) => resolve(m as SecondaryReport));
      child.once('exit', (code) => reject(new Error(`the secondary exited (${code}) without reporting`)));
    });
    const exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const seen = await node.querier.getSession(report.session.id);
    const messages = await node.querier.listMessages(report.session.id);
    const checks = {
      'secondary role': report.role === 'secondary',
      'secondary reads its message back': report.messages.length === 1,
      'duplicate id is a CONFLICT WriteError': report.duplicate === 'CONFLICT',
      'primary sees the session': seen?.title === 'written by the secondary',
      'primary sees the message': messages.length === 1 && messages[0]?.role === 'user',
      'secondary exited cleanly': exitCode === 0,
    };
    for (const [name, ok] of Object.entries(checks)) process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${name}\n`);
    if (Object.values(checks).some((ok) => !ok)) process.exitCode = 1;
  } finally {
    await node.close();
  }
}

await (mode === 'secondary' ? secondary() : primary());
