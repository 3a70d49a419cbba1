import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { backupDatabase, inspectDatabase } from '@scribe/store';
import { assertIntact, describeFacts } from '../database-facts.js';
import { fsyncDir } from '../database-restore.js';
import { scribeCommand, setAction } from '../scribe-command.js';
import { dbOption, stringOption } from '../shared-options.js';

/** `scribe backup`: a consistent online copy of the database, verified, owner-only. */
export function backupCommand(): Command {
  const cmd = scribeCommand('backup', 'copy the database to a file while nodes keep writing (a consistent snapshot), then verify the copy')
    .addOption(dbOption())
    .addOption(new Option('--out <file>', 'the backup file to write (mode 0600)').makeOptionMandatory())
    .addOption(new Option('--force', 'replace the --out file if it exists'))
    .addOption(new Option('--json', 'print what was written as JSON'));
  return setAction(cmd, (c) => {
    const db = resolve(stringOption(c, 'db')!);
    const out = resolve(stringOption(c, 'out')!);
    if (!existsSync(db)) {
      process.stderr.write(`scribe backup: no database at ${db}; check --db\n`);
      return 1;
    }
    if (existsSync(out) && c.getOptionValue('force') !== true) {
      process.stderr.write(`scribe backup: ${out} exists; give --force to replace it\n`);
      return 1;
    }
    // Into a temporary file beside --out, renamed once verified: --out is never half-written.
    const tmp = `${out}.${process.pid}.tmp`;
    backupDatabase(db, tmp);
    let facts;
    try {
      facts = { ...inspectDatabase(tmp), path: out };
      assertIntact(facts, 'the backup');
      renameSync(tmp, out);
      fsyncDir(dirname(out));
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    process.stdout.write(
      c.getOptionValue('json') === true ? `${JSON.stringify({ source: db, ...facts }, null, 2)}\n` : `backed up ${db} to ${out}: ${describeFacts(facts)}\n`,
    );
    return 0;
  });
}
