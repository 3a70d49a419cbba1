import type { Command } from 'commander';
import { backupCommand } from './backup.js';
import { keygenCommand } from './keygen.js';
import { migrateCommand } from './migrate.js';
import { restoreCommand } from './restore.js';
import { startCommand } from './start.js';
import { statusCommand } from './status.js';
import { topCommand } from './top.js';

/**
 * Every sub-command of `scribe`, in the order its help lists them. To add one: write
 * `commands/<name>.ts` exporting a function that builds it with `scribeCommand` and
 * `setAction`, and add that function here.
 */
export const COMMANDS: ReadonlyArray<() => Command> = [
  startCommand,
  statusCommand,
  topCommand,
  migrateCommand,
  backupCommand,
  restoreCommand,
  keygenCommand,
];
