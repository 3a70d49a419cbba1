import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONNECT_TIMEOUT_MS, createPgClient } from '../src/index.js';

// A server that accepts TCP connections and never answers: a PostgreSQL behind a black hole.
let silent: Server | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise<void>((resolve) => (silent === undefined ? resolve() : silent.close(() => resolve())));
  silent = undefined;
});

async function silentServer(): Promise<number> {
  silent = createServer((s) => void sockets.push(s));
  await new Promise<void>((resolve) => silent!.listen(0, '127.0.0.1', resolve));
  return (silent.address() as { port: number }).port;
}

describe('createPgClient: a dedicated connection with the pool settings', () => {
  it('gives up on a server that does not answer after connectTimeoutMs, and has the pool default when none is given', async () => {
    const port = await silentServer();
    const client = createPgClient({ url: `postgres://scribe@127.0.0.1:${port}/x`, connectTimeoutMs: 200 }, 'changes');
    await expect(client.connect()).rejects.toThrow(/timeout/i);
    const byDefault = createPgClient({ url: `postgres://scribe@127.0.0.1:${port}/x` }, 'maintenance');
    // node-postgres keeps the setting on the client; without one it would wait for ever.
    expect((byDefault as unknown as { _connectionTimeoutMillis: number })._connectionTimeoutMillis).toBe(DEFAULT_CONNECT_TIMEOUT_MS);
    expect(() => createPgClient({ url: 'postgres://x/y', connectTimeoutMs: 0 }, 'changes')).toThrow("Expected 'connectTimeoutMs' to be an integer from 1 and up, got 0 (number)");
  });
});
