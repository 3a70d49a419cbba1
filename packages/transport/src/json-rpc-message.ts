/**
 * JSON-RPC 2.0 message shapes and the checks the server applies to each request.
 *
 * The shapes are json-rpc-2.0's own types. Its `JSONRPCServer` is deliberately not
 * used for dispatch: it answers invalid requests and unknown methods without scribe's
 * `data: {code, retryable, method}`, throws on non-object batch entries (`null`, `1`),
 * answers a one-element batch with a bare object instead of an array, and logs to
 * `console.warn` by default. The checks here follow the spec to the letter instead.
 */
import type { JSONRPCErrorResponse, JSONRPCID, JSONRPCResponse, JSONRPCSuccessResponse } from 'json-rpc-2.0';
import { WriteError, describe } from '@scribe/protocol';

export type { JSONRPCErrorResponse, JSONRPCID, JSONRPCResponse, JSONRPCSuccessResponse };

/** A request entry that passed the envelope checks. `id` undefined means a notification. */
export interface CheckedRequest {
  readonly ok: true;
  readonly id: JSONRPCID | undefined;
  readonly method: string;
  readonly params: unknown;
}

/** A request entry that failed the envelope checks, with the error to answer. */
export interface RejectedRequest {
  readonly ok: false;
  readonly id: JSONRPCID;
  readonly error: WriteError;
}

function isId(value: unknown): value is JSONRPCID {
  return value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

function invalidRequest(message: string): WriteError {
  return new WriteError('INVALID_REQUEST', message, { method: null });
}

/**
 * Checks one request object (a whole message or one batch entry) against JSON-RPC
 * 2.0 §4: an object with `jsonrpc: "2.0"`, a string `method`, optional structured
 * `params` and an optional string/number/null `id`. Anything else is -32600 with id
 * null unless a valid id can be read from it.
 */
export function checkRequest(value: unknown): CheckedRequest | RejectedRequest {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, id: null, error: invalidRequest(`Expected a JSON-RPC 2.0 request object, got ${describe(value)}`) };
  }
  const v = value as Record<string, unknown>;
  const id = v.id;
  if (id !== undefined && !isId(id)) {
    return { ok: false, id: null, error: invalidRequest(`Expected id to be a string, a number or null, got ${describe(id)}`) };
  }
  const replyId = id ?? null;
  if (v.jsonrpc !== '2.0') {
    return { ok: false, id: replyId, error: invalidRequest(`Expected jsonrpc to be "2.0", got ${describe(v.jsonrpc)}`) };
  }
  if (typeof v.method !== 'string' || v.method.length === 0) {
    return { ok: false, id: replyId, error: invalidRequest(`Expected method to be a non-empty string, got ${describe(v.method)}`) };
  }
  const params = v.params;
  if (params !== undefined && (params === null || typeof params !== 'object')) {
    return {
      ok: false,
      id: replyId,
      error: invalidRequest(`Expected params to be an object or an array when present, got ${describe(params)}`),
    };
  }
  return { ok: true, id, method: v.method, params };
}

/** The error response for `error`, using its JSON-RPC form (no stack, no cause). */
export function errorResponse(id: JSONRPCID, error: WriteError): JSONRPCErrorResponse {
  return { jsonrpc: '2.0', id, error: error.toJsonRpc() };
}

/** The success response for `result` (`undefined` becomes `null`, which JSON can carry). */
export function successResponse(id: JSONRPCID, result: unknown): JSONRPCSuccessResponse {
  return { jsonrpc: '2.0', id, result: result === undefined ? null : result };
}
