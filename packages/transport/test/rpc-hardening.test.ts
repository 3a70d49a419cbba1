import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_MESSAGE_BYTES, RpcServer } from '@scribe/transport';
import { ipcEndpoints, rawDealer } from './helpers.js';

// One server for the file; each case uses its own raw DEALER and ends with a good
// call, so a case that crashed the server or its receive loop would fail here.
const eps = ipcEndpoints();
const server = new RpcServer({
  routerEndpoint: eps.router,
  pubEndpoint: eps.pub,
  maxMessageBytes: 4096,
  maxBatchLength: 5,
  maxJsonDepth: 8,
});
const handlerCalls: unknown[] = [];
server.addMethod('echo', (params) => {
  handlerCalls.push(params);
  return params;
});

beforeAll(() => server.bind());
afterAll(async () => {
  await server.close();
  eps.cleanup();
});

function err(number: number, code: string, message: string, id: string | number | null = null): unknown {
  return { jsonrpc: '2.0', id, error: { code: number, message, data: { code, retryable: false, method: null } } };
}

const INVALID = (message: string, id: string | number | null = null) => err(-32600, 'INVALID_REQUEST', message, id);
const PARSE = (message: string) => err(-32700, 'PARSE_ERROR', message);

/** Sends `frames`, returns the reply body, then proves the server still answers. */
async function exchange(frames: Array<Buffer | string>): Promise<unknown> {
  const dealer = await rawDealer(server.routerEndpoint);
  try {
    const before = handlerCalls.length;
    await dealer.send(frames);
    const reply = await dealer.next();
    expect(reply.frames).toBe(2);
    expect(reply.delimiter).toBe('');
    expect(handlerCalls.length).toBe(before); // no handler ran for the bad message
    await dealer.send(['', JSON.stringify({ jsonrpc: '2.0', id: 'still-alive', method: 'echo', params: [1] })]);
    expect((await dealer.next()).body).toEqual({ jsonrpc: '2.0', id: 'still-alive', result: [1] });
    return reply.body;
  } finally {
    dealer.close();
  }
}

describe('RpcServer hardening: framing', () => {
  it('answers one frame without a delimiter with INVALID_REQUEST', async () => {
    expect(await exchange([JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'echo' })])).toEqual(
      INVALID('Expected 2 frames (an empty delimiter, then one JSON-RPC message), got 1'),
    );
  });

  it('answers three frames with INVALID_REQUEST', async () => {
    expect(await exchange(['', '{}', '{}'])).toEqual(
      INVALID('Expected 2 frames (an empty delimiter, then one JSON-RPC message), got 3'),
    );
  });

  it('answers a non-empty delimiter with INVALID_REQUEST', async () => {
    expect(await exchange(['x', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'echo' })])).toEqual(
      INVALID('Expected the first frame to be an empty delimiter, got 1 bytes'),
    );
  });

  it('answers an empty message with PARSE_ERROR', async () => {
    expect(await exchange(['', ''])).toEqual(PARSE('Empty message: expected one JSON-RPC message'));
  });

  it('answers an oversized message with INVALID_REQUEST and never parses it', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'echo', params: ['x'.repeat(5000)] });
    expect(await exchange(['', big])).toEqual(
      INVALID(`Message of ${Buffer.byteLength(big)} bytes exceeds the limit of 4096 bytes`),
    );
  });

  it('answers invalid UTF-8 with PARSE_ERROR', async () => {
    const bytes = Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"echo","params":["'), Buffer.from([0xc3, 0x28]), Buffer.from('"]}')]);
    expect(await exchange(['', bytes])).toEqual(PARSE('Message is not valid UTF-8'));
  });

  it('answers text that is not JSON with PARSE_ERROR', async () => {
    expect(await exchange(['', '{"jsonrpc": "2.0", "id": 1,'])).toEqual(PARSE('Message is not valid JSON'));
  });
});

describe('RpcServer hardening: limits', () => {
  it('answers nesting deeper than maxJsonDepth with INVALID_REQUEST', async () => {
    const deep = `{"jsonrpc":"2.0","id":1,"method":"echo","params":${'['.repeat(8)}${']'.repeat(8)}}`;
    expect(await exchange(['', deep])).toEqual(INVALID('Message nests deeper than the limit of 8 levels'));
  });

  it('refuses a hostile depth without a stack overflow', async () => {
    const hostile = '['.repeat(2000) + ']'.repeat(2000);
    expect(await exchange(['', hostile])).toEqual(INVALID('Message nests deeper than the limit of 8 levels'));
  });

  it('counts brackets inside strings as text, not nesting', async () => {
    const dealer = await rawDealer(server.routerEndpoint);
    try {
      const params = ['[[[[[[[[[[[[ {{{{{{{{{{ \\" [[[['];
      await dealer.send(['', JSON.stringify({ jsonrpc: '2.0', id: 's', method: 'echo', params })]);
      expect((await dealer.next()).body).toEqual({ jsonrpc: '2.0', id: 's', result: params });
    } finally {
      dealer.close();
    }
  });

  it('answers a batch longer than maxBatchLength with one INVALID_REQUEST', async () => {
    const batch = Array.from({ length: 6 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'echo', params: [i] }));
    expect(await exchange(['', JSON.stringify(batch)])).toEqual(INVALID('Batch of 6 requests exceeds the limit of 5'));
  });

  it('answers an empty batch with one INVALID_REQUEST', async () => {
    expect(await exchange(['', '[]'])).toEqual(INVALID('Expected a non-empty batch'));
  });
});

