import { definePlugin, type ScribePlugin } from '@scribe/store';
import { SEGMENT_MIGRATIONS } from './segment-migrations.js';
import { registerSegmentWrites } from './segment-writes.js';

/** The plugin's name, and the namespace of its migrations. */
export const SEGMENT_PLUGIN_NAME = '@scribe/segments';

/**
 * The segment-logs plugin: the segment tables and the four segment writes. Segment
 * logs need no sweep (they are kept until the application removes them), so it has
 * no maintenance and no options; the factory exists for symmetry with the others.
 */
export function segmentsPlugin(): ScribePlugin {
  return Object.freeze(
    definePlugin({
      name: SEGMENT_PLUGIN_NAME,
      migrations: SEGMENT_MIGRATIONS,
      register: (registry) => registerSegmentWrites(registry),
    }),
  );
}

/** The segment-logs plugin. */
export const plugin: ScribePlugin = segmentsPlugin();
