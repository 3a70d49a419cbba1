/**
 * Exactly-once through a node's querier, on every engine: a write carries its request
 * id; the same id again (from this process, or from another member of the same
 * database) answers the first outcome and applies nothing twice; an id used for
 * another write is refused. The SQLite-only claims (a primary killed mid-write, a
 * failover) are in crash-safety and faults; the PostgreSQL writer killed with -9 is
 * in pg-peers.
 */
import { describe, expect, it } from 'vitest';
import { WriteError } from '@scribe/protocol';
import { TEST_ENGINES, useEngines } from './helpers/engines.js';

// Exactly-once is about what was committed: the server is durable (fsync on).
const engines = useEngines();

async function failure(p: Promise<unknown>): Promise<WriteError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(WriteError);
  return e as WriteError;
}

describe.each(TEST_ENGINES)('exactly-once on %s', (engine) => {
  it('answers the first outcome to the same request id, from this member and from another one, and applies it once', async () => {
    const at = await engines.location(engine);
    const a = await engines.openPeer(engine, at, { instanceId: 'a' });
    const b = await engines.openPeer(engine, at, { instanceId: 'b' });
    const first = await a.querier.createMessage({ id: 'unused', session_id: 'nope', role: 'user', parts: '[]' }, { requestId: 'm-0' }).catch((e: unknown) => e);
    // A write that failed for good is answered with the same failure, and not run again.
    expect(first).toMatchObject({ code: 'CONFLICT' });
    await a.querier.createSession({ id: 'nope', title: 'now it exists' });
    expect(await failure(b.querier.createMessage({ id: 'unused', session_id: 'nope', role: 'user', parts: '[]' }, { requestId: 'm-0' }))).toMatchObject({ code: 'CONFLICT' });
    expect(await a.querier.listMessagesBySession('nope')).toEqual([]);

    const s = await a.querier.createSession({ id: 's', title: 't' }, { requestId: 'r-1' });
    const m = await a.querier.createMessage({ id: 'm1', session_id: 's', role: 'user', parts: '[]' }, { requestId: 'r-2' });
    // Retries of both, from the other member and from this one, concurrently.
    const retries = await Promise.all([
      b.querier.createSession({ id: 's', title: 't' }, { requestId: 'r-1' }),
      b.querier.createMessage({ id: 'm1', session_id: 's', role: 'user', parts: '[]' }, { requestId: 'r-2' }),
      a.querier.createMessage({ id: 'm1', session_id: 's', role: 'user', parts: '[]' }, { requestId: 'r-2' }),
    ]);
    expect(retries).toEqual([s, m, m]);
    expect((await b.querier.getSession('s'))?.message_count).toBe(1);
    expect(await b.querier.listMessagesBySession('s')).toHaveLength(1);
    expect(await b.findRequest('r-2')).toMatchObject({ ok: true, method: 'CreateMessage', source_instance_id: 'a', result: { id: 'm1' } });
    expect(await a.findRequest('never-sent')).toBeUndefined();
    // One change per applied write: the session, the message and its session update.
    const changes = await a.querier.query<{ request_id: string }>('SELECT request_id FROM _scribe_changes WHERE request_id IN (?, ?) ORDER BY seq', ['r-1', 'r-2']);
    expect(changes.map((c) => c.request_id)).toEqual(['r-1', 'r-2', 'r-2']);
  });

  it('refuses a request id already used for another write with REQUEST_ID_REUSED, applying nothing', async () => {
    const at = await engines.location(engine);
    const a = await engines.openPeer(engine, at, { instanceId: 'a' });
    const b = await engines.openPeer(engine, at, { instanceId: 'b' });
    await a.querier.createSession({ id: 's', title: 't' }, { requestId: 'once' });
    const e = await failure(b.querier.createProject({ id: 'p', name: 'p', path: '/p' }, { requestId: 'once' }));
    expect(e).toMatchObject({ code: 'REQUEST_ID_REUSED', method: 'CreateProject' });
    expect(e.isRetryable()).toBe(false);
    expect(await b.querier.listProjects()).toEqual([]);
  });

  it('checks params before anything is sent or recorded: INVALID_PARAMS, and the request id stays free', async () => {
    const node = await engines.openTestNode(engine);
    const e = await failure(node.querier.write('CreateSession', { title: 5 }, { requestId: 'bad' }));
    expect(e).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.title' });
    expect(await node.findRequest('bad')).toBeUndefined();
    expect(await node.querier.createSession({ id: 'ok', title: 't' }, { requestId: 'bad' })).toMatchObject({ id: 'ok' });
  });
});
