import { WriteError, type PluginInfo } from '@scribe/protocol';
import {
  AGENT_WRITES,
  APPLICATION_NAMESPACE,
  BUILTIN_MIGRATIONS,
  BUILTIN_NAMESPACE,
  WriteRegistry,
  checkNotNewer,
  createDefaultRegistry,
  definePlugin,
  migrationLabel,
  missingMigrations,
  orderMigrations,
  type MaintenanceTask,
  type Migration,
  type MigrationId,
  type OrderedMigration,
  type ScribePlugin,
} from '@scribe/store';

/** The parts of the node's options that plugins extend. */
export interface PluginOptions {
  readonly plugins?: readonly ScribePlugin[];
  readonly registry?: WriteRegistry;
  readonly migrations?: readonly Migration[];
  readonly maintenance?: readonly MaintenanceTask[];
}

/** A node's plugins, checked and combined with its plain options. */
export interface ResolvedPlugins {
  /** The plugins, each once, in the order given. */
  readonly plugins: readonly ScribePlugin[];
  /** The registry option's writes (default: scribe's built-ins) and every plugin's. */
  readonly registry: WriteRegistry;
  /** The maintenance option's tasks and every plugin's (named `<plugin>: <task>`). */
  readonly maintenance: readonly MaintenanceTask[];
  /** Every migration this process knows, in the order a primary applies them. */
  readonly known: readonly OrderedMigration[];
}

const BUILTIN_WRITE_NAMES = new Set([...AGENT_WRITES.map((w) => w.name), 'Exec', 'ExecBatch']);

function positiveInterval(where: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`Expected '${where}.intervalMs' to be a number above 0, got ${String(value)} (${typeof value})`);
  }
}

/**
 * Checks the plugins and combines them with the plain options. The same plugin
 * object given twice counts once. Refused with a TypeError naming both claimants: two
 * different plugins with the same name (they would share a migration namespace), and
 * two plugins (or a plugin and the registry option) registering the same write name.
 * The registry option is not changed: the combined registry is a new one.
 */
export function resolvePlugins(options: PluginOptions): ResolvedPlugins {
  const given = options.plugins ?? [];
  if (!Array.isArray(given)) throw new TypeError(`Expected 'plugins' to be a list of scribe plugins, got ${typeof given}`);
  const plugins: ScribePlugin[] = [];
  const byName = new Map<string, { plugin: ScribePlugin; at: number }>();
  for (const [i, p] of given.entries()) {
    let plugin: ScribePlugin;
    try {
      plugin = definePlugin(p);
    } catch (e) {
      throw new TypeError(`plugins[${i}]: ${(e as Error).message}`, { cause: e });
    }
    const seen = byName.get(plugin.name);
    if (seen?.plugin === plugin) continue;
    if (seen !== undefined) {
      throw new TypeError(
        `plugins[${seen.at}] and plugins[${i}] are two different plugins named '${plugin.name}': they would claim the same migration identities (${plugin.name}@1, …); pass one of them`,
      );
    }
    if (plugin.name === APPLICATION_NAMESPACE && (options.migrations?.length ?? 0) > 0) {
      throw new TypeError(
        `plugins[${i}] is named '${APPLICATION_NAMESPACE}', the namespace of the 'migrations' option, and both are given: they would claim the same migration identities; move the option's migrations into the plugin`,
      );
    }
    byName.set(plugin.name, { plugin, at: i });
    plugins.push(plugin);
  }

  const base = options.registry ?? createDefaultRegistry();
  const registry = new WriteRegistry();
  const owner = new Map<string, string>();
  for (const name of base.names()) {
    registry.register(base.get(name)!);
    owner.set(name, BUILTIN_WRITE_NAMES.has(name) ? "scribe's built-in writes" : "the 'registry' option");
  }
  for (const plugin of plugins) {
    if (plugin.register === undefined) continue;
    const own = new WriteRegistry();
    try {
      plugin.register(own);
    } catch (e) {
      throw new TypeError(`plugin '${plugin.name}': register failed: ${(e as Error).message}`, { cause: e });
    }
    for (const name of own.names()) {
      const claimed = owner.get(name);
      if (claimed !== undefined) {
        throw new TypeError(`write '${name}' is claimed by both ${claimed} and plugin '${plugin.name}'; a write name may be registered once`);
      }
      registry.register(own.get(name)!);
      owner.set(name, `plugin '${plugin.name}'`);
    }
  }

  const maintenance: MaintenanceTask[] = [...(options.maintenance ?? [])];
  for (const plugin of plugins) {
    for (const [i, task] of (plugin.maintenance ?? []).entries()) {
      const where = `plugin '${plugin.name}' maintenance[${i}]`;
      if (typeof task?.run !== 'function' || typeof task.name !== 'string') {
        throw new TypeError(`Expected ${where} to be { name, intervalMs, run }, got ${String(task)}`);
      }
      positiveInterval(where, task.intervalMs);
      maintenance.push({ name: `${plugin.name}: ${task.name}`, intervalMs: task.intervalMs, run: (q) => task.run(q) });
    }
  }

  const known = orderMigrations([
    { name: BUILTIN_NAMESPACE, migrations: BUILTIN_MIGRATIONS },
    ...plugins,
    ...(options.migrations === undefined || options.migrations.length === 0 ? [] : [{ name: APPLICATION_NAMESPACE, migrations: options.migrations }]),
  ]);
  return Object.freeze({ plugins: Object.freeze(plugins), registry, maintenance: Object.freeze(maintenance), known });
}

