// Type-checks the tests (vitest runs them without checking types): every
// packages/*/test/tsconfig.json and test/tsconfig.json, with the strict base config.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const configs = [
  ...readdirSync('packages').map((p) => `packages/${p}/test/tsconfig.json`),
  'test/tsconfig.json',
].filter((c) => existsSync(c));
let failed = 0;
for (const config of configs) {
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', config], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.stderr.write(`type-checked the tests of ${configs.length} projects: ${failed === 0 ? 'ok' : `${failed} failed`}\n`);
process.exitCode = failed === 0 ? 0 : 1;
