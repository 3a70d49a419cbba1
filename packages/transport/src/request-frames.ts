/**
 * Turns the frames of one incoming ROUTER message (after the routing id) into a
 * parsed JSON value, or the error to answer. Every check here runs before any
 * handler sees the message.
 */
import { WriteError } from '@scribe/protocol';
import { exceedsJsonDepth } from './json-depth.js';

/** The limits applied to one incoming message. */
export interface FrameLimits {
  readonly maxMessageBytes: number;
  readonly maxJsonDepth: number;
}

/** The outcome of {@link decodeRequestFrames}: a parsed JSON value or an error to answer with id null. */
export type DecodedFrames = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: WriteError };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function fail(code: 'PARSE_ERROR' | 'INVALID_REQUEST', message: string): DecodedFrames {
  return { ok: false, error: new WriteError(code, message, { method: null }) };
}

/**
 * Expects exactly `['', json]`: the empty delimiter a DEALER sends (and a REQ socket
 * adds by itself) followed by one UTF-8 JSON frame within the limits.
 */
export function decodeRequestFrames(frames: readonly Buffer[], limits: FrameLimits): DecodedFrames {
  if (frames.length !== 2) {
    return fail('INVALID_REQUEST', `Expected 2 frames (an empty delimiter, then one JSON-RPC message), got ${frames.length}`);
  }
  const [delimiter, body] = frames as [Buffer, Buffer];
  if (delimiter.length !== 0) {
    return fail('INVALID_REQUEST', `Expected the first frame to be an empty delimiter, got ${delimiter.length} bytes`);
  }
  if (body.length === 0) return fail('PARSE_ERROR', 'Empty message: expected one JSON-RPC message');
  if (body.length > limits.maxMessageBytes) {
    return fail('INVALID_REQUEST', `Message of ${body.length} bytes exceeds the limit of ${limits.maxMessageBytes} bytes`);
  }
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return fail('PARSE_ERROR', 'Message is not valid UTF-8');
  }
  if (exceedsJsonDepth(body, limits.maxJsonDepth)) {
    return fail('INVALID_REQUEST', `Message nests deeper than the limit of ${limits.maxJsonDepth} levels`);
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return fail('PARSE_ERROR', 'Message is not valid JSON');
  }
}
