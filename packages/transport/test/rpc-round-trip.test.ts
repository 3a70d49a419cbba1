import { afterEach, describe, expect, it } from 'vitest';
import { Request } from 'zeromq';
import { RPC_METHODS, WriteError } from '@scribe/protocol';
import { MAX_COALESCED_CALLS, RpcClient, RpcServer } from '@scribe/transport';
import { capturingLogger, ipcEndpoints, rawDealer, waitFor } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function startServer(options: Partial<ConstructorParameters<typeof RpcServer>[0]> = {}): Promise<RpcServer> {
  const eps = ipcEndpoints();
  const server = new RpcServer({ routerEndpoint: eps.router, pubEndpoint: eps.pub, ...options });
  server.addMethod('echo', (params) => params);
  server.addMethod('add', (params) => {
    const [a, b] = params as [number, number];
    return a + b;
  });
  await server.bind();
  cleanups.push(() => eps.cleanup());
  cleanups.push(() => server.close());
  return server;
}

function clientFor(server: RpcServer, defaultTimeoutMs = 5000): RpcClient {
  const client = new RpcClient({ endpoint: server.routerEndpoint, defaultTimeoutMs });
  client.connect();
  cleanups.push(() => client.close());
  return client;
}

describe('RpcServer and RpcClient: calls', () => {
  it('round-trips a call over ipc', async () => {
    const server = await startServer();
    const client = clientFor(server);
    await expect(client.call('echo', { hello: 'world', n: [1, 2] })).resolves.toEqual({ hello: 'world', n: [1, 2] });
    expect(server.stats).toMatchObject({ received: 1, replied: 1, errors: 0 });
  });

  it('round-trips a call over tcp on a port the OS picked', async () => {
    const server = new RpcServer({ routerEndpoint: 'tcp://127.0.0.1:*', pubEndpoint: 'tcp://127.0.0.1:*' });
    server.addMethod('echo', (params) => params);
    await server.bind();
    cleanups.push(() => server.close());
    expect(server.routerEndpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(server.routerEndpoint).not.toMatch(/:0$/);
    const client = clientFor(server);
    await expect(client.call('echo', ['over', 'tcp'])).resolves.toEqual(['over', 'tcp']);
  });

  it('matches 1000 concurrent calls on one client to their own replies', async () => {
    const server = await startServer();
    // Resolve in a scrambled order so matching by arrival order would fail.
    server.addMethod('slow-echo', async (params) => {
      const n = (params as { n: number }).n;
      await new Promise<void>((resolve) => setTimeout(resolve, (n * 7) % 23));
      return { n };
    });
    const client = clientFor(server, 20_000);
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, n) => client.call<{ n: number }>('slow-echo', { n })),
    );
    expect(results.map((r) => r.n)).toEqual(Array.from({ length: 1000 }, (_, n) => n));
  });

  it('answers 5000 calls in flight at once, past ZeroMQ default high-water marks, dropping none', async () => {
    const server = await startServer();
    const client = clientFor(server, 20_000);
    const results = await Promise.all(Array.from({ length: 5000 }, (_, n) => client.call<[number]>('echo', [n])));
    expect(results.every(([n], i) => n === i)).toBe(true);
    // Stats count frames; calls made together travel in coalesced batch frames.
    expect(server.stats).toMatchObject({ dropped: 0, errors: 0 });
    expect(server.stats.replied).toBe(server.stats.received);
  });

  it('coalesces calls made in one turn into batch frames, and sends one frame per call when told to', async () => {
    const server = await startServer();
    const coalescing = clientFor(server, 20_000);
    const results = await Promise.all(Array.from({ length: 1000 }, (_, n) => coalescing.call<[number]>('echo', [n])));
    expect(results.map(([n]) => n)).toEqual(Array.from({ length: 1000 }, (_, n) => n));
    expect(server.stats.received).toBeLessThanOrEqual(Math.ceil(1000 / MAX_COALESCED_CALLS) + 1);
    const before = server.stats.received;
    const single = new RpcClient({ endpoint: server.routerEndpoint, maxCoalescedCalls: 1 });
    cleanups.push(() => single.close());
    await Promise.all(Array.from({ length: 50 }, (_, n) => single.call('echo', [n])));
    expect(server.stats.received - before).toBe(50);
  });

  it('logs nothing per request at info level or above on either side', async () => {
    const serverLog = capturingLogger();
    const clientLog = capturingLogger();
    const server = await startServer({ logger: serverLog.logger });
    const client = new RpcClient({ endpoint: server.routerEndpoint, logger: clientLog.logger });
    cleanups.push(() => client.close());
    await Promise.all(Array.from({ length: 200 }, (_, n) => client.call('echo', [n])));
    const loud = (records: Array<Record<string, unknown>>) => records.filter((r) => (r.level as number) >= 30).map((r) => r.msg);
    expect(loud(serverLog.records)).toEqual(['rpc server bound']);
    expect(loud(clientLog.records)).toEqual([]);
  });

  it('tells handlers the caller as a stable hex routing id per client', async () => {
    const server = await startServer();
    server.addMethod('whoami', (_params, { peer }) => peer);
    const a = clientFor(server);
    const b = clientFor(server);
    const [a1, a2, b1] = await Promise.all([a.call<string>('whoami', null), a.call<string>('whoami', null), b.call<string>('whoami', null)]);
    expect(a1).toMatch(/^[0-9a-f]+$/);
    expect(a2).toBe(a1);
    expect(b1).not.toBe(a1);
  });

  it('answers a REQ socket, which adds the empty delimiter itself', async () => {
    const server = await startServer();
    const req = new Request({ linger: 0, receiveTimeout: 5000 });
    cleanups.push(() => req.close());
    req.connect(server.routerEndpoint);
    await req.send(JSON.stringify({ jsonrpc: '2.0', id: 'r1', method: 'add', params: [2, 3] }));
    const [reply] = await req.receive();
    expect(JSON.parse(reply!.toString())).toEqual({ jsonrpc: '2.0', id: 'r1', result: 5 });
  });

  it('answers a batch with an array of responses, leaving out notifications', async () => {
    const server = await startServer();
    const dealer = await rawDealer(server.routerEndpoint);
    cleanups.push(() => dealer.close());
    const batch = [
      { jsonrpc: '2.0', id: 1, method: 'add', params: [1, 1] },
      { jsonrpc: '2.0', method: 'echo', params: ['notification'] },
      { jsonrpc: '2.0', id: 2, method: 'echo', params: { x: 1 } },
    ];
    await dealer.send(['', JSON.stringify(batch)]);
    const reply = await dealer.next();
    expect(reply.frames).toBe(2);
    expect(reply.delimiter).toBe('');
    expect(reply.body).toEqual([
      { jsonrpc: '2.0', id: 1, result: 2 },
      { jsonrpc: '2.0', id: 2, result: { x: 1 } },
    ]);
  });

  it('answers a one-element batch with a one-element array', async () => {
    const server = await startServer();
    const dealer = await rawDealer(server.routerEndpoint);
    cleanups.push(() => dealer.close());
    await dealer.send(['', JSON.stringify([{ jsonrpc: '2.0', id: 7, method: 'add', params: [3, 4] }])]);
    expect((await dealer.next()).body).toEqual([{ jsonrpc: '2.0', id: 7, result: 7 }]);
  });

  it('runs a notification without replying to it', async () => {
    const server = await startServer();
    const seen: unknown[] = [];
    server.addMethod('note', (params) => {
      seen.push(params);
    });
    const dealer = await rawDealer(server.routerEndpoint);
    cleanups.push(() => dealer.close());
    await dealer.send(['', JSON.stringify({ jsonrpc: '2.0', method: 'note', params: { a: 1 } })]);
    await dealer.send(['', JSON.stringify({ jsonrpc: '2.0', method: 'no-such-method' })]);
    await dealer.send(['', JSON.stringify({ jsonrpc: '2.0', id: 'after', method: 'echo', params: [] })]);
    // The first reply to arrive is the one for the call: the notifications got none.
    expect((await dealer.next()).body).toEqual({ jsonrpc: '2.0', id: 'after', result: [] });
    expect(seen).toEqual([{ a: 1 }]);
  });

  it('answers all-notification batches with nothing', async () => {
    const server = await startServer();
    const dealer = await rawDealer(server.routerEndpoint);
    cleanups.push(() => dealer.close());
    await dealer.send(['', JSON.stringify([{ jsonrpc: '2.0', method: 'echo', params: [1] }])]);
    await dealer.send(['', JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'echo', params: [3] })]);
    expect((await dealer.next()).body).toEqual({ jsonrpc: '2.0', id: 3, result: [3] });
  });
});

