import { WriteError, describe } from '@scribe/protocol';

/**
 * Every code a {@link SegmentLogError} carries. Closed set: switch on it.
 *
 * INVALID_NAME, INVALID_ENTRY and INVALID_LENGTH (a negative or fractional length)
 * are checked locally before anything is sent; CORRUPT is found by a local read; the
 * rest are decided by the primary inside the write and mapped back from its
 * WriteError by {@link toSegmentLogError} (see the README's table).
 */
export const SEGMENT_ERROR_CODES = [
  /** No segment with this id in this session. Wire: NOT_FOUND. */
  'NOT_FOUND',
  /** An entry's stored text is not JSON, or a position is missing; `position` says where. */
  'CORRUPT',
  /** A session or segment id that is not a valid name (see `SEGMENT_NAME`). */
  'INVALID_NAME',
  /** An entry that JSON cannot represent (undefined, a function, a BigInt, a cycle). */
  'INVALID_ENTRY',
  /** `createSegment` of an id that exists (segment ids are unique across sessions). Wire: CONFLICT. */
  'ALREADY_EXISTS',
  /** `truncate` to more entries than the segment has, or a bad length. Wire: INVALID_PARAMS, field `params.length`. */
  'INVALID_LENGTH',
  /** `append` with `expectedCount` while the log holds another count: another writer extended it. Wire: CONFLICT. */
  'COUNT_MISMATCH',
] as const;

/** One of {@link SEGMENT_ERROR_CODES}. */
export type SegmentErrorCode = (typeof SEGMENT_ERROR_CODES)[number];

const CODE_SET: ReadonlySet<string> = new Set(SEGMENT_ERROR_CODES);

/** True when `value` is one of {@link SEGMENT_ERROR_CODES}. */
export function isSegmentErrorCode(value: unknown): value is SegmentErrorCode {
  return typeof value === 'string' && CODE_SET.has(value);
}

/** Options of {@link SegmentLogError}. */
export interface SegmentLogErrorOptions {
  sessionId?: string;
  segmentId?: string;
  /** For CORRUPT: the position of the first entry that cannot be decoded. */
  position?: number;
  /** The error underneath: the primary's WriteError, or JSON.parse's SyntaxError. */
  cause?: unknown;
}

/** The error every segment-log operation fails with for a domain reason. */
export class SegmentLogError extends Error {
  override readonly name = 'SegmentLogError';
  readonly code: SegmentErrorCode;
  readonly sessionId: string | undefined;
  readonly segmentId: string | undefined;
  readonly position: number | undefined;

  constructor(code: SegmentErrorCode, message: string, options: SegmentLogErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.sessionId = options.sessionId;
    this.segmentId = options.segmentId;
    this.position = options.position;
  }
}

/** `Method: CODE: text`: the domain code rides in the message, where the wire keeps it. */
export function taggedMessage(method: string, code: SegmentErrorCode, text: string): string {
  return `${method}: ${code}: ${text}`;
}

const TAGGED = /^[A-Za-z]+: ([A-Z_]+): ([\s\S]*)$/;

/** INVALID_PARAMS fields of the write schemas and the domain code each means. */
const FIELD_CODES: ReadonlyArray<readonly [prefix: string, code: SegmentErrorCode]> = [
  ['params.session_id', 'INVALID_NAME'],
  ['params.segment_id', 'INVALID_NAME'],
  ['params.entry', 'INVALID_ENTRY'],
  ['params.entries', 'INVALID_ENTRY'],
  ['params.length', 'INVALID_LENGTH'],
];

/**
 * Maps an error of one of the segment writes to a {@link SegmentLogError}: by the
 * tag in the message, else by the INVALID_PARAMS field. Anything else (TIMEOUT,
 * UNREACHABLE, …) is returned unchanged, keeping `isRetryable()`.
 */
export function toSegmentLogError(error: unknown, where: { sessionId: string; segmentId?: string }, operation: string): unknown {
  if (error instanceof SegmentLogError || !(error instanceof WriteError)) return error;
  const ids = { sessionId: where.sessionId, ...(where.segmentId === undefined ? {} : { segmentId: where.segmentId }), cause: error };
  const tagged = TAGGED.exec(error.message);
  if (tagged !== null && isSegmentErrorCode(tagged[1])) return new SegmentLogError(tagged[1], `${operation}: ${tagged[2]}`, ids);
  if (error.code === 'INVALID_PARAMS' && error.field !== undefined) {
    for (const [prefix, code] of FIELD_CODES) {
      if (error.field === prefix || error.field.startsWith(`${prefix}.`)) return new SegmentLogError(code, `${operation}: ${error.message}`, ids);
    }
  }
  return error;
}

/** `Expected …, got …` for a bad argument of a local call. */
export function argumentError(name: string, expected: string, value: unknown): TypeError {
  return new TypeError(`Expected '${name}' to be ${expected}, got ${describe(value)}`);
}
