import { parseArgs } from 'node:util';
import { SYNCHRONOUS_LEVELS, type SynchronousLevel } from '@scribe/node';

/** The default database when `--db` is not given: `./.scribe/scribe.db`. */
export const DEFAULT_DB_PATH = '.scribe/scribe.db';

/** The sub-commands of `scribe`. */
export const COMMANDS = ['start', 'status', 'migrate', 'help'] as const;
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
  help      print this text

options:
  --db PATH             database file (default ${DEFAULT_DB_PATH}; env SCRIBE_DB)
  --json                status: print JSON instead of a table
  --log-level LEVEL     start: pino level (default info; env SCRIBE_LOG_LEVEL)
  --synchronous LEVEL   start: OFF, NORMAL, FULL (default) or EXTRA (env SCRIBE_SYNCHRONOUS)
  --timeout MS          status: how long to wait for the primary (default 2000)
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
  return {
    command: name as Command,
    db: values.db ?? env.SCRIBE_DB ?? DEFAULT_DB_PATH,
    json: values.json === true,
    logLevel,
    synchronous: sync as SynchronousLevel | undefined,
    timeoutMs: timeout,
  };
}
