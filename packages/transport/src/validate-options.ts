import { describe } from '@scribe/protocol';

/**
 * Returns `value`, or `fallback` when it is undefined; throws a TypeError that says
 * what to change when it is not an integer of at least `min`.
 */
export function integerOption(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new TypeError(`Expected '${name}' to be an integer from ${min} and up, got ${describe(value)}`);
  }
  return value;
}

/** Throws a TypeError naming `name` unless `value` is a non-empty string. */
export function endpointOption(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`Expected '${name}' to be a ZeroMQ endpoint such as 'ipc:///path/router.sock', got ${describe(value)}`);
  }
  return value;
}
