import { pino, type Logger } from 'pino';

let silent: Logger | undefined;

/** The logger used when none is passed in: pino at level `silent`, created once. */
export function silentLogger(): Logger {
  silent ??= pino({ level: 'silent' });
  return silent;
}
