import { describe as suite, expect, it } from 'vitest';
import {
  JSON_RPC_ERROR_NUMBERS,
  RETRYABLE,
  WRITE_ERROR_CODES,
  RemoteDriverError,
  WriteError,
  assertWriteErrorCode,
  rootCause,
  wireCauseOf,
  codeFromJsonRpcNumber,
  parseWriteRequest,
} from '@scribe/protocol';

const meta = { source_instance_id: 'node-a', request_id: 'r-1', timestamp: '2026-11-24T10:00:00.000Z' };

suite('error codes', () => {
  it('gives every code a distinct JSON-RPC number, standard ones where the spec has them', () => {
    const numbers = WRITE_ERROR_CODES.map((c) => JSON_RPC_ERROR_NUMBERS[c]);
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(JSON_RPC_ERROR_NUMBERS.PARSE_ERROR).toBe(-32700);
    expect(JSON_RPC_ERROR_NUMBERS.INVALID_REQUEST).toBe(-32600);
    expect(JSON_RPC_ERROR_NUMBERS.METHOD_NOT_FOUND).toBe(-32601);
    expect(JSON_RPC_ERROR_NUMBERS.INVALID_PARAMS).toBe(-32602);
    for (const n of numbers) {
      const standard = [-32700, -32600, -32601, -32602, -32603].includes(n);
      expect(standard || (n <= -32000 && n >= -32099)).toBe(true);
    }
  });

  it('maps numbers back to codes, unknown numbers to INTERNAL', () => {
    for (const c of WRITE_ERROR_CODES) expect(codeFromJsonRpcNumber(JSON_RPC_ERROR_NUMBERS[c])).toBe(c);
    expect(codeFromJsonRpcNumber(-1)).toBe('INTERNAL');
  });

  it('marks transient codes retryable and request faults not', () => {
    expect(RETRYABLE.TIMEOUT && RETRYABLE.UNREACHABLE && RETRYABLE.OVERLOADED && RETRYABLE.SHUTTING_DOWN).toBe(true);
    expect(RETRYABLE.CONFLICT || RETRYABLE.INVALID_PARAMS || RETRYABLE.METHOD_NOT_FOUND).toBe(false);
  });

  it('validates codes with a message that says what was expected', () => {
    expect(assertWriteErrorCode('CONFLICT')).toBe('CONFLICT');
    expect(() => assertWriteErrorCode('NOPE')).toThrow(/Expected a write error code .* got "NOPE" \(string\)/);
  });
});

