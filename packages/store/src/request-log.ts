import type Database from 'better-sqlite3';
import { WriteError } from '@scribe/protocol';
import type { BatchItemOutcome } from './batch-executor.js';
import type { StatementCache } from './statement-cache.js';

/** The idempotency record of a request id. */
export interface RequestRecord {
  request_id: string;
  source_instance_id: string;
  method: string;
  ok: boolean;
  /** The result, or `{code, message, field?}` of the error. */
  result: unknown;
  committed_at: string;
}

/** A row of `_scribe_requests` as stored. */
export interface RawRequestRecord {
  request_id: string;
  source_instance_id: string;
  method: string;
  ok: number;
  result: string | null;
  committed_at: string;
}

const FIND = 'SELECT * FROM _scribe_requests WHERE request_id = ?';
const INSERT = 'INSERT INTO _scribe_requests (request_id, source_instance_id, method, ok, result, committed_at) VALUES (?, ?, ?, ?, ?, ?)';

/**
 * The request log (`_scribe_requests`): one record per request id whose outcome is
 * final, written in the same transaction as the write, so a retry with the same id is
 * answered from it and applies nothing twice. Pruned to the newest `retention` records.
 */
export class RequestLog {
  readonly #cache: StatementCache;
  readonly #retention: number;
  #find: Database.Statement | undefined;
  #insert: Database.Statement | undefined;

  constructor(cache: StatementCache, retention: number) {
    this.#cache = cache;
    this.#retention = retention;
  }

  /** The stored record of `requestId` (inside the batch that holds the connection). */
  lookup(requestId: string): RawRequestRecord | undefined {
    // The cache keeps its statements for the connection's life: hold on to the two of the hot path.
    this.#find ??= this.#cache.statement(FIND);
    return this.#find.get(requestId) as RawRequestRecord | undefined;
  }

  /** Records a final outcome (inside the batch that holds the connection); `stored` is its JSON. */
  insert(requestId: string, source: string, method: string, ok: boolean, stored: string, at: string): void {
    this.#insert ??= this.#cache.statement(INSERT);
    this.#insert.run(requestId, source, method, ok ? 1 : 0, stored, at);
  }

  /** The record of a request id, if it committed (outside any batch). */
  find(requestId: string): RequestRecord | undefined {
    this.#cache.assertFree('findRequest');
    const r = this.lookup(requestId);
    return r === undefined ? undefined : decodeRequestRecord(r);
  }

  /** Deletes all but the newest records (by insertion order). */
  prune(): void {
    const maxReq = (this.#cache.statement('SELECT MAX(rowid) AS m FROM _scribe_requests').get() as { m: number | null }).m ?? 0;
    if (maxReq > this.#retention) {
      this.#cache.statement('DELETE FROM _scribe_requests WHERE rowid <= ?').run(maxReq - this.#retention);
    }
  }
}

/** A stored row as the record callers see (`ok` a boolean, `result` parsed); the same on every engine. */
export function decodeRequestRecord(r: RawRequestRecord): RequestRecord {
  return {
    request_id: r.request_id,
    source_instance_id: r.source_instance_id,
    method: r.method,
    ok: r.ok === 1,
    result: r.result === null ? null : JSON.parse(r.result),
    committed_at: r.committed_at,
  };
}

/** The outcome a stored record answers a repeated request id with (`duplicate: true`). */
export function recordOutcome(r: RawRequestRecord): BatchItemOutcome {
  const value: unknown = r.result === null ? null : JSON.parse(r.result);
  if (r.ok === 1) return { ok: true, result: value, duplicate: true };
  const e = (value ?? {}) as { code?: unknown; message?: unknown; field?: unknown };
  return {
    ok: false,
    duplicate: true,
    error: WriteError.fromJsonRpc(
      { code: 0, message: typeof e.message === 'string' ? e.message : 'the write failed', data: { ...e, method: r.method } },
      r.method,
    ),
  };
}
