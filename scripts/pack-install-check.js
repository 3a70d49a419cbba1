// `npm run test:pack` (CI runs it after `npm test`): scribe as a user outside this
// repository gets it.
//   1. `npm run pack` into a temp directory;
//   2. an empty application in another temp directory (outside the repository) runs
//      `npm install <packed>/*.tgz` (every @scribe/* dependency must resolve among the
//      tarballs; better-sqlite3 and zeromq come from the registry or npm's cache);
//   3. the tarballs hold no .tsbuildinfo, every source map's sources and every
//      relative link of every shipped markdown file exist in the installed package;
//   4. the application's TypeScript (scripts/consumer-app/app.ts) type-checks against
//      the installed .d.ts with skipLibCheck: false, and compiles;
//   5. it runs as two processes (primary + secondary writing and reading);
//   6. the `scribe` bin works there: `npx scribe --version` and `help`, the installed bin running
//      `start` as a daemon, `npx scribe status` against it, and SIGTERM ends the
//      daemon with exit code 0.
// Exits non-zero, naming what failed. `--keep` leaves the temp directories.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const keep = process.argv.includes('--keep');
const work = mkdtempSync(join(tmpdir(), 'scribe-pack-check-'));
const packed = join(work, 'packed');
const app = join(work, 'app');
const failures = [];
const step = (line) => process.stdout.write(`pack-install-check: ${line}\n`);
const check = (ok, what) => {
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${what}\n`);
  if (!ok) failures.push(what);
};

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000, ...options });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Every file under `dir`, relative paths. */
const walk = (dir) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name));

try {
  step(`packing into ${packed}`);
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'pack.js'), '--out', packed], { stdio: 'inherit' });
  const tarballs = readdirSync(packed).filter((f) => f.endsWith('.tgz')).map((f) => join(packed, f));

  cpSync(join(ROOT, 'scripts', 'consumer-app'), app, { recursive: true });
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'scribe-consumer', private: true, type: 'module', allowScripts: { 'better-sqlite3': true, zeromq: true } }, null, 2),
  );
  step(`npm install ${tarballs.length} tarballs into ${app} (better-sqlite3 may build from source: a minute or two)`);
  const install = run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs], { cwd: app });
  check(install.status === 0, 'npm install of every tarball in an empty app outside the repository');
  if (install.status !== 0) throw new Error(install.out);
  check(!install.out.includes('not yet covered by allowScripts'), 'no install-script warning with the documented allowScripts');

  const installed = join(app, 'node_modules', '@scribe');
  const files = walk(installed);
  check(!files.some((f) => f.endsWith('.tsbuildinfo')), 'no .tsbuildinfo in any tarball');
  const badMaps = [];
  for (const map of files.filter((f) => f.endsWith('.map'))) {
    for (const source of JSON.parse(readFileSync(map, 'utf8')).sources) {
      if (!existsSync(resolve(dirname(map), source))) badMaps.push(`${map} -> ${source}`);
    }
  }
  check(badMaps.length === 0, `every source map points to shipped sources${badMaps.length ? `: ${badMaps.slice(0, 3).join(', ')}` : ''}`);
  const badLinks = [];
  for (const md of files.filter((f) => f.endsWith('.md'))) {
    for (const [, href] of readFileSync(md, 'utf8').matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(href) || href.startsWith('#')) continue;
      if (!existsSync(resolve(dirname(md), href.split('#')[0]))) badLinks.push(`${md.slice(installed.length + 1)} -> ${href}`);
    }
  }
  check(badLinks.length === 0, `every relative link in the shipped markdown resolves${badLinks.length ? `: ${badLinks.slice(0, 3).join(', ')}` : ''}`);
  const licenses = readdirSync(installed).filter((p) => existsSync(join(installed, p, 'LICENSE')));
  check(licenses.length === tarballs.length, `a LICENSE in every package (${licenses.length}/${tarballs.length})`);

  step('type-checking and compiling the application (skipLibCheck: false)');
  const tsc = run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app]);
  check(tsc.status === 0, `the application type-checks against the installed .d.ts${tsc.status === 0 ? '' : `:\n${tsc.out}`}`);

  step('running the application as two processes');
  const db = join(app, 'data', 'app.db');
  const twoProcesses = run(process.execPath, [join(app, 'dist', 'app.js'), db], { cwd: app, timeout: 60_000 });
  process.stdout.write(twoProcesses.stdout.replace(/^/gm, '    '));
  check(twoProcesses.status === 0, `two processes (primary + secondary) write and read${twoProcesses.status === 0 ? '' : `:\n${twoProcesses.stderr}`}`);

  step('npx scribe in the application');
  const cliVersion = JSON.parse(readFileSync(join(ROOT, 'packages', 'cli', 'package.json'), 'utf8')).version;
  const version = run('npx', ['--no-install', 'scribe', '--version'], { cwd: app });
  check(version.status === 0 && version.stdout.trim() === cliVersion, `npx scribe --version prints ${cliVersion}${version.status === 0 ? ` (got ${version.stdout.trim()})` : `: ${version.out}`}`);
  const help = run('npx', ['--no-install', 'scribe', 'help'], { cwd: app });
  check(help.status === 0 && /usage: scribe/i.test(help.stdout), `npx scribe help${help.status === 0 ? '' : `: ${help.out}`}`);
  const daemonDb = join(app, 'data', 'daemon.db');
  // The daemon runs the installed bin itself, as a supervisor would (never through npm or npx).
  const daemon = spawn(join(app, 'node_modules', '.bin', 'scribe'), ['start', '--db', daemonDb], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
  let daemonOut = '';
  daemon.stdout.on('data', (d) => (daemonOut += d));
  daemon.stderr.on('data', (d) => (daemonOut += d));
  const daemonExit = new Promise((r) => daemon.once('exit', (code, signal) => r(code ?? signal)));
  const started = await Promise.race([
    new Promise((r) => {
      const poll = () => (daemonOut.includes('scribe started') ? r(true) : daemon.exitCode !== null ? r(false) : setTimeout(poll, 50));
      poll();
    }),
    new Promise((r) => setTimeout(() => r(false), 30_000).unref()),
  ]);
  check(started === true, `the installed bin (node_modules/.bin/scribe start) runs a daemon${started ? '' : `: ${daemonOut}`}`);
  const status = run('npx', ['--no-install', 'scribe', 'status', '--db', daemonDb, '--json'], { cwd: app });
  let statusJson;
  try {
    statusJson = JSON.parse(status.stdout);
  } catch {
    statusJson = undefined;
  }
  check(status.status === 0 && JSON.stringify(statusJson).includes('"primary"'), `npx scribe status reports the daemon as primary${status.status === 0 ? '' : `: ${status.out}`}`);
  daemon.kill('SIGTERM');
  const exit = await Promise.race([daemonExit, new Promise((r) => setTimeout(() => r('still running after 15 s'), 15_000).unref())]);
  check(exit === 0, `the daemon ends on SIGTERM with exit code 0 (got ${exit})`);
  if (exit !== 0) daemon.kill('SIGKILL');
} catch (e) {
  failures.push(e instanceof Error ? e.message : String(e));
  process.stderr.write(`${e instanceof Error ? e.message : e}\n`);
} finally {
  if (keep) step(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
step(failures.length === 0 ? 'all checks passed' : `${failures.length} failed`);
process.exitCode = failures.length === 0 ? 0 : 1;
