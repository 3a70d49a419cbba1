import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo } from 'node:net';
import { RPC_METHODS, WriteError } from '@scribe/protocol';
import { RpcClient, RpcServer } from '@scribe/transport';
import { capturingLogger, ipcEndpoints, waitFor } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A generous bound for "settles within the timeout": the deadline plus scheduling slack. */
const SLACK_MS = 2000;

function endpoints(): ReturnType<typeof ipcEndpoints> {
  const eps = ipcEndpoints();
  cleanups.push(() => eps.cleanup());
  return eps;
}

async function serverAt(routerEndpoint: string, pubEndpoint: string, name = 'server'): Promise<RpcServer> {
  const server = new RpcServer({ routerEndpoint, pubEndpoint, closeGraceMs: 100 });
  server.addMethod('who', () => name);
  await server.bind();
  cleanups.push(() => server.close());
  return server;
}

function client(endpoint: string, options: { defaultTimeoutMs?: number; logger?: import('pino').Logger } = {}): RpcClient {
  const c = new RpcClient({ endpoint, ...options });
  cleanups.push(() => c.close());
  return c;
}

async function settleWithin<T>(promise: Promise<T>, boundMs: number): Promise<{ error: unknown; elapsed: number }> {
  const start = Date.now();
  const error = await promise.then(
    () => new Error('expected the call to fail'),
    (e: unknown) => e,
  );
  const elapsed = Date.now() - start;
  expect(elapsed).toBeLessThan(boundMs);
  return { error, elapsed };
}

describe('RpcClient: TIMEOUT', () => {
  it('rejects TIMEOUT (retryable, with the write name) when a connected server does not answer', async () => {
    const eps = endpoints();
    const server = await serverAt(eps.router, eps.pub);
    server.addMethod(RPC_METHODS.write, () => new Promise(() => {}));
    const c = client(server.routerEndpoint);
    c.connect();
    await expect(c.call('who', null)).resolves.toBe('server');
    const { error } = await settleWithin(c.call(RPC_METHODS.write, { method: 'CreateMessage' }, { timeoutMs: 300 }), 300 + SLACK_MS);
    expect(error).toBeInstanceOf(WriteError);
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true, method: 'CreateMessage' });
  });

  it('expires each call on its own deadline, whatever the order they were made in', async () => {
    const eps = endpoints();
    const server = await serverAt(eps.router, eps.pub);
    server.addMethod('hang', () => new Promise(() => {}));
    const c = client(server.routerEndpoint);
    const order: string[] = [];
    const track = (name: string, timeoutMs: number) =>
      c.call('hang', { name }, { timeoutMs }).catch((e: unknown) => {
        order.push(`${name}:${(e as WriteError).code}`);
      });
    await Promise.all([track('slow', 600), track('fast', 150), track('middle', 350)]);
    expect(order).toEqual(['fast:TIMEOUT', 'middle:TIMEOUT', 'slow:TIMEOUT']);
    // The wheel restarts cleanly after it went idle.
    await expect(c.call('hang', {}, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('ignores a late reply to a timed-out call and keeps working', async () => {
    const eps = endpoints();
    const { logger, records } = capturingLogger();
    const server = await serverAt(eps.router, eps.pub);
    let release: () => void = () => {};
    server.addMethod('late', () => new Promise((resolve) => (release = () => resolve('too late'))));
    const c = client(server.routerEndpoint, { logger });
    await expect(c.call('late', {}, { timeoutMs: 200 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    const repliedBefore = server.stats.replied;
    release();
    await waitFor(() => server.stats.replied > repliedBefore, 5000, 'the late reply was sent');
    await waitFor(() => records.some((r) => r.msg === 'late reply to a settled call ignored'), 5000, 'the late reply was seen');
    await expect(c.call('who', null)).resolves.toBe('server');
  });
});

describe('RpcClient: UNREACHABLE', () => {
  it('rejects UNREACHABLE within the timeout when the ipc socket file does not exist', async () => {
    const eps = endpoints();
    const c = client(eps.named('nobody-home'));
    const { error } = await settleWithin(c.call(RPC_METHODS.write, { method: 'CreateSession' }, { timeoutMs: 300 }), 300 + SLACK_MS);
    expect(error).toMatchObject({ code: 'UNREACHABLE', retryable: true, method: 'CreateSession' });
    expect(c.isConnected()).toBe(false);
  });

  it('rejects UNREACHABLE within the timeout when nobody listens on the tcp port', async () => {
    // A port the OS just handed out and took back (node's close completes before its
    // callback, unlike a ZeroMQ socket's, which libzmq tears down in the background).
    const endpoint = await new Promise<string>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(`tcp://127.0.0.1:${port}`));
      });
    });
    const c = client(endpoint);
    const { error } = await settleWithin(c.call('who', null, { timeoutMs: 300 }), 300 + SLACK_MS);
    expect(error).toMatchObject({ code: 'UNREACHABLE', retryable: true });
  });

  it('succeeds with a new call once the server starts, and delivers a call made while it was down', async () => {
    const eps = endpoints();
    const c = client(eps.router);
    await expect(c.call('who', null, { timeoutMs: 200 })).rejects.toMatchObject({ code: 'UNREACHABLE' });
    const waiting = c.call('who', null, { timeoutMs: 10_000 });
    await serverAt(eps.router, eps.pub, 'late starter');
    await expect(waiting).resolves.toBe('late starter');
    await expect(c.call('who', null)).resolves.toBe('late starter');
    expect(c.isConnected()).toBe(true);
  });

  it('notices when the server goes away', async () => {
    const eps = endpoints();
    const server = await serverAt(eps.router, eps.pub);
    const c = client(server.routerEndpoint);
    await expect(c.call('who', null)).resolves.toBe('server');
    expect(c.isConnected()).toBe(true);
    await server.close();
    await waitFor(() => !c.isConnected(), 5000, 'client saw the disconnect');
    await expect(c.call('who', null, { timeoutMs: 200 })).rejects.toMatchObject({ code: 'UNREACHABLE' });
  });
});