suite('WriteError', () => {
  it('round-trips through its JSON-RPC form without leaking the cause', () => {
    const cause = new Error('SQLITE_CONSTRAINT at /secret/path.db');
    const e = new WriteError('INVALID_PARAMS', 'Expected session_id to be a string', {
      method: 'CreateMessage',
      field: 'params.session_id',
      cause,
    });
    const wire = e.toJsonRpc();
    expect(wire).toEqual({
      code: -32602,
      message: 'Expected session_id to be a string',
      data: { code: 'INVALID_PARAMS', retryable: false, method: 'CreateMessage', field: 'params.session_id' },
    });
    expect(JSON.stringify(wire)).not.toContain('/secret');
    const back = WriteError.fromJsonRpc(JSON.parse(JSON.stringify(wire)));
    expect(back).toBeInstanceOf(WriteError);
    expect([back.code, back.method, back.field, back.isRetryable()]).toEqual([
      'INVALID_PARAMS',
      'CreateMessage',
      'params.session_id',
      false,
    ]);
  });

  it("carries the root cause's class name and code across the wire, never its text, and rebuilds it as a RemoteDriverError", () => {
    class SqliteError extends Error {
      override name = 'SqliteError';
      constructor(message: string, readonly code: string) {
        super(message);
      }
    }
    const driver = new SqliteError('pinned rows stay (in /home/u/app.db)', 'SQLITE_CONSTRAINT_TRIGGER');
    const mapped = new WriteError('CONFLICT', 'CloseShadowSession: a trigger refused the change', { method: 'CloseShadowSession', cause: driver });
    const tagged = new WriteError('CONFLICT', 'CloseShadowSession: CLOSE_FAILED: …', { method: 'CloseShadowSession', cause: mapped });
    expect(rootCause(tagged)).toBe(driver);
    const wire = tagged.toJsonRpc();
    expect(wire.data?.cause).toEqual({ name: 'SqliteError', code: 'SQLITE_CONSTRAINT_TRIGGER' });
    expect(JSON.stringify(wire)).not.toMatch(/pinned|\/home/);
    const back = WriteError.fromJsonRpc(JSON.parse(JSON.stringify(wire)));
    expect(back.cause).toBeInstanceOf(RemoteDriverError);
    expect(back.cause).toMatchObject({ code: 'SQLITE_CONSTRAINT_TRIGGER', remoteName: 'SqliteError' });
    expect((back.cause as Error).message).not.toMatch(/pinned/);
    // Sent on again (a secondary relaying), the same two fields travel.
    expect(wireCauseOf(back)).toEqual({ name: 'SqliteError', code: 'SQLITE_CONSTRAINT_TRIGGER' });
  });

  it('sends no cause when the root has no code or is a WriteError, and ignores a malformed one', () => {
    expect(new WriteError('INTERNAL', 'x', { cause: new Error('no code') }).toJsonRpc().data?.cause).toBeUndefined();
    expect(new WriteError('CONFLICT', 'x').withMethod('M').toJsonRpc().data?.cause).toBeUndefined();
    for (const cause of [{ name: 'x y', code: 'C' }, { name: 'E', code: 'has space' }, { name: 'E' }, 'SQLITE_BUSY', null]) {
      const back = WriteError.fromJsonRpc({ code: -32003, message: 'm', data: { code: 'CONFLICT', retryable: false, method: null, cause } });
      expect(back.cause, JSON.stringify(cause)).toBeUndefined();
    }
  });

  it('maps a foreign JSON-RPC error by its number', () => {
    const e = WriteError.fromJsonRpc({ code: -32601, message: 'Method not found' }, 'X');
    expect([e.code, e.method, e.isRetryable()]).toEqual(['METHOD_NOT_FOUND', 'X', false]);
  });
});

suite('parseWriteRequest', () => {
  it('accepts a well-formed envelope', () => {
    const r = parseWriteRequest({ meta: { ...meta, deadline: '2026-11-24T10:00:05Z' }, method: 'CreateMessage', params: { id: 'm1' } });
    expect(r).toEqual({ meta: { ...meta, deadline: '2026-11-24T10:00:05Z' }, method: 'CreateMessage', params: { id: 'm1' } });
  });

  it('treats missing params as null', () => {
    expect(parseWriteRequest({ meta, method: 'DeactivateLowestSkill' }).params).toBeNull();
  });

  it.each([
    [null, 'params'],
    [[1], 'params'],
    [{ meta, params: {} }, 'method'],
    [{ method: 'X', params: {} }, 'meta'],
    [{ meta: { ...meta, request_id: '' }, method: 'X' }, 'meta.request_id'],
    [{ meta: { ...meta, request_id: 'x'.repeat(201) }, method: 'X' }, 'meta.request_id'],
    [{ meta: { ...meta, source_instance_id: 7 }, method: 'X' }, 'meta.source_instance_id'],
    [{ meta: { ...meta, timestamp: 'yesterday' }, method: 'X' }, 'meta.timestamp'],
    [{ meta: { ...meta, deadline: 5 }, method: 'X' }, 'meta.deadline'],
    [{ meta, method: 'X', params: 5 }, 'params'],
    [{ meta, method: 'X', params: [1, 2] }, 'params'],
  ])('rejects %j naming field %s', (input, field) => {
    try {
      parseWriteRequest(input);
      expect.unreachable('should have thrown');
    } catch (e) {
      expect(e).toBeInstanceOf(WriteError);
      expect((e as WriteError).code).toBe('INVALID_PARAMS');
      expect((e as WriteError).field).toBe(field);
    }
  });
});
