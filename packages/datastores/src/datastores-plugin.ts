import { definePlugin, type ScribePlugin } from '@scribe/store';
import { registerDatastoreWrites } from './datastore-writes.js';
import { Datastores } from './datastores.js';
import { DATASTORE_MIGRATIONS } from './schema.js';

/** The plugin's name, and the namespace of its migrations. */
export const DATASTORES_PLUGIN_NAME = '@scribe/datastores';
/** Default time between two purges of expired temp datastores: one minute. */
export const DEFAULT_PURGE_INTERVAL_MS = 60_000;

/** Options of {@link datastoresPlugin}. */
export interface DatastoresPluginOptions {
  /** Time between two purges of expired temp datastores (on the primary only). Default {@link DEFAULT_PURGE_INTERVAL_MS}. */
  purgeIntervalMs?: number;
}

/**
 * The shared-datastores plugin: the datastore tables, the datastore and merge-pool writes, and
 * a purge of expired temp datastores every `purgeIntervalMs`, on the primary only.
 * (Expired datastores are invisible at once; the purge reclaims their rows.)
 * {@link plugin} is this with the defaults.
 */
export function datastoresPlugin(options: DatastoresPluginOptions = {}): ScribePlugin {
  const interval = options.purgeIntervalMs;
  if (interval !== undefined && (typeof interval !== 'number' || !Number.isFinite(interval) || interval <= 0)) {
    throw new TypeError(`Expected 'purgeIntervalMs' to be a number above 0, got ${String(interval)} (${typeof interval})`);
  }
  return Object.freeze(
    definePlugin({
      name: DATASTORES_PLUGIN_NAME,
      migrations: DATASTORE_MIGRATIONS,
      register: (registry) => registerDatastoreWrites(registry),
      maintenance: [
        { name: 'purge expired', intervalMs: interval ?? DEFAULT_PURGE_INTERVAL_MS, run: (querier) => new Datastores({ querier }).purgeExpired() },
      ],
    }),
  );
}

/** The shared-datastores plugin with the default purge interval (one minute). */
export const plugin: ScribePlugin = datastoresPlugin();