describe('RpcClient: reconnect and close', () => {
  it('switches from server A to server B', async () => {
    const a = endpoints();
    const b = endpoints();
    const serverA = await serverAt(a.router, a.pub, 'A');
    const serverB = await serverAt(b.router, b.pub, 'B');
    const c = client(serverA.routerEndpoint);
    await expect(c.call('who', null)).resolves.toBe('A');
    c.reconnect(serverB.routerEndpoint);
    expect(c.endpoint).toBe(serverB.routerEndpoint);
    await expect(c.call('who', null)).resolves.toBe('B');
    await expect(c.call('who', null)).resolves.toBe('B');
    await waitFor(() => c.isConnected(), 5000, 'connected to B');
  });

  it('sends calls made before the new primary is up to the new primary', async () => {
    const a = endpoints();
    const b = endpoints();
    const serverA = await serverAt(a.router, a.pub, 'A');
    const c = client(serverA.routerEndpoint);
    await expect(c.call('who', null)).resolves.toBe('A');
    await serverA.close();
    c.reconnect(b.router);
    const pending = c.call('who', null, { timeoutMs: 10_000 });
    await serverAt(b.router, b.pub, 'B');
    await expect(pending).resolves.toBe('B');
  });

  it('ends a call sent to a primary that then goes away in TIMEOUT; the retry reaches the new primary', async () => {
    const a = endpoints();
    const b = endpoints();
    const serverA = new RpcServer({ routerEndpoint: a.router, pubEndpoint: a.pub, closeGraceMs: 0 });
    let received = false;
    serverA.addMethod('write', () => {
      received = true;
      return new Promise(() => {});
    });
    await serverA.bind();
    const serverB = await serverAt(b.router, b.pub, 'B');
    serverB.addMethod('write', () => 'applied by B');
    const c = client(serverA.routerEndpoint);
    const first = c.call('write', { request_id: 'r-1' }, { timeoutMs: 400 });
    await waitFor(() => received, 5000, 'A received the write');
    await serverA.close();
    await expect(first).rejects.toMatchObject({ code: 'TIMEOUT', retryable: true });
    c.reconnect(serverB.routerEndpoint);
    await expect(c.call('write', { request_id: 'r-1' })).resolves.toBe('applied by B');
  });

  it('rejects calls in flight with UNREACHABLE "client closed", and later calls too; close is idempotent', async () => {
    const eps = endpoints();
    const server = await serverAt(eps.router, eps.pub);
    server.addMethod('hang', () => new Promise(() => {}));
    const c = client(server.routerEndpoint);
    await expect(c.call('who', null)).resolves.toBe('server');
    const inFlight = c.call('hang', {});
    const unsent = new RpcClient({ endpoint: eps.named('nobody') });
    const queued = unsent.call('who', null);
    // Listen before closing: close() rejects them at once.
    const inFlightEnds = expect(inFlight).rejects.toMatchObject({ code: 'UNREACHABLE', message: 'client closed' });
    const queuedEnds = expect(queued).rejects.toMatchObject({ code: 'UNREACHABLE', message: 'client closed' });
    await Promise.all([c.close(), unsent.close()]);
    await inFlightEnds;
    await queuedEnds;
    await expect(c.call('who', null)).rejects.toMatchObject({ code: 'UNREACHABLE', message: 'client closed' });
    await c.close();
    expect(() => c.connect()).toThrow(/closed/);
  });

  it('rejects params JSON cannot carry with INVALID_PARAMS, before sending', async () => {
    const eps = endpoints();
    const c = client(eps.router);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(c.call('who', cyclic)).rejects.toMatchObject({ code: 'INVALID_PARAMS' });
  });

  it('validates options with messages that say what to change', () => {
    expect(() => new RpcClient({ endpoint: '' })).toThrow("Expected 'endpoint' to be a ZeroMQ endpoint");
    expect(() => new RpcClient({ endpoint: 'ipc:///x', defaultTimeoutMs: 0 })).toThrow(
      "Expected 'defaultTimeoutMs' to be an integer from 1 and up, got 0 (number)",
    );
  });
});
