import { afterEach, describe, expect, it } from 'vitest';
import { Publisher } from 'zeromq';
import { HEARTBEAT_TOPIC, changeTopic } from '@scribe/protocol';
import { EventSubscriber, RpcServer } from '@scribe/transport';
import { capturingLogger, ipcEndpoints, waitFor } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function startServer(): Promise<RpcServer> {
  const eps = ipcEndpoints();
  const server = new RpcServer({ routerEndpoint: eps.router, pubEndpoint: eps.pub });
  await server.bind();
  cleanups.push(() => eps.cleanup());
  cleanups.push(() => server.close());
  return server;
}

function subscriber(endpoint: string, topics?: string[], logger?: import('pino').Logger): EventSubscriber {
  const sub = new EventSubscriber({ endpoint, ...(topics === undefined ? {} : { topics }), ...(logger === undefined ? {} : { logger }) });
  sub.connect();
  cleanups.push(() => sub.close());
  return sub;
}

/**
 * PUB/SUB slow joiner: messages published before the subscription reaches the
 * publisher are lost. Publish a marker until the subscriber sees one (bounded).
 */
async function untilJoined(publish: () => Promise<void>, seen: () => boolean): Promise<void> {
  const start = Date.now();
  while (!seen()) {
    if (Date.now() - start > 5000) throw new Error('subscriber did not join within 5000 ms');
    await publish();
    await new Promise<void>((resolve) => setTimeout(resolve, 10));
  }
}

describe('EventSubscriber', () => {
  it('receives events whose topic starts with a subscribed prefix, and only those', async () => {
    const server = await startServer();
    const sub = subscriber(server.pubEndpoint, ['db.messages.', 'sys.']);
    const got: Array<[string, unknown]> = [];
    sub.onEvent((topic, payload) => got.push([topic, payload]));
    await untilJoined(
      () => server.publish(HEARTBEAT_TOPIC, { beat: true }),
      () => got.length > 0,
    );
    got.length = 0;
    await server.publish(changeTopic('sessions', 'created'), { key: 's1' });
    await server.publish(changeTopic('messages', 'created'), { key: 'm1' });
    await server.publish('sys.shutdown', { reason: 'test' });
    await waitFor(() => got.length >= 2, 5000, 'two events');
    expect(got).toEqual([
      ['db.messages.created', { key: 'm1' }],
      ['sys.shutdown', { reason: 'test' }],
    ]);
  });

  it('subscribes to everything by default and stops delivering after unsubscribe', async () => {
    const server = await startServer();
    const sub = subscriber(server.pubEndpoint);
    const first: string[] = [];
    const second: string[] = [];
    const off = sub.onEvent((topic) => first.push(topic));
    sub.onEvent((topic) => second.push(topic));
    await untilJoined(
      () => server.publish('any.topic', 1),
      () => first.length > 0,
    );
    off();
    const before = first.length;
    await server.publish('after.off', null);
    await waitFor(() => second.includes('after.off'), 5000, 'second listener got the event');
    expect(first.length).toBe(before);
  });

  it('skips and logs malformed payloads and wrong frame counts, then keeps delivering', async () => {
    const eps = ipcEndpoints();
    cleanups.push(() => eps.cleanup());
    const pub = new Publisher({ linger: 0 });
    await pub.bind(eps.pub);
    cleanups.push(() => pub.close());
    const { logger, records } = capturingLogger();
    const sub = subscriber(eps.pub, ['t'], logger);
    const got: Array<[string, unknown]> = [];
    sub.onEvent((topic, payload) => got.push([topic, payload]));
    await untilJoined(
      () => pub.send(['t.join', '{}']),
      () => got.length > 0,
    );
    got.length = 0;
    await pub.send(['t.bad', '{not json']);
    await pub.send(['t.bad', Buffer.from([0xff, 0xfe])]);
    await pub.send(['t.three', '1', '2']);
    await pub.send(['t.good', '{"ok":true}']);
    await waitFor(() => got.length > 0, 5000, 'the good event');
    expect(got).toEqual([['t.good', { ok: true }]]);
    expect(records.filter((r) => r.msg === 'malformed event payload skipped')).toHaveLength(2);
    expect(records.filter((r) => r.msg === 'event with a wrong frame count skipped')).toHaveLength(1);
  });

  it('keeps delivering to other listeners when one throws', async () => {
    const server = await startServer();
    const sub = subscriber(server.pubEndpoint);
    const got: string[] = [];
    sub.onEvent(() => {
      throw new Error('listener bug');
    });
    sub.onEvent((topic) => got.push(topic));
    await untilJoined(
      () => server.publish('x', 1),
      () => got.length > 0,
    );
    expect(got[0]).toBe('x');
  });

  it('follows reconnect() to another publisher', async () => {
    const a = await startServer();
    const b = await startServer();
    const sub = subscriber(a.pubEndpoint);
    const got: Array<[string, unknown]> = [];
    sub.onEvent((topic, payload) => got.push([topic, payload]));
    await untilJoined(
      () => a.publish('from', 'A'),
      () => got.length > 0,
    );
    sub.reconnect(b.pubEndpoint);
    expect(sub.endpoint).toBe(b.pubEndpoint);
    await untilJoined(
      () => b.publish('from', 'B'),
      () => got.some(([, p]) => p === 'B'),
    );
    got.length = 0;
    await a.publish('from', 'A');
    await b.publish('from', 'B');
    await waitFor(() => got.length > 0, 5000, 'an event from B');
    expect(got).toEqual([['from', 'B']]);
  });

  it('serialises concurrent publishes (one send in progress per socket)', async () => {
    const server = await startServer();
    const sub = subscriber(server.pubEndpoint, ['n']);
    const got: number[] = [];
    sub.onEvent((_topic, payload) => got.push(payload as number));
    await untilJoined(
      () => server.publish('n', -1),
      () => got.length > 0,
    );
    got.length = 0;
    await Promise.all(Array.from({ length: 500 }, (_, i) => server.publish('n', i)));
    await waitFor(() => got.length === 500, 5000, '500 events');
    expect(got).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });
});
