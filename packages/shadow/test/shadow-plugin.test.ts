import { describe, expect, it } from 'vitest';
import { WriteRegistry } from '@scribe/store';
import shadowDefault, { DEFAULT_REAP_AFTER_MS, DEFAULT_REAP_INTERVAL_MS, SHADOW_MIGRATIONS, SHADOW_WRITE_NAMES, plugin, shadowPlugin } from '@scribe/shadow';

describe('the shadow plugin', () => {
  it('is the default export, named @scribe/shadow, with its migration, its writes and a reaper at the default interval', () => {
    expect(shadowDefault).toBe(plugin);
    expect(plugin.name).toBe('@scribe/shadow');
    expect(plugin.migrations).toBe(SHADOW_MIGRATIONS);
    const registry = new WriteRegistry();
    plugin.register!(registry);
    expect(registry.names().sort()).toEqual(Object.values(SHADOW_WRITE_NAMES).sort());
    expect(plugin.maintenance).toEqual([{ name: 'reap', intervalMs: DEFAULT_REAP_INTERVAL_MS, run: expect.any(Function) }]);
    expect(DEFAULT_REAP_AFTER_MS).toBe(15 * 60_000);
  });

  it('takes the reaper interval from the factory, and refuses options it cannot use', () => {
    expect(shadowPlugin({ reapAfterMs: 0, intervalMs: 250 }).maintenance![0]!.intervalMs).toBe(250);
    expect(() => shadowPlugin({ intervalMs: 0 })).toThrow("Expected 'intervalMs' to be a number of 1 or more, got 0 (number)");
    expect(() => shadowPlugin({ reapAfterMs: -1 })).toThrow("Expected 'reapAfterMs' to be a number of 0 or more, got -1 (number)");
    expect(() => shadowPlugin({ reapConcurrency: Number.NaN })).toThrow(/'reapConcurrency'/);
  });
});
