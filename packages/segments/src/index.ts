/**
 * @packageDocumentation
 * Segment logs: append-only per-session logs of JSON entries, ordered by arrival at
 * the primary, with truncate, entry counts and debug traces kept apart.
 *
 * Wiring: add {@link plugin} to `openNode({ plugins })` or `scribe start --plugin
 * @scribe/segments`, then `new SegmentLogs(node.querier)`.
 */
export { plugin, plugin as default, segmentsPlugin, SEGMENT_PLUGIN_NAME } from './segment-plugin.js';
export { SegmentLogs, type AppendOptions, type CreateSegmentOptions, type SegmentTrace } from './segment-logs.js';
export {
  SegmentLogError,
  SEGMENT_ERROR_CODES,
  isSegmentErrorCode,
  toSegmentLogError,
  type SegmentErrorCode,
  type SegmentLogErrorOptions,
} from './segment-errors.js';
export {
  CreateSegment,
  AppendSegmentEntry,
  TruncateSegment,
  AppendSegmentTrace,
  SEGMENT_WRITES,
  SEGMENT_WRITE_NAMES,
  MAX_ENTRIES_PER_WRITE,
  registerSegmentWrites,
  type CreateSegmentResult,
  type AppendSegmentResult,
  type TruncateSegmentResult,
} from './segment-writes.js';
export { SEGMENT_MIGRATIONS } from './segment-migrations.js';
export { SEGMENT_NAME, isSegmentName } from './segment-names.js';
