import { readFileSync } from 'node:fs';

/**
 * The version of the `scribe` command: the `version` of `@scribe/cli`'s package.json,
 * which ships beside `dist/` in every install.
 */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}