describe('RpcServer and RpcClient: handler errors', () => {
  it('rejects with a WriteError carrying the handler error code, method, retryability and field', async () => {
    const server = await startServer();
    server.addMethod(RPC_METHODS.write, () => {
      throw new WriteError('INVALID_PARAMS', 'Expected params.session_id to be a string', {
        method: 'CreateMessage',
        field: 'params.session_id',
      });
    });
    server.addMethod('busy', async () => {
      throw new WriteError('BUSY', 'database is busy', { method: 'CreateSession' });
    });
    const client = clientFor(server);
    const err = await client.call(RPC_METHODS.write, { method: 'CreateMessage', params: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteError);
    expect(err).toMatchObject({
      code: 'INVALID_PARAMS',
      method: 'CreateMessage',
      field: 'params.session_id',
      retryable: false,
      message: 'Expected params.session_id to be a string',
    });
    const busy = await client.call('busy', {}).catch((e: unknown) => e);
    expect(busy).toMatchObject({ code: 'BUSY', method: 'CreateSession', retryable: true });
    expect((busy as WriteError).isRetryable()).toBe(true);
  });

  it('answers a plain Error as INTERNAL without its message or stack on the wire, and logs it', async () => {
    const { logger, records } = capturingLogger();
    const server = await startServer({ logger });
    server.addMethod('leaky', () => {
      throw new Error('secret /path/to/db.sqlite: SQLITE_CORRUPT');
    });
    server.addMethod('leaky-async', async () => {
      throw new TypeError('secret /path again');
    });
    const dealer = await rawDealer(server.routerEndpoint);
    cleanups.push(() => dealer.close());
    for (const method of ['leaky', 'leaky-async']) {
      await dealer.send(['', JSON.stringify({ jsonrpc: '2.0', id: method, method })]);
      const { body } = await dealer.next();
      expect(body).toEqual({
        jsonrpc: '2.0',
        id: method,
        error: { code: -32603, message: 'Internal error', data: { code: 'INTERNAL', retryable: false, method: null } },
      });
      const text = JSON.stringify(body);
      expect(text).not.toContain('/path');
      expect(text).not.toContain('secret');
      expect(text).not.toMatch(/at .*\(/);
    }
    const errors = records.filter((r) => r.level === 50);
    expect(errors.map((r) => r.method)).toEqual(['leaky', 'leaky-async']);
    expect((errors[0]!.err as { message: string }).message).toContain('/path/to/db.sqlite');
    expect(errors[0]!.component).toBe('rpc-server');
  });

  it('rebuilds a WriteError client-side for a server INTERNAL', async () => {
    const server = await startServer();
    server.addMethod('boom', () => {
      throw new Error('kaput');
    });
    const client = clientFor(server);
    await expect(client.call('boom', {})).rejects.toMatchObject({ code: 'INTERNAL', message: 'Internal error', retryable: false });
  });

  it('answers a result JSON cannot carry as INTERNAL', async () => {
    const server = await startServer();
    server.addMethod('bigint', () => 10n);
    const client = clientFor(server);
    await expect(client.call('bigint', {})).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(client.call('echo', [1])).resolves.toEqual([1]);
  });

  it('answers OVERLOADED at once past maxConcurrentRequests', async () => {
    const server = await startServer({ maxConcurrentRequests: 2 });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = 0;
    server.addMethod('hold', async () => {
      started++;
      await gate;
      return 'done';
    });
    const client = clientFor(server);
    const held = [client.call('hold', {}), client.call('hold', {})];
    await waitFor(() => started === 2, 5000, 'two handlers started');
    await expect(client.call('hold', {})).rejects.toMatchObject({ code: 'OVERLOADED', retryable: true });
    release();
    await expect(Promise.all(held)).resolves.toEqual(['done', 'done']);
    await expect(client.call('hold', {})).resolves.toBe('done');
  });
});
