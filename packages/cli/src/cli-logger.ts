import { pino, type DestinationStream, type Logger } from 'pino';

/** How `scribe start` logs. */
export interface CliLoggerOptions {
  /** pino level, or `silent`. */
  readonly level: string;
  /** Human-readable lines for a terminal (pino-pretty) instead of JSON lines. */
  readonly pretty: boolean;
}

/**
 * The daemon's root logger: JSON lines on stdout with ISO 8601 times
 * (`"time":"2026-11-28T13:10:07.123Z"`), or, with `pretty`, pino-pretty's coloured
 * lines. pino-pretty is an optional dependency: loaded only when asked for, with a
 * message that says how to install it when it is missing.
 */
export async function createCliLogger(options: CliLoggerOptions): Promise<Logger> {
  const base = { level: options.level, timestamp: pino.stdTimeFunctions.isoTime };
  if (!options.pretty) return pino(base);
  let stream: DestinationStream;
  try {
    const { default: pretty } = await import('pino-pretty');
    stream = pretty({ sync: true, colorize: process.stdout.isTTY === true, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l o' });
  } catch (e) {
    throw new Error("--log-pretty needs the optional package pino-pretty, which is not installed (npm install pino-pretty)", { cause: e });
  }
  return pino(base, stream);
}
