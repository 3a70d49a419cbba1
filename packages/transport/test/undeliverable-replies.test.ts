import { describe, expect, it } from 'vitest';
import { RpcServer } from '@scribe/transport';
import { capturingLogger, ipcEndpoints, rawDealer, waitFor } from './helpers.js';

describe('RpcServer: replies to a peer that left', () => {
  it('counts every dropped reply and logs one short line for the lot', async () => {
    const eps = ipcEndpoints();
    const { logger, records } = capturingLogger();
    const gates: Array<() => void> = [];
    const server = new RpcServer({ routerEndpoint: eps.router, pubEndpoint: eps.pub, logger });
    server.addMethod('slow', () => new Promise<string>((resolve) => gates.push(() => resolve('late'))));
    await server.bind();
    const calls = 200;
    try {
      const dealer = await rawDealer(server.routerEndpoint);
      for (let id = 1; id <= calls; id++) await dealer.send(['', JSON.stringify({ jsonrpc: '2.0', id, method: 'slow' })]);
      await waitFor(() => gates.length === calls, 5000, 'every call reached its handler');
      dealer.close();
      // Release the handlers one at a time until the ROUTER has noticed that the
      // peer left (its first reply then fails), then release the rest: all of them
      // are undeliverable.
      let released = 0;
      const deadline = Date.now() + 5000;
      while (server.stats.dropped === 0) {
        if (Date.now() > deadline || released === calls) throw new Error('the server never noticed the peer leaving');
        gates[released++]!();
        await new Promise<void>((resolve) => setTimeout(resolve, 5));
      }
      const before = server.stats.dropped;
      const rest = calls - released;
      while (released < calls) gates[released++]!();
      await waitFor(() => server.stats.dropped >= before + rest, 5000, 'every later reply counted as dropped');
      const lines = records.filter((r) => r.msg === 'send failed; message dropped');
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toHaveProperty('err');
      expect(lines[0]).toMatchObject({ code: 'EHOSTUNREACH' });
    } finally {
      await server.close();
      eps.cleanup();
    }
  });
});
