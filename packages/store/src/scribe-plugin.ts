import { describe } from '@scribe/protocol';
import { BUILTIN_NAMESPACE, type Migration } from './migrations.js';
import type { Querier } from './querier.js';
import type { WriteRegistry } from './write-registry.js';

/**
 * Periodic work the node runs while it is primary, and only then: reaping abandoned
 * sessions, purging expired datastores. Libraries never start timers themselves;
 * they hand their sweeps to the node (in a plugin, or the node's `maintenance`
 * option), which starts them on promotion and stops them when the node stops being
 * primary.
 */
export interface MaintenanceTask {
  /** For logs. */
  readonly name: string;
  /** Time between the end of one run and the start of the next. */
  readonly intervalMs: number;
  /** The sweep; it writes through `querier` like any caller. A throw is logged, and the next run happens as planned. */
  run(querier: Querier): unknown;
}

/**
 * Everything a package (or an application) adds to a scribe node, in one object:
 *
 * - `name`: the plugin's identity, and the namespace of its migrations. Use the
 *   package name (`@scribe/shadow`, `my-app`). `scribe` is taken by the built-ins.
 * - `migrations`: its schema steps, versioned within the plugin from 1 (two plugins
 *   never collide on a number). The primary applies the ones the file lacks, after
 *   scribe's own, plugins in the order given, each plugin's by version; the file
 *   records each as (plugin name, version).
 * - `register(registry)`: registers its writes (`registry.register(defineWrite(…))`).
 *   Every process that uses the plugin calls it, so every process validates and
 *   types the writes the same way.
 * - `maintenance`: sweeps the node runs on the primary only, moving with the role.
 *
 * Hand plugins to `openNode({ plugins })` in a library, or to `scribe start --plugin`
 * for the daemon. The same plugin object twice is applied once; two plugins that
 * claim the same write name or the same name (migration namespace) are refused.
 */
export interface ScribePlugin {
  readonly name: string;
  readonly migrations?: readonly Migration[];
  register?(registry: WriteRegistry): unknown;
  readonly maintenance?: readonly MaintenanceTask[];
}

/** What a plugin's name may be: an npm-style package name, at most 214 characters. */
export const PLUGIN_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/i;

/** True when `value` has the shape of a {@link ScribePlugin} (a name, and the optional members of the right types). */
export function isScribePlugin(value: unknown): value is ScribePlugin {
  if (value === null || typeof value !== 'object') return false;
  const p = value as Record<string, unknown>;
  return (
    typeof p.name === 'string' &&
    (p.migrations === undefined || Array.isArray(p.migrations)) &&
    (p.register === undefined || typeof p.register === 'function') &&
    (p.maintenance === undefined || Array.isArray(p.maintenance))
  );
}

/**
 * Checks a plugin and returns it: a name that {@link PLUGIN_NAME} accepts and that is
 * not `scribe`, and members of the right types (a TypeError says what to change).
 * Migrations' versions and maintenance intervals are checked where they are used.
 */
export function definePlugin(plugin: ScribePlugin): ScribePlugin {
  if (!isScribePlugin(plugin)) {
    throw new TypeError(
      `Expected a scribe plugin { name, migrations?, register?(registry), maintenance? }, got ${describe(plugin)}`,
    );
  }
  if (!PLUGIN_NAME.test(plugin.name) || plugin.name.length > 214) {
    throw new TypeError(`Expected a plugin name like a package name (e.g. 'my-app' or '@org/pkg'), got ${JSON.stringify(plugin.name)}`);
  }
  if (plugin.name === BUILTIN_NAMESPACE) {
    throw new TypeError(`Expected a plugin name other than '${BUILTIN_NAMESPACE}' (scribe's own migrations use it)`);
  }
  return plugin;
}
