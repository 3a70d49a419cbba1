#!/usr/bin/env node
import { accessSync, constants, mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pino } from 'pino';
import { ensurePrivateDir, isLoopback, openNode, resolveRuntimePaths } from '@scribe/node';
import { PrimaryLock, Store, createDefaultRegistry } from '@scribe/store';
import { assertCurveKey, curveKeyPair } from '@scribe/transport';
import { parseCliArgs, UsageError, USAGE, type CliArgs } from './args.js';
import { formatStatus, getStatus } from './status.js';

/** Checks that the database's directory can be created and written, before anything starts. */
function checkDbPath(db: string): void {
  const dir = dirname(resolve(db));
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new Error(`cannot use --db ${db}: its directory ${dir} cannot be created or written (${(e as NodeJS.ErrnoException).code ?? 'error'}); choose another path with --db or SCRIBE_DB`, { cause: e });
  }
}

/** Reads and checks the cluster's CURVE keys file. */
function readCurveKeys(file: string | undefined): { publicKey: string; secretKey: string; allowedClientKeys?: string[] } | undefined {
  if (file === undefined) return undefined;
  let keys: { publicKey?: unknown; secretKey?: unknown; allowedClientKeys?: unknown };
  try {
    keys = JSON.parse(readFileSync(file, 'utf8')) as typeof keys;
  } catch (e) {
    throw new Error(`cannot read --curve-keys ${file}: expected JSON {"publicKey", "secretKey"} as 'scribe keygen' prints it`, { cause: e });
  }
  assertCurveKey('publicKey', keys.publicKey);
  assertCurveKey('secretKey', keys.secretKey);
  const allowed = Array.isArray(keys.allowedClientKeys) ? keys.allowedClientKeys.map((k, i) => assertCurveKey(`allowedClientKeys[${i}]`, k)) : undefined;
  return { publicKey: keys.publicKey as string, secretKey: keys.secretKey as string, ...(allowed === undefined ? {} : { allowedClientKeys: allowed }) };
}

async function start(args: CliArgs): Promise<number> {
  const logger = pino({ level: args.logLevel });
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
    logger,
    autoMigrate: args.autoMigrate,
    registry: createDefaultRegistry({ rawSql: args.rawSql }),
    ...(args.synchronous === undefined ? {} : { synchronous: args.synchronous }),
    ...(args.http === undefined ? {} : { http: { ...args.http, allowRemote: args.httpAllowRemote } }),
    ...(args.endpoints === undefined ? {} : { endpoints: args.endpoints }),
    ...(curve === undefined ? {} : { curve }),
  });
  logger.info(
    {
      db: node.paths.dbPath,
      role: node.role,
      epoch: node.epoch,
      endpoints: node.primaryEndpoints,
      synchronous: args.synchronous ?? 'FULL',
      autoMigrate: args.autoMigrate,
      rawSql: args.rawSql,
      http: node.httpAddress ?? null,
      curve: curve !== undefined,
    },
    'scribe started',
  );
  node.on((event) => logger.info({ event }, event.type));
  await new Promise<void>((resolveStop) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'shutting down');
      resolveStop();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  const forced = setTimeout(() => {
    logger.error('graceful shutdown took longer than 10 s; exiting');
    process.exit(1);
  }, 10_000);
  forced.unref();
  await node.close();
  return 0;
}

async function status(args: CliArgs): Promise<number> {
  const report = await getStatus(args.db, args.timeoutMs, readCurveKeys(args.curveKeysFile));
  process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
  return report.ok ? 0 : 1;
}

function migrate(args: CliArgs): number {
  const paths = resolveRuntimePaths(args.db);
  ensurePrivateDir(paths.runtimeDir);
  mkdirSync(dirname(paths.dbPath), { recursive: true });
  const lock = new PrimaryLock({ path: paths.lockPath });
  if (lock.tryAcquire() === undefined) {
    process.stderr.write(`a primary is running on ${paths.dbPath}; it applies migrations itself when it starts\n`);
    return 1;
  }
  try {
    const store = Store.open({ path: paths.dbPath, autoMigrate: false });
    try {
      const before = store.schemaVersion();
      const { applied } = store.migrate();
      process.stdout.write(
        applied.length === 0
          ? `${paths.dbPath}: schema version ${before}, nothing to apply\n`
          : `${paths.dbPath}: applied ${applied.join(', ')}; schema version ${store.schemaVersion()}\n`,
      );
    } finally {
      store.close();
    }
  } finally {
    lock.release();
  }
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`scribe: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  switch (args.command) {
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    case 'start':
      return start(args);
    case 'status':
      return status(args);
    case 'migrate':
      return migrate(args);
    case 'keygen': {
      const keys = curveKeyPair();
      process.stdout.write(`${JSON.stringify({ publicKey: keys.publicKey, secretKey: keys.secretKey }, null, 2)}\n`);
      return 0;
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`scribe: ${e instanceof Error ? e.message : String(e)}\n`);
    let cause = e instanceof Error ? e.cause : undefined;
    while (cause instanceof Error) {
      process.stderr.write(`  caused by: ${cause.message}\n`);
      cause = cause.cause;
    }
    process.exitCode = 1;
  },
);
