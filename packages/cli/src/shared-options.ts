import { Option, type Command } from 'commander';
import { UsageError } from './usage-error.js';

/** The default database when `--db` is not given: `./.scribe/scribe.db`. */
export const DEFAULT_DB_PATH = '.scribe/scribe.db';

/** `--db <path>` (env `SCRIBE_DB`): the database file a command works on. */
export function dbOption(): Option {
  return new Option('--db <path>', 'database file').env('SCRIBE_DB').default(DEFAULT_DB_PATH);
}

/** `--curve-keys <file>` (env `SCRIBE_CURVE_KEYS`): the cluster's CURVE key pair. */
export function curveKeysOption(): Option {
  return new Option('--curve-keys <file>', "the cluster's CURVE keys (the JSON file scribe keygen writes); required for tcp beyond loopback").env(
    'SCRIBE_CURVE_KEYS',
  );
}

/**
 * How a message names where an option's value came from: `--synchronous`, or
 * `--synchronous (from SCRIBE_SYNCHRONOUS)` when the environment gave it.
 */
export function optionSource(cmd: Command, flag: string): string {
  const option = cmd.options.find((o) => o.long === flag);
  const key = option?.attributeName() ?? flag.replace(/^--/, '');
  return cmd.getOptionValueSource(key) === 'env' && option?.envVar !== undefined ? `${flag} (from ${option.envVar})` : flag;
}

/** The string value of an option, or undefined when neither a flag, the environment nor a default gave one. */
export function stringOption(cmd: Command, key: string): string | undefined {
  const value: unknown = cmd.getOptionValue(key);
  return typeof value === 'string' ? value : undefined;
}

/**
 * A boolean setting that a `--no-X` flag turns off, and that an environment variable
 * turns off with `0`, `false`, `no` or `off` (any other value leaves it on).
 */
export function onUnlessTurnedOff(cmd: Command, key: string, envValue: string | undefined): boolean {
  return cmd.getOptionValue(key) !== false && !['0', 'false', 'no', 'off'].includes((envValue ?? '').toLowerCase());
}

/** `--timeout <ms>`: how long a command waits for the primary (`status`, `top`). */
export function primaryTimeoutOption(description: string, defaultMs: number): Option {
  return new Option('--timeout <ms>', description).default(String(defaultMs));
}

/** The value of `--timeout` as whole milliseconds above 0, or a {@link UsageError} that names where it came from. */
export function primaryTimeoutMs(cmd: Command): number {
  const text = stringOption(cmd, 'timeout') ?? '';
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms <= 0) {
    throw new UsageError(`${optionSource(cmd, '--timeout')} must be a whole number of milliseconds above 0, got ${JSON.stringify(text)}`);
  }
  return ms;
}

/**
 * The value of an `--http HOST:PORT` (or `PORT`, host 127.0.0.1) option, or undefined
 * when none was given; a {@link UsageError} that names where it came from otherwise.
 */
export function httpAddress(cmd: Command, flag = '--http'): { host: string; port: number } | undefined {
  const spec = stringOption(cmd, 'http');
  if (spec === undefined) return undefined;
  const m = /^(?:(.+):)?(\d{1,5})$/.exec(spec);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || port > 65535) {
    throw new UsageError(`${optionSource(cmd, flag)} must be HOST:PORT or PORT (e.g. 127.0.0.1:9464), got ${JSON.stringify(spec)}`);
  }
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1'), port };
}
