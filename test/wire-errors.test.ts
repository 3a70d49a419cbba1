import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dealer } from 'zeromq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDiscovery, resolveRuntimePaths } from '@scribe/node';
import { NodeProcess } from './helpers/node-process.js';

// Every bad input of the cluster issue, sent by a raw client in another process
// than the primary, checked by its code; the primary keeps serving throughout.

let dir: string;
let primary: NodeProcess;
let reader: NodeProcess;
let dealer: Dealer;
let nextId = 1;

const meta = () => ({ source_instance_id: 'raw-client', request_id: `raw-${nextId++}`, timestamp: new Date().toISOString() });

async function exchange(frames: Array<string | Buffer>): Promise<unknown> {
  await dealer.send(['', ...frames]);
  const reply = await dealer.receive();
  expect(reply).toHaveLength(2);
  expect(reply[0]!.length).toBe(0);
  return JSON.parse(reply[1]!.toString('utf8'));
}

function rpc(method: string, params?: unknown, id: number | string = nextId++): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
}

async function sessionCount(): Promise<number> {
  return (await reader.call<unknown[]>('listAllSessions')).length;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scribe-wire-'));
  const dbPath = join(dir, 'wire.db');
  primary = await NodeProcess.spawn({ dbPath, instanceId: 'p' });
  reader = await NodeProcess.spawn({ dbPath, instanceId: 'r', promote: false });
  const discovery = readDiscovery(resolveRuntimePaths(dbPath).discoveryPath);
  if (!discovery) throw new Error('no discovery file');
  dealer = new Dealer({ receiveTimeout: 5000 });
  dealer.connect(discovery.router);
  await reader.call('createSession', { id: 'exists', title: 'seed' });
});

