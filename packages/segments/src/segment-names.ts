/**
 * A valid session or segment id: 1–200 characters of letters, digits and `_ . : -`,
 * starting with a letter, digit or `_` (UUIDs, `turn-12`, `agent:planner.log`).
 */
export const SEGMENT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,199}$/;

/** True when `value` is a valid session or segment id. */
export function isSegmentName(value: unknown): value is string {
  return typeof value === 'string' && SEGMENT_NAME.test(value);
}
