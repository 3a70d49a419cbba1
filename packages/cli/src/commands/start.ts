import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { Logger } from 'pino';
import { isLoopback, openNode } from '@scribe/node';
import { DEFAULT_COMMIT_SYNC, createDefaultRegistry, type ScribePlugin } from '@scribe/store';
import { createCliLogger } from '../cli-logger.js';
import { readCurveKeys } from '../curve-keys-file.js';
import { scribeCommand, setAction } from '../scribe-command.js';
import { curveKeysOption, dbOption } from '../shared-options.js';
import { loadPlugins, pluginOption, pluginSpecs } from '../plugin-specs.js';
import { resolveStartOptions, type StartOptions } from '../start-options.js';

/** How long a graceful shutdown may take before the process exits 1. */
export const SHUTDOWN_GRACE_MS = 10_000;

/** `scribe start`: run a node on the database until SIGINT or SIGTERM. */
export function startCommand(): Command {
  const cmd = scribeCommand('start', 'run a node on the database (primary if none is running, else secondary), or a peer of a PostgreSQL server (--url)')
    .addOption(dbOption())
    .addOption(new Option('--url <postgres-url>', 'run as a peer of this PostgreSQL server instead of on a database file (postgres://user:password@host:port/database; the password is never logged)').env('SCRIBE_URL'))
    .addOption(new Option('--log-level <level>', 'pino level: fatal, error, warn, info, debug, trace or silent').env('SCRIBE_LOG_LEVEL').default('info'))
    .addOption(new Option('--log-pretty', 'human-readable log lines for a terminal instead of JSON (pino-pretty; env: SCRIBE_LOG_PRETTY=1)'))
    .addOption(new Option('--synchronous <level>', 'SQLite durability of the primary: OFF, NORMAL, FULL or EXTRA (default: FULL)').env('SCRIBE_SYNCHRONOUS'))
    .addOption(
      new Option('--commit-sync <mode>', 'at FULL or EXTRA: sync the WAL inside COMMIT (inline) or off the event loop after it, replies held until it is done (pipelined) (default: inline)').env(
        'SCRIBE_COMMIT_SYNC',
      ),
    )
    .addOption(new Option('--http <host:port>', 'serve /healthz and /metrics (host defaults to 127.0.0.1; loopback only)').env('SCRIBE_HTTP'))
    .addOption(new Option('--http-allow-remote', 'allow --http on a non-loopback address'))
    .addOption(new Option('--no-auto-migrate', 'do not apply pending migrations when becoming primary (env: SCRIBE_AUTO_MIGRATE=0)'))
    .addOption(new Option('--no-raw-sql', 'answer DISABLED to the raw SQL writes Exec/ExecBatch (env: SCRIBE_RAW_SQL=0)'))
    .addOption(new Option('--router <endpoint>', 'bind requests here when primary, e.g. tcp://127.0.0.1:7100 (goes with --pub)').env('SCRIBE_ROUTER'))
    .addOption(new Option('--pub <endpoint>', 'bind events here when primary, e.g. tcp://127.0.0.1:7101 (goes with --router)').env('SCRIBE_PUB'))
    .addOption(curveKeysOption())
    .addOption(new Option('--file-mode <mode>', 'mode of the database, its WAL and SHM: 600 (owner only), 640 or 660 (a group that shares it)').env('SCRIBE_FILE_MODE'))
    .addOption(pluginOption());
  return setAction(cmd, async (c) => start(resolveStartOptions(c), await loadPlugins(pluginSpecs(c))));
}

/** Checks that the database's directory can be created and written, before anything starts. */
function checkDbPath(db: string): void {
  const dir = dirname(resolve(db));
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new Error(
      `cannot use --db ${db}: its directory ${dir} cannot be created or written (${(e as NodeJS.ErrnoException).code ?? 'error'}); choose another path with --db or SCRIBE_DB`,
      { cause: e },
    );
  }
}

