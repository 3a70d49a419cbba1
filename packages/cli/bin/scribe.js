#!/usr/bin/env node
// The `scribe` command's entry. It is committed (not built) so that npm can link
// the bin at install time, before `npm run build` has written dist/: npm skips a
// workspace bin whose target does not exist yet. It only loads the compiled CLI.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    `scribe: the CLI is not built (${fileURLToPath(main)} is missing).\n` +
      'In a clone of the repository, run `npm run build` (or `npm ci && npm run build`) first.\n',
  );
  process.exit(1);
}
await import(main.href);
