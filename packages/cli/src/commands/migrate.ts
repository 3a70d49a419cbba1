import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Option, type Command } from 'commander';
import { ensurePrivateDir, resolveRuntimePaths } from '@scribe/node';
import { PrimaryLock, Store, migrationLabel, type ScribePlugin } from '@scribe/store';
import { loadPlugins, pluginOption, pluginSpecs } from '../plugin-specs.js';
import { scribeCommand, setAction } from '../scribe-command.js';
import { dbOption, stringOption } from '../shared-options.js';

/** `scribe migrate`: apply pending migrations under the primary lock. */
export function migrateCommand(): Command {
  const cmd = scribeCommand('migrate', 'apply pending migrations (takes the primary lock; refuses while a primary runs)')
    .addOption(dbOption())
    .addOption(new Option('--create', 'create the database (and its directory) when it does not exist'))
    .addOption(pluginOption());
  return setAction(cmd, async (c) => migrate(stringOption(c, 'db')!, c.getOptionValue('create') === true, await loadPlugins(pluginSpecs(c))));
}

function migrate(db: string, create: boolean, plugins: readonly ScribePlugin[]): number {
  const paths = resolveRuntimePaths(db);
  // A mistyped path must not leave a new directory and an empty database behind.
  if (!create && !existsSync(paths.dbPath)) {
    process.stderr.write(`scribe migrate: no database at ${paths.dbPath}; check --db, or give --create to create it\n`);
    return 1;
  }
  mkdirSync(dirname(paths.dbPath), { recursive: true });
  ensurePrivateDir(paths.runtimeDir);
  const lock = new PrimaryLock({ path: paths.lockPath });
  if (lock.tryAcquire() === undefined) {
    process.stderr.write(`a primary is running on ${paths.dbPath}; it applies migrations itself when it starts\n`);
    return 1;
  }
  try {
    const store = Store.open({ path: paths.dbPath, autoMigrate: false, plugins });
    try {
      const before = store.schemaVersion();
      const { applied } = store.migrate();
      process.stdout.write(
        applied.length === 0
          ? `${paths.dbPath}: schema version ${before}, nothing to apply\n`
          : `${paths.dbPath}: applied ${applied.map(migrationLabel).join(', ')}; schema version ${store.schemaVersion()}\n`,
      );
    } finally {
      store.close();
    }
  } finally {
    lock.release();
  }
  return 0;
}
