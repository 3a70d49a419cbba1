import { describe, expect, it } from 'vitest';
import { RpcClient, RpcServer, isLoopbackHost, isLoopbackTcpEndpoint, parseTcpEndpoint } from '@scribe/transport';

describe('loopback: one definition of "this machine only"', () => {
  it.each(['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each(['0.0.0.0', '*', '10.0.0.1', '::', '[::]', '::2', 'example.com', 'eth0', '128.0.0.1', '::ffff:10.0.0.1', ''])('%s is not loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });

  it('parses tcp endpoints, IPv6 literals in brackets included', () => {
    expect(parseTcpEndpoint('tcp://[::1]:7000')).toEqual({ host: '::1', port: 7000, ipv6: true });
    expect(parseTcpEndpoint('tcp://127.0.0.1:*')).toEqual({ host: '127.0.0.1', port: '*', ipv6: false });
    expect(parseTcpEndpoint('tcp://localhost:5')).toEqual({ host: 'localhost', port: 5, ipv6: false });
    expect(parseTcpEndpoint('tcp://::1:7000')).toBeUndefined();
    expect(parseTcpEndpoint('tcp://[nonsense]:7000')).toBeUndefined();
    expect(parseTcpEndpoint('tcp://127.0.0.1:70000')).toBeUndefined();
    expect(parseTcpEndpoint('ipc:///tmp/x.sock')).toBeUndefined();
    expect(isLoopbackTcpEndpoint('tcp://[::1]:7000')).toBe(true);
    expect(isLoopbackTcpEndpoint('tcp://0.0.0.0:7000')).toBe(false);
    expect(isLoopbackTcpEndpoint('ipc:///tmp/x.sock')).toBe(false);
  });

  it('serves and calls over tcp://[::1] (the sockets get their ipv6 option)', async () => {
    const server = new RpcServer({ routerEndpoint: 'tcp://[::1]:*', pubEndpoint: 'tcp://[::1]:*' });
    server.addMethod('echo', (p) => p);
    await server.bind();
    const client = new RpcClient({ endpoint: server.routerEndpoint });
    try {
      expect(server.routerEndpoint).toMatch(/^tcp:\/\/\[::1\]:\d+$/);
      await expect(client.call('echo', ['hi'], { timeoutMs: 3000 })).resolves.toEqual(['hi']);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
