import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dealer } from 'zeromq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDiscovery, resolveRuntimePaths } from '@scribe/node';
import { NodeProcess } from './helpers/node-process.js';

// Malformed frames sent on a raw socket to a real primary process: each gets a
// structured error (or is dropped), no write happens, and the primary keeps serving.

let dir: string;
let primary: NodeProcess;
let reader: NodeProcess;
let router: string;
let n = 0;

function ping(id: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'db.ping' });
}

/** Sends raw frames on a fresh DEALER, then a ping; returns every reply up to the ping's. */
async function sendRaw(frames: Array<string | Buffer>): Promise<Array<{ id: unknown; error?: { code: number; data?: { code: string } }; result?: unknown }>> {
  const dealer = new Dealer({ receiveTimeout: 5_000, linger: 0 });
  dealer.connect(router);
  try {
    await dealer.send(frames);
    const pingId = `ping-${++n}`;
    await dealer.send(['', ping(pingId)]);
    const replies = [];
    for (;;) {
      const msg = await dealer.receive();
      const body = JSON.parse(msg[msg.length - 1]!.toString('utf8'));
      replies.push(body);
      if (body.id === pingId) return replies;
    }
  } finally {
    dealer.close();
  }
}

async function sessionCount(): Promise<number> {
  return (await reader.call<unknown[]>('listAllSessions')).length;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scribe-frames-'));
  const dbPath = join(dir, 'frames.db');
  primary = await NodeProcess.spawn({ dbPath, instanceId: 'p' });
  reader = await NodeProcess.spawn({ dbPath, instanceId: 'r', promote: false });
  router = readDiscovery(resolveRuntimePaths(dbPath).discoveryPath)!.router;
});

afterAll(async () => {
  await reader?.kill();
  await primary?.kill();
  rmSync(dir, { recursive: true, force: true });
});

const write = (id: string) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id: `w-${id}`,
    method: 'db.write',
    params: {
      meta: { source_instance_id: 'raw', request_id: `raw-${id}`, timestamp: new Date().toISOString() },
      method: 'CreateSession',
      params: { id, title: 'should not exist' },
    },
  });

function deep(levels: number): string {
  return `${'['.repeat(levels)}${']'.repeat(levels)}`;
}

const cases: Array<[string, Array<string | Buffer>, number]> = [
  ['one frame, no delimiter', [write('no-delim')], -32600],
  ['three frames', ['', write('three'), 'extra'], -32600],
  ['a non-empty delimiter', ['x', write('nonempty')], -32600],
  ['an empty message', ['', ''], -32700],
  ['a message over the 1 MiB limit', ['', Buffer.alloc(1024 * 1024 + 1, 0x20)], -32600],
  ['invalid UTF-8', ['', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])], -32700],
  ['JSON nested 10,000 deep', ['', deep(10_000)], -32600],
  [
    'a batch of 5,000 writes',
    ['', `[${Array.from({ length: 5_000 }, (_, i) => write(`batch-${i}`)).join(',')}]`],
    -32600,
  ],
];

describe('malformed frames on a raw socket', () => {
  it.each(cases)('%s gets a structured error, writes nothing, and the primary keeps serving', async (_name, frames, code) => {
    const before = await sessionCount();
    const replies = await sendRaw(frames);
    const [first, ...rest] = replies;
    expect(rest).toHaveLength(1);
    expect(first).toMatchObject({ id: null, error: { code } });
    expect(typeof first!.error!.data!.code).toBe('string');
    expect(rest[0]).toMatchObject({ result: { role: 'primary' } });
    expect(await sessionCount()).toBe(before);
  });

  it('a message far over the limit is dropped with its connection, and the primary still serves others', async () => {
    const dealer = new Dealer({ linger: 0 });
    dealer.connect(router);
    await dealer.send(['', Buffer.alloc(4 * 1024 * 1024, 0x20)]);
    dealer.close();
    const replies = await sendRaw(['', ping('after-huge')]);
    expect(replies.at(-1)).toMatchObject({ result: { role: 'primary' } });
    expect(primary.child.exitCode).toBeNull();
  });
});
