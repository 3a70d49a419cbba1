import { describe, expect, it } from 'vitest';
import { WriteRegistry } from '@scribe/store';
import datastoresDefault, { DATASTORE_MIGRATIONS, DATASTORE_WRITES, DEFAULT_PURGE_INTERVAL_MS, datastoresPlugin, plugin } from '@scribe/datastores';

describe('the datastores plugin', () => {
  it('is the default export, named @scribe/datastores, with its migration, its writes and a purge at the default interval', () => {
    expect(datastoresDefault).toBe(plugin);
    expect(plugin.name).toBe('@scribe/datastores');
    expect(plugin.migrations).toBe(DATASTORE_MIGRATIONS);
    const registry = new WriteRegistry();
    plugin.register!(registry);
    expect(registry.names().sort()).toEqual(DATASTORE_WRITES.map((w) => w.name).sort());
    expect(plugin.maintenance).toEqual([{ name: 'purge expired', intervalMs: DEFAULT_PURGE_INTERVAL_MS, run: expect.any(Function) }]);
  });

  it('takes the purge interval from the factory, and refuses one it cannot use', () => {
    expect(datastoresPlugin({ purgeIntervalMs: 50 }).maintenance![0]!.intervalMs).toBe(50);
    expect(() => datastoresPlugin({ purgeIntervalMs: 0 })).toThrow("Expected 'purgeIntervalMs' to be a number above 0, got 0 (number)");
  });
});