async function start(args: StartOptions, plugins: readonly ScribePlugin[]): Promise<number> {
  const root = await createCliLogger({ level: args.logLevel, pretty: args.logPretty });
  // The daemon picks the node's id, so that its own lines (start, warnings, shutdown) carry `node` as the node's do.
  const instanceId = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const logger = root.child({ node: instanceId });
  // Signal handlers first: a SIGTERM that arrives while the node opens (or just as it
  // logs that it started) must close it gracefully, not kill the process by default.
  let stopSignal: string | undefined;
  let onStop: (() => void) | undefined;
  const stop = (signal: string): void => {
    stopSignal ??= signal;
    onStop?.();
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  if (args.url !== undefined) return startPeer({ ...args, url: args.url }, plugins, logger, root, instanceId, () => new Promise<string | undefined>((resolveStop) => {
    onStop = () => resolveStop(stopSignal);
    if (stopSignal !== undefined) resolveStop(stopSignal);
  }));
  checkDbPath(args.db);
  const curve = readCurveKeys(args.curveKeysFile);
  if (args.endpoints?.router.startsWith('tcp://') === true && curve === undefined) {
    logger.warn({ router: args.endpoints.router }, 'insecure: tcp without CURVE keys: any process on this machine can connect and write (use --curve-keys, or the default owner-only ipc sockets)');
  }
  if (args.endpoints?.router.startsWith('tcp://') === true && args.rawSql && curve === undefined) {
    logger.warn({ router: args.endpoints.router }, 'insecure: raw SQL writes are enabled on a tcp endpoint; any local process that can connect can run SQL (use --no-raw-sql)');
  }
  if (args.http !== undefined && args.httpAllowRemote && !isLoopback(args.http.host)) {
    logger.warn({ http: `${args.http.host}:${args.http.port}` }, 'insecure: health and metrics are served beyond this machine without authentication');
  }
  const node = await openNode({
    dbPath: args.db,
    instanceId,
    logger: root,
    autoMigrate: args.autoMigrate,
    registry: createDefaultRegistry({ rawSql: args.rawSql }),
    plugins,
    ...(args.synchronous === undefined ? {} : { synchronous: args.synchronous }),
    ...(args.commitSync === undefined ? {} : { commitSync: args.commitSync }),
    ...(args.http === undefined ? {} : { http: { ...args.http, allowRemote: args.httpAllowRemote } }),
    ...(args.endpoints === undefined ? {} : { endpoints: args.endpoints }),
    ...(curve === undefined ? {} : { curve }),
    ...(args.fileMode === undefined ? {} : { fileMode: args.fileMode }),
  });
  logger.info(
    {
      db: node.paths.dbPath,
      role: node.role,
      epoch: node.epoch,
      endpoints: node.primaryEndpoints,
      synchronous: args.synchronous ?? 'FULL',
      commitSync: args.commitSync ?? DEFAULT_COMMIT_SYNC,
      autoMigrate: args.autoMigrate,
      rawSql: args.rawSql,
      http: node.httpAddress ?? null,
      curve: curve !== undefined,
      plugins: node.info().plugins,
    },
    'scribe started',
  );
  node.on((event) => logger.info({ event }, event.type));
  await new Promise<void>((resolveStop) => {
    onStop = resolveStop;
    if (stopSignal !== undefined) resolveStop();
  });
  logger.info({ signal: stopSignal }, 'shutting down');
  return closeGracefully(node, logger);
}

/** `scribe start --url`: this process as a peer of a PostgreSQL server (the same plugins and HTTP flags). */
async function startPeer(
  args: StartOptions & { url: string },
  plugins: readonly ScribePlugin[],
  logger: Logger,
  root: Logger,
  instanceId: string,
  stopped: () => Promise<string | undefined>,
): Promise<number> {
  const node = await openNode({
    url: args.url,
    instanceId,
    logger: root,
    autoMigrate: args.autoMigrate,
    registry: createDefaultRegistry({ rawSql: args.rawSql }),
    plugins,
    ...(args.http === undefined ? {} : { http: { ...args.http, allowRemote: args.httpAllowRemote } }),
  });
  logger.info(
    { server: node.server, role: node.role, autoMigrate: args.autoMigrate, rawSql: args.rawSql, http: node.httpAddress ?? null, plugins: node.info().plugins },
    'scribe started',
  );
  const signal = await stopped();
  logger.info({ signal }, 'shutting down');
  return closeGracefully(node, logger);
}

/** Closes the node (drains its writes), exiting with 1 if that takes longer than {@link SHUTDOWN_GRACE_MS}; resolves 0. */
async function closeGracefully(node: { close(): Promise<void> }, logger: Logger): Promise<number> {
  const forced = setTimeout(() => {
    logger.error(`graceful shutdown took longer than ${SHUTDOWN_GRACE_MS / 1000} s; exiting`);
    process.exit(1);
  }, SHUTDOWN_GRACE_MS);
  forced.unref();
  await node.close();
  logger.info('scribe stopped');
  return 0;
}