describe('RpcServer hardening: JSON that is not a request', () => {
  it.each([
    ['a number', '42', null, 'Expected a JSON-RPC 2.0 request object, got 42 (number)'],
    ['a string', '"db.write"', null, 'Expected a JSON-RPC 2.0 request object, got "db.write" (string)'],
    ['null', 'null', null, 'Expected a JSON-RPC 2.0 request object, got null'],
    ['an object without jsonrpc', '{"id":1,"method":"echo"}', 1, 'Expected jsonrpc to be "2.0", got undefined (undefined)'],
    ['jsonrpc 1.0', '{"jsonrpc":"1.0","id":1,"method":"echo"}', 1, 'Expected jsonrpc to be "2.0", got "1.0" (string)'],
    ['an object without method', '{"jsonrpc":"2.0","id":1}', 1, 'Expected method to be a non-empty string, got undefined (undefined)'],
    ['a numeric method', '{"jsonrpc":"2.0","id":1,"method":5}', 1, 'Expected method to be a non-empty string, got 5 (number)'],
    ['scalar params', '{"jsonrpc":"2.0","id":1,"method":"echo","params":3}', 1, 'Expected params to be an object or an array when present, got 3 (number)'],
    ['an object id', '{"jsonrpc":"2.0","id":{},"method":"echo"}', null, 'Expected id to be a string, a number or null, got an object'],
    ['an invalid request without id', '{"jsonrpc":"2.0","method":7}', null, 'Expected method to be a non-empty string, got 7 (number)'],
  ] as const)('answers %s with INVALID_REQUEST (id when readable, else null)', async (_what, text, id, message) => {
    expect(await exchange(['', text])).toEqual(INVALID(message, id));
  });

  it('answers each garbage entry of a batch with its own INVALID_REQUEST, and runs the good ones', async () => {
    const dealer = await rawDealer(server.routerEndpoint);
    try {
      await dealer.send(['', JSON.stringify([1, { jsonrpc: '2.0', id: 'ok', method: 'echo', params: ['x'] }, 'junk', null, { id: 9 }])]);
      expect((await dealer.next()).body).toEqual([
        INVALID('Expected a JSON-RPC 2.0 request object, got 1 (number)'),
        { jsonrpc: '2.0', id: 'ok', result: ['x'] },
        INVALID('Expected a JSON-RPC 2.0 request object, got "junk" (string)'),
        INVALID('Expected a JSON-RPC 2.0 request object, got null'),
        INVALID('Expected jsonrpc to be "2.0", got undefined (undefined)', 9),
      ]);
    } finally {
      dealer.close();
    }
  });

  it('answers an unknown method with -32601, data.code METHOD_NOT_FOUND and method null', async () => {
    expect(await exchange(['', JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'db.nope' })])).toEqual(
      err(-32601, 'METHOD_NOT_FOUND', 'Unknown JSON-RPC method "db.nope"', 5),
    );
  });

  it('does not treat inherited object keys as methods', async () => {
    expect(await exchange(['', JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'constructor' })])).toEqual(
      err(-32601, 'METHOD_NOT_FOUND', 'Unknown JSON-RPC method "constructor"', 6),
    );
  });

  it('counts what it refused', () => {
    expect(server.stats.errors).toBeGreaterThan(10);
    expect(server.stats.received).toBeGreaterThanOrEqual(server.stats.replied);
  });
});

describe('RpcServer hardening: default limits', () => {
  it('refuses a message one byte over the default 1 MiB with INVALID_REQUEST, and answers one at the limit', async () => {
    const defaults = ipcEndpoints();
    const plain = new RpcServer({ routerEndpoint: defaults.router, pubEndpoint: defaults.pub });
    plain.addMethod('size', (params) => (params as string[])[0]!.length);
    await plain.bind();
    const dealer = await rawDealer(plain.routerEndpoint);
    try {
      const frame = (total: number): string => {
        const head = '{"jsonrpc":"2.0","id":1,"method":"size","params":["';
        const tail = '"]}';
        return head + 'x'.repeat(total - head.length - tail.length) + tail;
      };
      await dealer.send(['', frame(DEFAULT_MAX_MESSAGE_BYTES + 1)]);
      expect((await dealer.next()).body).toEqual(
        INVALID(`Message of ${DEFAULT_MAX_MESSAGE_BYTES + 1} bytes exceeds the limit of ${DEFAULT_MAX_MESSAGE_BYTES} bytes`),
      );
      await dealer.send(['', frame(DEFAULT_MAX_MESSAGE_BYTES)]);
      expect((await dealer.next()).body).toMatchObject({ id: 1, result: expect.any(Number) as unknown });
    } finally {
      dealer.close();
      await plain.close();
      defaults.cleanup();
    }
  });
});

