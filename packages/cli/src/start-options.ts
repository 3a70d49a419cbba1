import { FILE_MODES, SYNCHRONOUS_LEVELS, type SynchronousLevel } from '@scribe/node';
import { COMMIT_SYNC_MODES, type CommitSync } from '@scribe/store';
import { isLoopbackHost, parseTcpEndpoint } from '@scribe/transport';
import type { Command } from 'commander';
import { httpAddress, onUnlessTurnedOff, optionSource, stringOption } from './shared-options.js';
import { UsageError } from './usage-error.js';

/** pino's levels, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** What `scribe start` runs with, checked. */
export interface StartOptions {
  readonly db: string;
  /** `--url` / `SCRIBE_URL`: run as a peer of this PostgreSQL server instead of on the `--db` file. */
  readonly url: string | undefined;
  readonly logLevel: string;
  /** `--log-pretty` / `SCRIBE_LOG_PRETTY=1`: human-readable log lines (pino-pretty). */
  readonly logPretty: boolean;
  readonly synchronous: SynchronousLevel | undefined;
  /** `--commit-sync inline|pipelined` (openNode's `commitSync`). */
  readonly commitSync: CommitSync | undefined;
  /** `--http HOST:PORT`: serve /healthz and /metrics. */
  readonly http: { host: string; port: number } | undefined;
  readonly httpAllowRemote: boolean;
  readonly autoMigrate: boolean;
  readonly rawSql: boolean;
  /** `--router` / `--pub`: endpoints to bind when primary (tcp is opt-in). */
  readonly endpoints: { router: string; pub: string } | undefined;
  /** `--curve-keys FILE`: the cluster's CURVE key pair (JSON from `scribe keygen`). */
  readonly curveKeysFile: string | undefined;
  /** `--file-mode 600|640|660`: mode of the database, WAL and SHM (openNode's `fileMode`). */
  readonly fileMode: number | undefined;
}

/** Checks `scribe start`'s parsed options (flags, environment, defaults); throws {@link UsageError}. */
export function resolveStartOptions(cmd: Command, env: NodeJS.ProcessEnv = process.env): StartOptions {
  const sync = stringOption(cmd, 'synchronous')?.toUpperCase();
  if (sync !== undefined && !(SYNCHRONOUS_LEVELS as readonly string[]).includes(sync)) {
    throw new UsageError(`${optionSource(cmd, '--synchronous')} must be one of ${SYNCHRONOUS_LEVELS.join(', ')}, got ${JSON.stringify(sync)}`);
  }
  const commitSync = stringOption(cmd, 'commitSync')?.toLowerCase();
  if (commitSync !== undefined && !(COMMIT_SYNC_MODES as readonly string[]).includes(commitSync)) {
    throw new UsageError(`${optionSource(cmd, '--commit-sync')} must be one of ${COMMIT_SYNC_MODES.join(', ')}, got ${JSON.stringify(commitSync)}`);
  }
  const logLevel = stringOption(cmd, 'logLevel') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new UsageError(`${optionSource(cmd, '--log-level')} must be a pino level (fatal … trace, or silent), got ${JSON.stringify(logLevel)}`);
  }
  const http = httpAddress(cmd);
  const router = stringOption(cmd, 'router');
  const pub = stringOption(cmd, 'pub');
  if ((router === undefined) !== (pub === undefined)) {
    throw new UsageError('--router and --pub go together: give both endpoints or neither');
  }
  const curveKeysFile = stringOption(cmd, 'curveKeys');
  let endpoints: StartOptions['endpoints'];
  if (router !== undefined && pub !== undefined) {
    for (const [flag, ep] of [['--router', router], ['--pub', pub]] as const) {
      const tcp = parseTcpEndpoint(ep);
      if (!/^ipc:\/\/.+/.test(ep) && tcp === undefined) {
        throw new UsageError(`${optionSource(cmd, flag)} must be ipc://PATH or tcp://HOST:PORT (IPv6 in brackets: tcp://[::1]:PORT), got ${JSON.stringify(ep)}`);
      }
      if (tcp !== undefined && !isLoopbackHost(tcp.host) && curveKeysFile === undefined) {
        throw new UsageError(
          `${optionSource(cmd, flag)} ${ep} would accept connections from other machines; tcp beyond loopback needs CURVE keys (scribe keygen --out keys.json, then --curve-keys keys.json on every member)`,
        );
      }
    }
    endpoints = { router, pub };
  }
  const fileModeSpec = stringOption(cmd, 'fileMode');
  let fileMode: number | undefined;
  if (fileModeSpec !== undefined) {
    const octal = /^(?:0o?)?([0-7]{3})$/.exec(fileModeSpec);
    fileMode = octal === null ? undefined : Number.parseInt(octal[1]!, 8);
    if (fileMode === undefined || !(FILE_MODES as readonly number[]).includes(fileMode)) {
      throw new UsageError(`${optionSource(cmd, '--file-mode')} must be 600 (owner only), 640 (group reads) or 660 (group reads and writes), got ${JSON.stringify(fileModeSpec)}`);
    }
  }
  const url = stringOption(cmd, 'url');
  if (url !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new UsageError(`${optionSource(cmd, '--url')} must be a postgres:// or postgresql:// connection URL`);
    }
    // Options of the SQLite cluster are refused beside --url, never ignored.
    for (const [key, flag] of [['db', '--db'], ['synchronous', '--synchronous'], ['commitSync', '--commit-sync'], ['router', '--router'], ['pub', '--pub'], ['curveKeys', '--curve-keys'], ['fileMode', '--file-mode']] as const) {
      const source = cmd.getOptionValueSource(key);
      if (source === 'cli' || source === 'env') {
        throw new UsageError(`${optionSource(cmd, flag)} is an option of the SQLite cluster; with --url every process is a peer of the PostgreSQL server: remove ${flag}`);
      }
    }
  }
  return {
    db: stringOption(cmd, 'db')!,
    url,
    logLevel,
    logPretty: cmd.getOptionValue('logPretty') === true || ['1', 'true', 'yes', 'on'].includes((env.SCRIBE_LOG_PRETTY ?? '').toLowerCase()),
    synchronous: sync as SynchronousLevel | undefined,
    commitSync: commitSync as CommitSync | undefined,
    http,
    httpAllowRemote: cmd.getOptionValue('httpAllowRemote') === true,
    autoMigrate: onUnlessTurnedOff(cmd, 'autoMigrate', env.SCRIBE_AUTO_MIGRATE),
    rawSql: onUnlessTurnedOff(cmd, 'rawSql', env.SCRIBE_RAW_SQL),
    endpoints,
    curveKeysFile,
    fileMode,
  };
}
