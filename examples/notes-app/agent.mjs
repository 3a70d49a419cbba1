#!/usr/bin/env node
// An agent process beside a `scribe start` daemon: joins the cluster as a secondary with
// the same plugins as the daemon (or a subset), writes a note through the daemon, reads
// it locally, works on it in a shadow session seeded from the notes table, logs the turn
// in a segment log and shares its status in a temp datastore. Prints one JSON line.
//
//   node examples/notes-app/agent.mjs --db PATH [--id AGENT_ID]
import { parseArgs } from 'node:util';
import { openNode } from '@scribe/node';
import shadow, { ShadowSessions } from '@scribe/shadow';
import segments, { SegmentLogs } from '@scribe/segments';
import datastores, { Datastores } from '@scribe/datastores';
import notes, { addNote, listNotes } from './notes-plugin.mjs';

const { values } = parseArgs({ options: { db: { type: 'string' }, id: { type: 'string', default: `agent-${process.pid}` } } });
if (values.db === undefined) {
  process.stderr.write('usage: agent.mjs --db PATH [--id AGENT_ID]\n');
  process.exit(2);
}
const agent = values.id;
const node = await openNode({ dbPath: values.db, instanceId: agent, promote: false, plugins: [notes, shadow, segments, datastores] });
try {
  const note = await addNote(node.querier, { id: `${agent}-note`, title: `written by ${agent}`, body: 'hello' });
  const all = await listNotes(node.querier);
  const session = await new ShadowSessions(node.querier).open(`${agent}-session`, { shadowTable: 'notes_shadow', seedFromTable: 'notes' });
  await session.update({ body: 'edited in the shadow' }, { id: note.id });
  const edited = await session.rows({ id: note.id });
  await session.close();
  const logs = new SegmentLogs(node.querier);
  await logs.createSegment(`${agent}-session`, `${agent}-turn-1`, [{ role: 'user', text: 'add a note' }]);
  const { position } = await logs.append(`${agent}-session`, `${agent}-turn-1`, { role: 'assistant', text: `added ${note.id}` });
  const board = await new Datastores({ querier: node.querier }).open(`${agent}-status`, { kind: 'temp', ttlMs: 60_000 });
  const status = await board.set({ id: agent, state: 'done' });
  process.stdout.write(
    `${JSON.stringify({ role: node.role, note, notes: all.length, seeded: session.seeded, shadowBody: edited[0]?.body, position, datastoreSeq: status.seq })}\n`,
  );
} finally {
  await node.close();
}
