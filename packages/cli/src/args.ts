import { parseArgs } from 'node:util';
import { SYNCHRONOUS_LEVELS, type SynchronousLevel } from '@scribe/node';

/** The default database when `--db` is not given: `./.scribe/scribe.db`. */
export const DEFAULT_DB_PATH = '.scribe/scribe.db';

/** The sub-commands of `scribe`. */
export const COMMANDS = ['start', 'status', 'migrate', 'keygen', 'help'] as const;
/** One of {@link COMMANDS}. */
export type Command = (typeof COMMANDS)[number];

/** Parsed command line. */
export interface CliArgs {
  command: Command;
  db: string;
  json: boolean;
  logLevel: string;
  synchronous: SynchronousLevel | undefined;
  timeoutMs: number;
  /** `--http HOST:PORT`: serve /healthz and /metrics. */
  http: { host: string; port: number } | undefined;
  httpAllowRemote: boolean;
  autoMigrate: boolean;
  rawSql: boolean;
  /** `--router` / `--pub`: endpoints to bind when primary (tcp is opt-in). */
  endpoints: { router: string; pub: string } | undefined;
  /** `--curve-keys FILE`: the cluster's CURVE key pair (JSON from `scribe keygen`). */
  curveKeysFile: string | undefined;
}

/** A command-line mistake; the message says what to change. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `usage: scribe <command> [options]

commands:
  start     run a node on the database (primary if none is running, else secondary)
  status    ask the cluster's primary for its role, pid, endpoints, schema and queue depth
  migrate   apply pending migrations (takes the primary lock; fails if a primary runs)
  keygen    print a new CURVE key pair for the cluster, as JSON (for --curve-keys)
  help      print this text

options:
  --db PATH             database file (default ${DEFAULT_DB_PATH}; env SCRIBE_DB)
  --json                status: print JSON instead of a table
  --log-level LEVEL     start: pino level (default info; env SCRIBE_LOG_LEVEL)
  --synchronous LEVEL   start: OFF, NORMAL, FULL (default) or EXTRA (env SCRIBE_SYNCHRONOUS)
  --timeout MS          status: how long to wait for the primary (default 2000)
  --http HOST:PORT      start: serve /healthz and /metrics (env SCRIBE_HTTP; loopback only)
  --http-allow-remote   start: allow --http on a non-loopback address
  --no-auto-migrate     start: do not apply pending migrations (env SCRIBE_AUTO_MIGRATE=0)
  --no-raw-sql          start: answer DISABLED to the raw SQL writes Exec/ExecBatch (env SCRIBE_RAW_SQL=0)
  --router ENDPOINT     start: bind requests here when primary, e.g. tcp://127.0.0.1:7100 (env SCRIBE_ROUTER)
  --pub ENDPOINT        start: bind events here when primary, e.g. tcp://127.0.0.1:7101 (env SCRIBE_PUB)
  --curve-keys FILE     start, status: the cluster's CURVE keys (env SCRIBE_CURVE_KEYS); required for
                        tcp beyond loopback

Every option is described, with its environment variable and default, in docs/operations.md.
`;

/** Parses argv (without node and script) and the environment; throws {@link UsageError}. */
export function parseCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        db: { type: 'string' },
        json: { type: 'boolean', default: false },
        'log-level': { type: 'string' },
        synchronous: { type: 'string' },
        timeout: { type: 'string' },
        http: { type: 'string' },
        'http-allow-remote': { type: 'boolean', default: false },
        'no-auto-migrate': { type: 'boolean', default: false },
        'no-raw-sql': { type: 'boolean', default: false },
        router: { type: 'string' },
        'curve-keys': { type: 'string' },
        pub: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  const name = values.help ? 'help' : (positionals[0] ?? 'help');
  if (!(COMMANDS as readonly string[]).includes(name)) {
    throw new UsageError(`unknown command ${JSON.stringify(name)}; expected one of ${COMMANDS.join(', ')}`);
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`);
  const sync = (values.synchronous ?? env.SCRIBE_SYNCHRONOUS)?.toUpperCase();
  if (sync !== undefined && !(SYNCHRONOUS_LEVELS as readonly string[]).includes(sync)) {
    throw new UsageError(`--synchronous must be one of ${SYNCHRONOUS_LEVELS.join(', ')}, got ${JSON.stringify(sync)}`);
  }
  const timeout = values.timeout === undefined ? 2000 : Number(values.timeout);
  if (!Number.isInteger(timeout) || timeout <= 0) {
    throw new UsageError(`--timeout must be a whole number of milliseconds above 0, got ${JSON.stringify(values.timeout)}`);
  }
  const logLevel = values['log-level'] ?? env.SCRIBE_LOG_LEVEL ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new UsageError(`--log-level must be a pino level (fatal … trace, or silent), got ${JSON.stringify(logLevel)}`);
  }
  const httpSpec = values.http ?? env.SCRIBE_HTTP;
  let http: CliArgs['http'];
  if (httpSpec !== undefined) {
    const m = /^(?:(.+):)?(\d{1,5})$/.exec(httpSpec);
    const port = m === null ? NaN : Number(m[2]);
    if (m === null || port > 65535) {
      throw new UsageError(`--http must be HOST:PORT or PORT (e.g. 127.0.0.1:9464), got ${JSON.stringify(httpSpec)}`);
    }
    http = { host: (m[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1'), port };
  }
  const flagOff = (flag: boolean, envValue: string | undefined): boolean => !flag && !['0', 'false', 'no', 'off'].includes((envValue ?? '').toLowerCase());
  const router = values.router ?? env.SCRIBE_ROUTER;
  const pub = values.pub ?? env.SCRIBE_PUB;
  if ((router === undefined) !== (pub === undefined)) {
    throw new UsageError('--router and --pub go together: give both endpoints or neither');
  }
  const curveKeysFile = values['curve-keys'] ?? env.SCRIBE_CURVE_KEYS;
  let endpoints: CliArgs['endpoints'];
  if (router !== undefined && pub !== undefined) {
    for (const [flag, ep] of [['--router', router], ['--pub', pub]] as const) {
      const tcp = /^tcp:\/\/([^:]+):(\d+|\*)$/.exec(ep);
      if (!/^ipc:\/\/.+/.test(ep) && tcp === null) {
        throw new UsageError(`${flag} must be ipc://PATH or tcp://HOST:PORT, got ${JSON.stringify(ep)}`);
      }
      if (tcp !== null && !['127.0.0.1', 'localhost', '[::1]', '::1'].includes(tcp[1]!) && curveKeysFile === undefined) {
        throw new UsageError(
          `${flag} ${ep} would accept connections from other machines; tcp beyond loopback needs CURVE keys (scribe keygen > keys.json, then --curve-keys keys.json on every member)`,
        );
      }
    }
    endpoints = { router, pub };
  }
  return {
    command: name as Command,
    http,
    httpAllowRemote: values['http-allow-remote'] === true,
    autoMigrate: flagOff(values['no-auto-migrate'] === true, env.SCRIBE_AUTO_MIGRATE),
    rawSql: flagOff(values['no-raw-sql'] === true, env.SCRIBE_RAW_SQL),
    endpoints,
    curveKeysFile,
    db: values.db ?? env.SCRIBE_DB ?? DEFAULT_DB_PATH,
    json: values.json === true,
    logLevel,
    synchronous: sync as SynchronousLevel | undefined,
    timeoutMs: timeout,
  };
}
