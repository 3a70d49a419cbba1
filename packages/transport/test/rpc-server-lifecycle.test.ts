import { afterEach, describe, expect, it } from 'vitest';
import { BindError, RpcClient, RpcServer } from '@scribe/transport';
import { ipcEndpoints, waitFor } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function endpoints(): ReturnType<typeof ipcEndpoints> {
  const eps = ipcEndpoints();
  cleanups.push(() => eps.cleanup());
  return eps;
}

function track(server: RpcServer): RpcServer {
  cleanups.push(() => server.close());
  return server;
}

describe('RpcServer.bind', () => {
  it('rejects with a BindError naming the endpoint when the tcp port is taken', async () => {
    const first = track(new RpcServer({ routerEndpoint: 'tcp://127.0.0.1:*', pubEndpoint: 'tcp://127.0.0.1:*' }));
    await first.bind();
    const second = track(new RpcServer({ routerEndpoint: first.routerEndpoint, pubEndpoint: 'tcp://127.0.0.1:*' }));
    const error = await second.bind().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BindError);
    expect(error).toMatchObject({ code: 'EADDRINUSE', socket: 'ROUTER', endpoint: first.routerEndpoint });
    expect((error as Error).message).toBe(`bind ROUTER to ${first.routerEndpoint}: Address already in use`);
  });

  it('rejects instead of stealing a live ipc endpoint (libzmq would unlink and rebind it)', async () => {
    const eps = endpoints();
    const first = track(new RpcServer({ routerEndpoint: eps.router, pubEndpoint: eps.pub }));
    first.addMethod('who', () => 'first');
    await first.bind();
    const second = track(new RpcServer({ routerEndpoint: eps.router, pubEndpoint: eps.named('other-pub') }));
    await expect(second.bind()).rejects.toMatchObject({
      name: 'BindError',
      code: 'EADDRINUSE',
      socket: 'ROUTER',
      message: expect.stringContaining(eps.router) as unknown,
    });
    const client = new RpcClient({ endpoint: eps.router });
    cleanups.push(() => client.close());
    await expect(client.call('who', null)).resolves.toBe('first');
  });

  it('names the PUB socket when that one fails, releases the ROUTER, and can bind again later', async () => {
    const eps = endpoints();
    const holder = track(new RpcServer({ routerEndpoint: eps.named('holder'), pubEndpoint: eps.pub }));
    await holder.bind();
    const server = track(new RpcServer({ routerEndpoint: eps.router, pubEndpoint: eps.pub }));
    server.addMethod('who', () => 'second');
    await expect(server.bind()).rejects.toMatchObject({ code: 'EADDRINUSE', socket: 'PUB', endpoint: eps.pub });
    await holder.close();
    await server.bind();
    const client = new RpcClient({ endpoint: eps.router });
    cleanups.push(() => client.close());
    await expect(client.call('who', null)).resolves.toBe('second');
  });

  it('rejects a second bind of the same server', async () => {
    const eps = endpoints();
    const server = track(new RpcServer({ routerEndpoint: eps.router, pubEndpoint: eps.pub }));
    await server.bind();
    await expect(server.bind()).rejects.toThrow('RpcServer.bind: cannot bind a server that is bound');
  });

  it('validates options with messages that say what to change', () => {
    expect(() => new RpcServer({ routerEndpoint: 'ipc:///x', pubEndpoint: 'ipc:///y', maxBatchLength: 0 })).toThrow(
      "Expected 'maxBatchLength' to be an integer from 1 and up, got 0 (number)",
    );
    expect(() => new RpcServer({ routerEndpoint: 'ipc:///x', pubEndpoint: 'ipc:///y', maxMessageBytes: 1.5 })).toThrow(
      "Expected 'maxMessageBytes' to be an integer from 1 and up, got 1.5 (number)",
    );
    expect(() => new RpcServer({ routerEndpoint: 'ipc:///x', pubEndpoint: undefined as unknown as string })).toThrow(
      "Expected 'pubEndpoint' to be a ZeroMQ endpoint",
    );
  });
});

describe('RpcServer.close', () => {
  it('is idempotent, also before bind, and refuses publish afterwards', async () => {
    const eps = endpoints();
    const unbound = new RpcServer({ routerEndpoint: eps.named('u'), pubEndpoint: eps.named('up') });
    await unbound.close();
    await unbound.close();
    const server = new RpcServer({ routerEndpoint: eps.router, pubEndpoint: eps.pub });
    await server.bind();
    await Promise.all([server.close(), server.close()]);
    await server.close();
    await expect(server.publish('t', 1)).rejects.toThrow('RpcServer.publish: the server is closed, not bound');
  });

  it('lets in-flight handlers answer, and answers new requests SHUTTING_DOWN meanwhile', async () => {
    const eps = endpoints();
    const server = new RpcServer({ routerEndpoint: eps.router, pubEndpoint: eps.pub, closeGraceMs: 5000 });
    let release: () => void = () => {};
    let started = false;
    server.addMethod('slow', async () => {
      started = true;
      await new Promise<void>((resolve) => (release = resolve));
      return 'finished';
    });
    server.addMethod('who', () => 'server');
    await server.bind();
    const client = new RpcClient({ endpoint: eps.router });
    cleanups.push(() => client.close());
    const slow = client.call('slow', {});
    await waitFor(() => started, 5000, 'slow handler started');
    const closing = server.close();
    await expect(client.call('who', null)).rejects.toMatchObject({ code: 'SHUTTING_DOWN', retryable: true });
    release();
    await expect(slow).resolves.toBe('finished');
    await closing;
  });
});