/**
 * Whether a secondary may forward writes on this file: every migration this process
 * knows must be recorded in it (a process may use a subset of the primary's plugins,
 * never more), and none of its namespaces may be newer than this code. Returns the
 * SCHEMA_MISMATCH naming what is missing or newer, or undefined when the file fits.
 */
export function schemaProblem(applied: readonly MigrationId[], known: readonly OrderedMigration[]): WriteError | undefined {
  try {
    checkNotNewer(applied, known);
  } catch (e) {
    if (e instanceof WriteError) return e;
    throw e;
  }
  const missing = missingMigrations(applied, known);
  if (missing.length === 0) return undefined;
  const list = missing
    .slice(0, 5)
    .map((m) => `${namespaceLabel(m.plugin)} version ${m.version} (${m.migration.name})`)
    .join(', ');
  const more = missing.length > 5 ? ` and ${missing.length - 5} more` : '';
  const plugins = [...new Set(missing.map((m) => m.plugin))].filter((p) => p !== BUILTIN_NAMESPACE && p !== APPLICATION_NAMESPACE);
  const fix =
    plugins.length > 0
      ? `start the primary with ${plugins.map((p) => `--plugin ${p}`).join(' ')} (or openNode({ plugins })) so it applies them`
      : 'upgrade the primary to this code, or migrate the database';
  return new WriteError(
    'SCHEMA_MISMATCH',
    `the database lacks ${list}${more}, which this process uses (${missing.map(migrationLabel).join(', ')}); ${fix}`,
  );
}

function namespaceLabel(plugin: string): string {
  return plugin === BUILTIN_NAMESPACE ? 'scribe' : plugin === APPLICATION_NAMESPACE ? 'application' : `plugin '${plugin}'`;
}

/** The plugins as `db.ping` and `db.member` report them: name and the schema version of its namespace. */
export function pluginInfos(plugins: readonly ScribePlugin[], versions: (name: string) => number): PluginInfo[] {
  return plugins.map((p) => ({ name: p.name, schema_version: versions(p.name) }));
}

/** The newest version of each plugin's migrations this process knows (0 without migrations). */
export function knownVersion(plugin: ScribePlugin): number {
  return (plugin.migrations ?? []).reduce((max, m) => Math.max(max, m.version), 0);
}
