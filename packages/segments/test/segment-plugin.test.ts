import { describe, expect, it } from 'vitest';
import { WriteRegistry } from '@scribe/store';
import segmentsDefault, { SEGMENT_MIGRATIONS, SEGMENT_WRITE_NAMES, plugin, segmentsPlugin } from '@scribe/segments';

describe('the segments plugin', () => {
  it('is the default export, named @scribe/segments, with its migration and its writes, and no sweep', () => {
    expect(segmentsDefault).toBe(plugin);
    expect(plugin.name).toBe('@scribe/segments');
    expect(plugin.migrations).toBe(SEGMENT_MIGRATIONS);
    const registry = new WriteRegistry();
    plugin.register!(registry);
    expect(registry.names().sort()).toEqual(Object.values(SEGMENT_WRITE_NAMES).sort());
    expect(plugin.maintenance).toBeUndefined();
    expect(segmentsPlugin()).toMatchObject({ name: plugin.name, migrations: plugin.migrations });
  });
});
