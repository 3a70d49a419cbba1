import { curveKeyPair } from 'zeromq';
import { afterEach, describe, expect, it } from 'vitest';
import { RpcClient, RpcServer, z85Decode } from '@scribe/transport';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function curveServer(allowedClientKeys?: string[]) {
  const keys = curveKeyPair();
  const server = new RpcServer({
    routerEndpoint: 'tcp://127.0.0.1:*',
    pubEndpoint: 'tcp://127.0.0.1:*',
    curve: { ...keys, ...(allowedClientKeys === undefined ? {} : { allowedClientKeys }) },
  });
  server.addMethod('who', () => 'curve server');
  await server.bind();
  cleanups.push(() => server.close());
  return { server, keys };
}

function client(endpoint: string, curve?: { serverKey: string; publicKey: string; secretKey: string }) {
  const c = new RpcClient({ endpoint, defaultTimeoutMs: 1_500, ...(curve === undefined ? {} : { curve }) });
  cleanups.push(() => c.close());
  return c;
}

describe('CURVE', () => {
  it('decodes Z85 keys to 32 bytes', () => {
    const { publicKey } = curveKeyPair();
    expect(z85Decode(publicKey)).toHaveLength(32);
    expect(() => z85Decode('abc')).toThrow(/multiple of 5/);
  });

  it('admits a client with the server key and an allowed key, and refuses one with a wrong server key, a key not allowed, or no keys', async () => {
    const alice = curveKeyPair();
    const mallory = curveKeyPair();
    const { server, keys } = await curveServer([alice.publicKey]);
    const endpoint = server.routerEndpoint;

    await expect(client(endpoint, { serverKey: keys.publicKey, ...alice }).call('who', null)).resolves.toBe('curve server');

    // A refused client gets no answer: its TCP connection may open, but the CURVE
    // handshake fails, so its request never reaches the server.
    const refused = (p: Promise<unknown>) => expect(p).rejects.toSatisfy((e: { code?: string }) => e.code === 'TIMEOUT' || e.code === 'UNREACHABLE');
    await refused(client(endpoint, { serverKey: curveKeyPair().publicKey, ...alice }).call('who', null));
    await refused(client(endpoint, { serverKey: keys.publicKey, ...mallory }).call('who', null));
    await refused(client(endpoint).call('who', null));
    expect(server.stats.received).toBe(1);
  });

  it('without an allow list admits any client that knows the server key', async () => {
    const { server, keys } = await curveServer();
    await expect(client(server.routerEndpoint, { serverKey: keys.publicKey, ...curveKeyPair() }).call('who', null)).resolves.toBe('curve server');
  });

  it('refuses malformed keys with a message that says what to pass', () => {
    expect(() => new RpcServer({ routerEndpoint: 'tcp://127.0.0.1:*', pubEndpoint: 'tcp://127.0.0.1:*', curve: { publicKey: 'short', secretKey: 'x' } })).toThrow(
      "Expected 'curve.publicKey' to be a 40-character Z85 CURVE key (see zeromq's curveKeyPair()), got 5 characters",
    );
  });
});
