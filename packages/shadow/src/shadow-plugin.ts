import { definePlugin, type ScribePlugin } from '@scribe/store';
import { SHADOW_MIGRATIONS } from './shadow-migrations.js';
import { ShadowSessions } from './shadow-sessions.js';
import { registerShadowWrites } from './shadow-writes.js';

/** The plugin's name, and the namespace of its migrations. */
export const SHADOW_PLUGIN_NAME = '@scribe/shadow';
/** Default age past which an open session counts as abandoned and is reaped: 15 minutes. */
export const DEFAULT_REAP_AFTER_MS = 15 * 60_000;
/** Default time between two reaps: one minute. */
export const DEFAULT_REAP_INTERVAL_MS = 60_000;

/** Options of {@link shadowPlugin}. */
export interface ShadowPluginOptions {
  /** Sessions opened at least this long ago are closed by the reaper. Default {@link DEFAULT_REAP_AFTER_MS}; 0 reaps every session. */
  reapAfterMs?: number;
  /** Time between two reaps (on the primary only). Default {@link DEFAULT_REAP_INTERVAL_MS}. */
  intervalMs?: number;
  /** Close writes a reap keeps in flight. Default `DEFAULT_REAP_CONCURRENCY`. */
  reapConcurrency?: number;
}

function check(name: string, value: unknown, min: number): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < min)) {
    throw new TypeError(`Expected '${name}' to be a number of ${min} or more, got ${String(value)} (${typeof value})`);
  }
}

/**
 * The shadow-sessions plugin: the `_shadow_sessions` migration, the five shadow
 * writes, and a reaper that closes sessions older than `reapAfterMs` every
 * `intervalMs`, on the primary only. {@link plugin} is this with the defaults.
 */
export function shadowPlugin(options: ShadowPluginOptions = {}): ScribePlugin {
  check('reapAfterMs', options.reapAfterMs, 0);
  check('intervalMs', options.intervalMs, 1);
  check('reapConcurrency', options.reapConcurrency, 1);
  const reapAfterMs = options.reapAfterMs ?? DEFAULT_REAP_AFTER_MS;
  return Object.freeze(
    definePlugin({
      name: SHADOW_PLUGIN_NAME,
      migrations: SHADOW_MIGRATIONS,
      register: (registry) => registerShadowWrites(registry),
      maintenance: [
        {
          name: 'reap',
          intervalMs: options.intervalMs ?? DEFAULT_REAP_INTERVAL_MS,
          run: (querier) =>
            new ShadowSessions(querier, options.reapConcurrency === undefined ? {} : { reapConcurrency: options.reapConcurrency }).reap(reapAfterMs),
        },
      ],
    }),
  );
}

/** The shadow-sessions plugin with the default reaping (sessions older than 15 minutes, every minute). */
export const plugin: ScribePlugin = shadowPlugin();
