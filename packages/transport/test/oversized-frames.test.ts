import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_MESSAGE_BYTES, RpcClient, RpcServer } from '@scribe/transport';
import { ipcEndpoints, rawDealer } from './helpers.js';

function frame(total: number): string {
  const head = '{"jsonrpc":"2.0","id":7,"method":"size","params":["';
  const tail = '"]}';
  return head + 'x'.repeat(total - head.length - tail.length) + tail;
}

const invalid = (bytes: number, limit: number): unknown => ({
  jsonrpc: '2.0',
  id: null,
  error: {
    code: -32600,
    message: `Message of ${bytes} bytes exceeds the limit of ${limit} bytes`,
    data: { code: 'INVALID_REQUEST', retryable: false, method: null },
  },
});

describe('RpcServer: oversized requests', () => {
  it('answers INVALID_REQUEST to requests of 3 MB and 16 MB (above the old 2.1 MB silent drop) with default limits', async () => {
    const eps = ipcEndpoints();
    const server = new RpcServer({ routerEndpoint: eps.router, pubEndpoint: eps.pub });
    server.addMethod('size', (params) => (params as string[])[0]!.length);
    await server.bind();
    const dealer = await rawDealer(server.routerEndpoint);
    try {
      for (const bytes of [3_000_000, 16 * 1024 * 1024]) {
        await dealer.send(['', frame(bytes)]);
        expect((await dealer.next()).body).toEqual(invalid(bytes, DEFAULT_MAX_MESSAGE_BYTES));
      }
      // The same connection still works.
      await dealer.send(['', frame(1000)]);
      expect((await dealer.next()).body).toMatchObject({ id: 7, result: expect.any(Number) as unknown });
    } finally {
      dealer.close();
      await server.close();
      eps.cleanup();
    }
  });

  it('answers up to the hard cap (maxFrameBytes); the client refuses a request above it before sending it', async () => {
    const eps = ipcEndpoints();
    const server = new RpcServer({ routerEndpoint: eps.router, pubEndpoint: eps.pub, maxMessageBytes: 4096, maxFrameBytes: 65_536 });
    server.addMethod('size', (params) => (params as string[])[0]!.length);
    await server.bind();
    const other = await rawDealer(server.routerEndpoint);
    const client = new RpcClient({ endpoint: server.routerEndpoint, maxRequestBytes: 65_536 });
    try {
      await other.send(['', frame(60_000)]);
      expect((await other.next()).body).toEqual(invalid(60_000, 4096));
      await expect(client.call('size', ['x'.repeat(70_000)])).rejects.toMatchObject({
        code: 'INVALID_REQUEST',
        message: expect.stringMatching(/^Request of \d+ bytes exceeds the limit of 65536 bytes; it was not sent$/) as unknown,
      });
      await expect(client.call('size', ['abc'], { timeoutMs: 3000 })).resolves.toBe(3);
      expect(server.stats.received).toBe(2);
    } finally {
      other.close();
      await client.close();
      await server.close();
      eps.cleanup();
    }
  });
});
