import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Option, type Command } from 'commander';
import { resolvePlugins } from '@scribe/node';
import { describe } from '@scribe/protocol';
import { definePlugin, isScribePlugin, type ScribePlugin } from '@scribe/store';
import { UsageError } from './usage-error.js';

/** The environment variable that lists plugin specs, comma-separated, when no `--plugin` is given. */
export const PLUGINS_ENV = 'SCRIBE_PLUGINS';

/** `--plugin <spec>`, repeatable: a package name or a path to a module exporting a plugin (or a list). */
export function pluginOption(): Option {
  return new Option(
    '--plugin <spec>',
    `load a plugin: a package name (@scribe/shadow) or a path (./my-plugin.js) whose default or 'plugin' export is a plugin or a list of them; repeatable (env: ${PLUGINS_ENV}, comma-separated)`,
  ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
}

/** Plugin specs and where they came from (for messages): `--plugin` or `SCRIBE_PLUGINS`. */
export interface PluginSpecs {
  readonly specs: readonly string[];
  readonly from: '--plugin' | typeof PLUGINS_ENV;
}

/** The plugin specs of a command: its `--plugin` flags, or else `SCRIBE_PLUGINS` split at commas. */
export function pluginSpecs(cmd: Command, env: NodeJS.ProcessEnv = process.env): PluginSpecs {
  const flags = cmd.getOptionValue('plugin') as string[] | undefined;
  if (flags !== undefined && flags.length > 0) return { specs: flags, from: '--plugin' };
  const specs = (env[PLUGINS_ENV] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return { specs, from: PLUGINS_ENV };
}

/** True for a spec that names a file (`./x.js`, `../x.mjs`, `/abs/x.js`, `file:…`) rather than a package. */
function isPathSpec(spec: string): boolean {
  return spec.startsWith('.') || isAbsolute(spec) || spec.startsWith('file:');
}

/**
 * The file a spec names, resolved from `cwd`: a path relative to it, or a package as
 * `require.resolve` finds it from there (its `exports` must offer a `default` or
 * `require` condition, as the @scribe packages do).
 */
function resolveSpec(spec: string, cwd: string): string {
  if (spec.startsWith('file:')) return spec;
  if (isPathSpec(spec)) return pathToFileURL(resolve(cwd, spec)).href;
  return pathToFileURL(createRequire(join(cwd, 'noop.js')).resolve(spec)).href;
}

/** The plugins a module exports: its default export, else its `plugin` export; each a plugin or a list of plugins. */
function pluginsOf(spec: string, mod: Record<string, unknown>): ScribePlugin[] {
  // A CommonJS module's exports arrive as `default`; look inside it for `plugin` too.
  const inner = mod.default !== null && typeof mod.default === 'object' && !Array.isArray(mod.default) && !isScribePlugin(mod.default)
    ? (mod.default as Record<string, unknown>).plugin
    : undefined;
  const exported = mod.default !== undefined && (isScribePlugin(mod.default) || Array.isArray(mod.default)) ? mod.default : (mod.plugin ?? inner);
  if (exported === undefined) {
    throw new UsageError(`--plugin ${spec}: the module has no default export and no 'plugin' export; export a scribe plugin { name, migrations?, register?, maintenance? } or a list of them`);
  }
  const list = Array.isArray(exported) ? exported : [exported];
  if (list.length === 0) throw new UsageError(`--plugin ${spec}: its export is an empty list; export at least one scribe plugin`);
  return list.map((p: unknown, i) => {
    try {
      return definePlugin(p as ScribePlugin);
    } catch (e) {
      const where = Array.isArray(exported) ? `item ${i} of its export` : 'its export';
      throw new UsageError(`--plugin ${spec}: ${where} is not a scribe plugin: ${(e as Error).message} (got ${describe(p)})`);
    }
  });
}

/**
 * Loads every spec, in order, and returns their plugins in that order (a module may
 * give several). A spec that cannot be resolved or imported, or that exports no
 * plugin, throws a {@link UsageError} naming it, so `scribe start` exits 2 before
 * opening anything.
 */
export async function loadPlugins(given: PluginSpecs, cwd: string = process.cwd()): Promise<ScribePlugin[]> {
  const plugins: ScribePlugin[] = [];
  const origin: string[] = [];
  for (const bare of given.specs) {
    const spec = given.from === '--plugin' ? bare : `${bare} (from ${PLUGINS_ENV})`;
    let mod: Record<string, unknown>;
    try {
      mod = (await import(resolveSpec(bare, cwd))) as Record<string, unknown>;
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).name;
      throw new UsageError(
        `--plugin ${spec}: cannot load it from ${cwd} (${reason}: ${(e as Error).message.split('\n')[0]}); give an installed package name or a path to a module`,
      );
    }
    for (const p of pluginsOf(spec, mod)) {
      plugins.push(p);
      origin.push(bare);
    }
  }
  try {
    // What openNode would refuse (two plugins with one name, two claims on one write), refused now as a usage error.
    resolvePlugins({ plugins });
  } catch (e) {
    const message = (e as Error).message.replace(/plugins\[(\d+)\]/g, (_, i: string) => `'${plugins[Number(i)]?.name ?? '?'}' from ${origin[Number(i)] ?? '?'}`);
    throw new UsageError(`${given.from}: ${message}`);
  }
  return plugins;
}