afterAll(async () => {
  dealer?.close();
  await reader?.kill();
  await primary?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('bad input on the wire', () => {
  it('bytes that are not JSON get -32700 PARSE_ERROR', async () => {
    const r = await exchange(['{"jsonrpc": "2.0", "method": ']);
    expect(r).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700, data: { code: 'PARSE_ERROR', retryable: false } } });
  });

  it('JSON that is not a request gets -32600 INVALID_REQUEST', async () => {
    for (const body of ['42', '"db.write"', '{"id": 1, "method": "db.write"}', '{"jsonrpc":"2.0","id":1}']) {
      const r = await exchange([body]);
      expect(r).toMatchObject({ error: { code: -32600, data: { code: 'INVALID_REQUEST' } } });
    }
  });

  it('an unknown JSON-RPC method gets -32601 with method null', async () => {
    const r = await exchange([rpc('db.drop_everything', {})]);
    expect(r).toMatchObject({ error: { code: -32601, data: { code: 'METHOD_NOT_FOUND', method: null, retryable: false } } });
  });

  it('an unknown write method gets -32601 naming the write', async () => {
    const r = await exchange([rpc('db.write', { meta: meta(), method: 'DropAllTables', params: {} })]);
    expect(r).toMatchObject({ error: { code: -32601, data: { code: 'METHOD_NOT_FOUND', method: 'DropAllTables' } } });
  });

  it('params of the wrong shape or type get -32602 naming the field', async () => {
    const before = await sessionCount();
    const noMeta = await exchange([rpc('db.write', { method: 'CreateSession', params: { title: 'x' } })]);
    expect(noMeta).toMatchObject({ error: { code: -32602, data: { code: 'INVALID_PARAMS', field: 'meta' } } });
    const wrongType = await exchange([rpc('db.write', { meta: meta(), method: 'CreateSession', params: { id: 'n', title: 7 } })]);
    expect(wrongType).toMatchObject({
      error: { code: -32602, data: { code: 'INVALID_PARAMS', method: 'CreateSession', field: 'params.title' } },
    });
    const positional = await exchange([rpc('db.write', ['CreateSession', { title: 'x' }])]);
    expect(positional).toMatchObject({ error: { code: -32602, data: { code: 'INVALID_PARAMS', field: 'params' } } });
    // JSON-RPC itself allows only an object or an array as params.
    const scalar = await exchange([rpc('db.write', 'CreateSession')]);
    expect(scalar).toMatchObject({ error: { code: -32600, data: { code: 'INVALID_REQUEST' } } });
    expect(await sessionCount()).toBe(before);
  });

  it('a constraint violation gets CONFLICT and changes nothing', async () => {
    const before = await sessionCount();
    const r = await exchange([rpc('db.write', { meta: meta(), method: 'CreateSession', params: { id: 'exists', title: 'dup' } })]);
    expect(r).toMatchObject({ error: { code: -32003, data: { code: 'CONFLICT', method: 'CreateSession', retryable: false } } });
    // Of the driver's error only its class name and code cross the wire (data.cause), never its text, stack or a path.
    const err = (r as { error: { message: string; data: { cause?: unknown } } }).error;
    expect(err.data.cause).toEqual({ name: 'SqliteError', code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    expect(err.message).not.toMatch(/SQLITE/);
    expect(JSON.stringify(r)).not.toMatch(/constraint failed|sessions\.id|\/tmp|at .*\.js/);
    expect(await sessionCount()).toBe(before);
    expect(await reader.call('getSession', 'exists')).toMatchObject({ title: 'seed' });
  });

  it('answers a batch with one reply per request and still serves good writes', async () => {
    const batch = JSON.stringify([
      { jsonrpc: '2.0', id: 'ok', method: 'db.write', params: { meta: meta(), method: 'CreateSession', params: { id: 'from-batch', title: 'b' } } },
      { jsonrpc: '2.0', id: 'bad', method: 'db.write', params: { meta: meta(), method: 'Nope', params: {} } },
      { jsonrpc: '2.0', id: 'ping', method: 'db.ping' },
    ]);
    const r = (await exchange([batch])) as Array<{ id: string; result?: unknown; error?: { data: { code: string } } }>;
    const byId = Object.fromEntries(r.map((x) => [x.id, x]));
    expect(byId.ok?.result).toMatchObject({ id: 'from-batch', title: 'b' });
    expect(byId.bad?.error?.data.code).toBe('METHOD_NOT_FOUND');
    expect(byId.ping?.result).toMatchObject({ role: 'primary', instance_id: 'p' });
    expect(await reader.call('getSession', 'from-batch')).toMatchObject({ title: 'b' });
  });

  it('reports role, instance id, schema version and queue depth on db.ping', async () => {
    const r = (await exchange([rpc('db.ping')])) as { result: Record<string, unknown> };
    expect(r.result).toMatchObject({ role: 'primary', instance_id: 'p', queue_depth: 0 });
    expect(r.result.schema_version).toBeGreaterThan(0);
  });
  it('a lone surrogate in a string param gets INVALID_PARAMS naming the field (issue 12, item 13)', async () => {
    const before = await sessionCount();
    // JSON may carry a lone surrogate as an escape; it must not be stored as invalid UTF-8.
    const body = rpc('db.write', { meta: meta(), method: 'CreateSession', params: { id: 'lone', title: 'PLACEHOLDER' } }).replace('PLACEHOLDER', 'a\\ud800b');
    const r = await exchange([body]);
    expect(r).toMatchObject({ error: { code: -32602, data: { code: 'INVALID_PARAMS', method: 'CreateSession', field: 'params.title', retryable: false } } });
    expect(await sessionCount()).toBe(before);
  });

  it('a request id reused for another write gets REQUEST_ID_REUSED, not the first write\'s result (issue 12, item 12)', async () => {
    const m = meta();
    const first = await exchange([rpc('db.write', { meta: m, method: 'CreateSession', params: { id: 'reuse-1', title: 'r' } })]);
    expect(first).toMatchObject({ result: { id: 'reuse-1' } });
    const r = await exchange([rpc('db.write', { meta: { ...m, timestamp: new Date().toISOString() }, method: 'DeleteSession', params: { id: 'reuse-1' } })]);
    expect(r).toMatchObject({ error: { code: -32011, data: { code: 'REQUEST_ID_REUSED', method: 'DeleteSession', retryable: false } } });
    expect(await reader.call('getSession', 'reuse-1')).toMatchObject({ title: 'r' });
  });

  it('a 3 MB request gets INVALID_REQUEST instead of silence (issue 12, item 14)', async () => {
    const big = rpc('db.write', { meta: meta(), method: 'CreateSession', params: { id: 'big', title: 'x'.repeat(3_000_000) } });
    const r = await exchange([big]);
    expect(r).toMatchObject({ id: null, error: { code: -32600, data: { code: 'INVALID_REQUEST', retryable: false } } });
    expect(await reader.call('getSession', 'exists')).toMatchObject({ title: 'seed' });
  });
});
