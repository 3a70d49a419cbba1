/** Shared test helpers: unique endpoints, bounded waiting, raw sockets, log capture. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dealer } from 'zeromq';
import { pino, type Logger } from 'pino';

/** A fresh directory with ipc endpoint names in it; `cleanup()` removes it. */
export function ipcEndpoints(): { router: string; pub: string; named: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'scribe-transport-'));
  return {
    router: `ipc://${dir}/router.sock`,
    pub: `ipc://${dir}/pub.sock`,
    named: (name) => `ipc://${dir}/${name}.sock`,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Resolves once `condition()` is true; rejects after `timeoutMs` with `what` in the message. */
export async function waitFor(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** A raw DEALER for sending hand-made frames; `next()` reads one reply as [delimiter, JSON]. */
export async function rawDealer(endpoint: string): Promise<{
  socket: Dealer;
  send: (frames: Array<Buffer | string>) => Promise<void>;
  next: () => Promise<{ frames: number; delimiter: string; body: unknown }>;
  close: () => void;
}> {
  const socket = new Dealer({ linger: 0, receiveTimeout: 5000 });
  socket.connect(endpoint);
  return {
    socket,
    send: (frames) => socket.send(frames),
    next: async () => {
      const frames = await socket.receive();
      const [delimiter, body] = frames;
      return {
        frames: frames.length,
        delimiter: delimiter?.toString('utf8') ?? '',
        body: body === undefined ? undefined : (JSON.parse(body.toString('utf8')) as unknown),
      };
    },
    close: () => socket.close(),
  };
}

/** A pino logger at `debug` whose records are collected (parsed) in `records`. */
export function capturingLogger(): { logger: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'debug' },
    {
      write(line: string) {
        records.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return { logger, records };
}
