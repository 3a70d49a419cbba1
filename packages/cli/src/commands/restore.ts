import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { ensurePrivateDir, readDiscovery, resolveRuntimePaths } from '@scribe/node';
import { inspectDatabase, PrimaryLock } from '@scribe/store';
import { assertIntact, describeFacts } from '../database-facts.js';
import { replaceDatabase } from '../database-restore.js';
import { processesUsingFile } from '../processes-using-file.js';
import { scribeCommand, setAction } from '../scribe-command.js';
import { dbOption, stringOption } from '../shared-options.js';

/** `scribe restore`: put a backup in place of the database, while no node runs on it. */
export function restoreCommand(): Command {
  const cmd = scribeCommand('restore', 'replace the database with a backup (refuses while any node runs on it; keeps the old file as <db>.bak-<time>)')
    .addOption(dbOption())
    .addOption(new Option('--from <file>', 'the backup to restore (as scribe backup writes it)').makeOptionMandatory());
  return setAction(cmd, (c) => restore(resolve(stringOption(c, 'db')!), resolve(stringOption(c, 'from')!)));
}

function fail(message: string): number {
  process.stderr.write(`scribe restore: ${message}\n`);
  return 1;
}

function restore(db: string, from: string): number {
  if (!existsSync(from)) return fail(`no backup at ${from}; check --from`);
  if (existsSync(`${from}-wal`) && statSync(`${from}-wal`).size > 0) {
    return fail(`${from} has a WAL file beside it (a live database, or one not closed cleanly); copy it with 'scribe backup --db ${from} --out FILE' and restore from that`);
  }
  if (!existsSync(dirname(db))) return fail(`the directory of --db ${db} does not exist`);
  const source = inspectDatabase(from);
  assertIntact(source, 'the backup');
  if (source.schemaVersion === 0) return fail(`${from} is not a scribe database (it records no migrations)`);

  const paths = resolveRuntimePaths(db);
  ensurePrivateDir(paths.runtimeDir);
  // Holding the primary lock for the whole swap: no node is primary now, and none can become one meanwhile.
  const lock = new PrimaryLock({ path: paths.lockPath });
  if (lock.tryAcquire() === undefined) {
    const d = readDiscovery(paths.discoveryPath);
    return fail(`a node runs on ${db} as primary${d === undefined ? '' : ` (pid ${d.pid})`}; stop every node on it first`);
  }
  try {
    const users = processesUsingFile([db, `${db}-wal`]);
    if (users !== undefined && users.length > 0) {
      return fail(`processes ${users.join(', ')} have ${db} open (scribe secondaries or other programs); stop them first`);
    }
    if (users === undefined) {
      process.stderr.write('scribe restore: cannot see which processes have the database open on this system (no /proc); make sure no node runs on it\n');
    }
    const { previous } = replaceDatabase(db, from, (copy) => assertIntact(inspectDatabase(copy), 'the copy of the backup'));
    const restored = { ...inspectDatabase(db), path: db };
    process.stdout.write(
      `restored ${db} from ${from}: ${describeFacts(restored)}\n` +
        (previous === undefined ? '' : `the previous database is kept as ${previous} (delete it once the restored one serves)\n`),
    );
    return 0;
  } finally {
    lock.release();
  }
}
