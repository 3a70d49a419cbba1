import { describe } from './error-codes.js';
import { WriteError } from './write-error.js';

/** Where a write came from and how it is identified; travels with every `db.write`. */
export interface WriteMeta {
  /** The instance id of the node that issued the write. */
  source_instance_id: string;
  /** Unique per logical write; a retry reuses it, and the primary applies it at most once. */
  request_id: string;
  /** When the caller issued the write, RFC 3339. */
  timestamp: string;
  /** Optional RFC 3339 time after which the primary must not execute the write (answers TIMEOUT). */
  deadline?: string;
}

/** The params of a `db.write` call. */
export interface WriteRequest<P = unknown> {
  meta: WriteMeta;
  /** The registered write name, e.g. `CreateMessage`. */
  method: string;
  /** The write's own params: an object, a string or null. */
  params: P;
}

/** The longest request id, source instance id or write name accepted. */
export const MAX_ID_LENGTH = 200;

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function isRfc3339(v: unknown): v is string {
  return typeof v === 'string' && RFC3339.test(v) && !Number.isNaN(Date.parse(v));
}

function invalid(field: string, expected: string, got: unknown, method: string | null): WriteError {
  return new WriteError('INVALID_PARAMS', `Expected ${field} to be ${expected}, got ${describe(got)}`, {
    method,
    field,
  });
}

function checkId(value: unknown, field: string, method: string | null): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH) {
    throw invalid(field, `a non-empty string of at most ${MAX_ID_LENGTH} characters`, value, method);
  }
  return value;
}

/**
 * Checks the envelope of a `db.write` call (not the write's own params, which the
 * registry validates) and returns it typed. Throws INVALID_PARAMS naming the field.
 */
export function parseWriteRequest(value: unknown): WriteRequest {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid('params', 'an object {meta, method, params}', value, null);
  }
  const v = value as Record<string, unknown>;
  const method = typeof v.method === 'string' ? v.method : null;
  if (method === null || method.length === 0 || method.length > MAX_ID_LENGTH) {
    throw invalid('method', 'a write name', v.method, null);
  }
  const meta = v.meta;
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    throw invalid('meta', 'an object {source_instance_id, request_id, timestamp}', meta, method);
  }
  const m = meta as Record<string, unknown>;
  const out: WriteMeta = {
    source_instance_id: checkId(m.source_instance_id, 'meta.source_instance_id', method),
    request_id: checkId(m.request_id, 'meta.request_id', method),
    timestamp: '',
  };
  if (!isRfc3339(m.timestamp)) throw invalid('meta.timestamp', 'an RFC 3339 time', m.timestamp, method);
  out.timestamp = m.timestamp;
  if (m.deadline !== undefined && m.deadline !== null) {
    if (!isRfc3339(m.deadline)) throw invalid('meta.deadline', 'an RFC 3339 time', m.deadline, method);
    out.deadline = m.deadline;
  }
  const params = v.params === undefined ? null : v.params;
  if (params !== null && typeof params !== 'object' && typeof params !== 'string') {
    throw invalid('params', 'an object, a string or null', params, method);
  }
  if (Array.isArray(params)) throw invalid('params', 'an object, a string or null', params, method);
  return { meta: out, method, params };
}
