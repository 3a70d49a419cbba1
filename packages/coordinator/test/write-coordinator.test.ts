import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { WriteError, type WriteRequest } from '@scribe/protocol';
import {
  UNKNOWN_METHOD,
  WriteCoordinator,
  type CommittedChange,
  type CoordinatorEvent,
  type CoordinatorItem,
  type CoordinatorOutcome,
  type CoordinatorStore,
} from '@scribe/coordinator';

/** An in-memory store: a key/value table with the store's batch semantics. */
class FakeStore implements CoordinatorStore {
  readonly rows = new Map<string, unknown>();
  readonly records = new Map<string, CoordinatorOutcome>();
  readonly batches: string[][] = [];
  failNextCommit = false;
  /** Batches still to be refused with BUSY (another connection holds the lock). */
  busyFor = 0;
  seq = 0;

  validate(method: string, params: unknown): unknown {
    if (method !== 'Put' && method !== 'PutToo') throw new WriteError('METHOD_NOT_FOUND', `unknown write ${method}`, { method });
    const p = params as { key?: unknown };
    if (typeof p?.key !== 'string') {
      throw new WriteError('INVALID_PARAMS', 'Expected params.key to be a string', { method, field: 'params.key' });
    }
    return params;
  }

  async executeBatch(items: readonly CoordinatorItem[]) {
    this.batches.push(items.map((i) => i.meta.request_id));
    if (this.busyFor > 0) {
      this.busyFor--;
      throw new WriteError('BUSY', 'database is locked', { retryable: true });
    }
    if (this.failNextCommit) {
      this.failNextCommit = false;
      throw new WriteError('INTERNAL', 'the transaction failed to commit', { retryable: true });
    }
    const outcomes: CoordinatorOutcome[] = [];
    const changes: CommittedChange[] = [];
    for (const item of items) {
      const recorded = this.records.get(item.meta.request_id);
      if (recorded) {
        outcomes.push({ ...recorded, duplicate: true });
        continue;
      }
      const { key, value } = item.params as { key: string; value: unknown };
      let outcome: CoordinatorOutcome;
      if (this.rows.has(key)) {
        outcome = { ok: false, error: new WriteError('CONFLICT', `key ${key} exists`, { method: item.method }), duplicate: false };
      } else {
        this.rows.set(key, value);
        outcome = { ok: true, result: { key, value }, duplicate: false };
        changes.push({
          seq: ++this.seq,
          entity: 'kv',
          key,
          op: 'created',
          request_id: item.meta.request_id,
          source_instance_id: item.meta.source_instance_id,
          at: new Date(0).toISOString(),
        });
      }
      this.records.set(item.meta.request_id, outcome);
      outcomes.push(outcome);
    }
    return { outcomes, changes };
  }
}

let n = 0;
function put(key: string, extra: Partial<WriteRequest['meta']> = {}, method = 'Put'): WriteRequest {
  return {
    meta: { source_instance_id: 'test', request_id: `r-${++n}`, timestamp: new Date().toISOString(), ...extra },
    method,
    params: { key, value: key.toUpperCase() },
  };
}

/** Waits (a bounded number of event-loop turns) until `condition` holds. */
async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  expect(condition()).toBe(true);
}

async function rejection(p: Promise<unknown>): Promise<WriteError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(WriteError);
    return e as WriteError;
  }
  throw new Error('expected the promise to reject');
}

describe('WriteCoordinator', () => {
  it('takes writes queued together into one transaction, in arrival order, and answers after commit', async () => {
    const store = new FakeStore();
    const c = new WriteCoordinator({ store });
    const reqs = ['a', 'b', 'c', 'd'].map((k) => put(k));
    const results = await Promise.all(reqs.map((r) => c.submit(r)));
    expect(results).toEqual(['a', 'b', 'c', 'd'].map((k) => ({ key: k, value: k.toUpperCase() })));
    expect(store.batches).toEqual([reqs.map((r) => r.meta.request_id)]);
    expect(c.metrics()).toMatchObject({ accepted: 4, completed: 4, failed: 0, batches: 1, lastBatchSize: 4 });
  });

  it('keeps one batch open at a time: the next starts only after executeBatch settled, with every write that arrived meanwhile', async () => {
    const store = new FakeStore();
    let open = 0;
    let maxOpen = 0;
    const gates: Array<() => void> = [];
    const slow: CoordinatorStore = {
      validate: (m, p) => store.validate(m, p),
      async executeBatch(items) {
        open++;
        maxOpen = Math.max(maxOpen, open);
        // The batch's transaction stays open until the test lets it commit.
        await new Promise<void>((resolve) => gates.push(resolve));
        open--;
        return store.executeBatch(items);
      },
    };
    const c = new WriteCoordinator({ store: slow });
    const first = c.submit(put('a'));
    await waitUntil(() => gates.length === 1);
    // Arrive while the first batch is open: they must wait for it, then share one transaction.
    const later = [c.submit(put('b')), c.submit(put('c')), c.submit(put('d'))];
    await new Promise((resolve) => setImmediate(resolve));
    expect(gates).toHaveLength(1);
    gates[0]!();
    await expect(first).resolves.toEqual({ key: 'a', value: 'A' });
    await waitUntil(() => gates.length === 2);
    gates[1]!();
    await expect(Promise.all(later)).resolves.toHaveLength(3);
    expect(store.batches.map((b) => b.length)).toEqual([1, 3]);
    expect(maxOpen).toBe(1);
  });

  it('splits a long queue into batches of at most maxBatchSize', async () => {
    const store = new FakeStore();
    const c = new WriteCoordinator({ store, maxBatchSize: 3 });
    await Promise.all(Array.from({ length: 7 }, (_, i) => c.submit(put(`k${i}`))));
    expect(store.batches.map((b) => b.length)).toEqual([3, 3, 1]);
  });

  it('fails only the write whose own outcome failed', async () => {
    const store = new FakeStore();
    const c = new WriteCoordinator({ store });
    const [a, dup, b] = [c.submit(put('x')), c.submit(put('x')), c.submit(put('y'))];
    await expect(a).resolves.toEqual({ key: 'x', value: 'X' });
    expect((await rejection(dup)).code).toBe('CONFLICT');
    await expect(b).resolves.toEqual({ key: 'y', value: 'Y' });
    expect(store.batches).toHaveLength(1);
  });

  it('refuses every write of a batch whose commit failed, as retryable, and reports it', async () => {
    const store = new FakeStore();
    const c = new WriteCoordinator({ store });
    const events: CoordinatorEvent[] = [];
    c.on((e) => events.push(e));
    store.failNextCommit = true;
    const errors = await Promise.all([c.submit(put('p')), c.submit(put('q'))].map(rejection));
    expect(errors.map((e) => [e.code, e.isRetryable(), e.method])).toEqual([
      ['INTERNAL', true, 'Put'],
      ['INTERNAL', true, 'Put'],
    ]);
    expect(store.rows.size).toBe(0);
    expect(events.map((e) => e.type)).toEqual(['batch:failed']);
    expect(c.metrics()).toMatchObject({ failed: 2, failedBatches: 1 });
  });

  it('puts a batch that met another connection\'s lock (BUSY) back and runs it again on a timer, letting other work run in between', async () => {
    const store = new FakeStore();
    store.busyFor = 3;
    const c = new WriteCoordinator({ store });
    const events: CoordinatorEvent[] = [];
    c.on((e) => events.push(e));
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 0);
    try {
      await Promise.all([c.submit(put('a')), c.submit(put('b'))]);
    } finally {
      clearInterval(ticker);
    }
    expect([...store.rows.keys()]).toEqual(['a', 'b']);
    expect(store.batches).toHaveLength(4);
    expect(events.map((e) => e.type)).toEqual(['batch:busy', 'batch:busy', 'batch:busy', 'batch:committed']);
    // Other timers ran while the writes waited: the waiting happened on the event loop, not in a blocking call.
    expect(ticks).toBeGreaterThan(0);
    expect(c.busySince).toBeUndefined();
    expect(c.metrics()).toMatchObject({ completed: 2, failed: 0, failedBatches: 0 });
  });

  it('answers BUSY, not TIMEOUT, to a write whose deadline passes while another connection holds the lock; nothing runs', async () => {
    const store = new FakeStore();
    store.busyFor = Number.POSITIVE_INFINITY;
    let now = Date.parse('2026-01-01T00:00:10Z');
    const c = new WriteCoordinator({ store, clock: () => now });
    const busy = c.submit(put('x', { deadline: '2026-01-01T00:00:11Z' }));
    c.on((e) => {
      if (e.type === 'batch:busy') now += 400;
    });
    const e = await rejection(busy);
    expect([e.code, e.isRetryable(), e.method]).toEqual(['BUSY', true, 'Put']);
    expect(e.message).toMatch(/held the database's write lock/);
    expect(store.rows.size).toBe(0);
  });

  it('gives a write without a deadline BUSY after maxBusyWaitMs', async () => {
    const store = new FakeStore();
    store.busyFor = Number.POSITIVE_INFINITY;
    let now = 0;
    const c = new WriteCoordinator({ store, clock: () => now, maxBusyWaitMs: 1_000 });
    c.on((e) => {
      if (e.type === 'batch:busy') now += 300;
    });
    const e = await rejection(c.submit(put('y')));
    expect(e.code).toBe('BUSY');
    expect(store.rows.size).toBe(0);
  });

  it('publishes the committed change events with their seq', async () => {
    const store = new FakeStore();
    const c = new WriteCoordinator({ store });
    const events: CoordinatorEvent[] = [];
    c.on((e) => events.push(e));
    await Promise.all([c.submit(put('m')), c.submit(put('n'))]);
    const committed = events.filter((e) => e.type === 'batch:committed');
    expect(committed).toHaveLength(1);
    expect(committed[0]!.type === 'batch:committed' && committed[0]!.changes.map((ch) => [ch.seq, ch.key])).toEqual([
      [1, 'm'],
      [2, 'n'],
    ]);
  });

  it('never executes a write whose deadline has passed and answers TIMEOUT', async () => {
    const store = new FakeStore();
    let now = Date.parse('2026-01-01T00:00:10Z');
    const c = new WriteCoordinator({ store, clock: () => now });
    const late = c.submit(put('late', { deadline: '2026-01-01T00:00:05Z' }));
    const fine = c.submit(put('fine', { deadline: '2026-01-01T00:00:20Z' }));
    const e = await rejection(late);
    expect([e.code, e.isRetryable()]).toEqual(['TIMEOUT', true]);
    await fine;
    expect([...store.rows.keys()]).toEqual(['fine']);
  });

  it('answers OVERLOADED at once past the queue bound, queueing nothing', async () => {
    const store = new FakeStore();
    const c = new WriteCoordinator({ store, maxQueueDepth: 2 });
    const events: CoordinatorEvent[] = [];
    c.on((e) => events.push(e));
    const first = [c.submit(put('1')), c.submit(put('2'))];
    const e = await rejection(c.submit(put('3')));
    expect([e.code, e.isRetryable()]).toEqual(['OVERLOADED', true]);
    await Promise.all(first);
    expect([...store.rows.keys()]).toEqual(['1', '2']);
    expect(events[0]).toEqual({ type: 'queue:overloaded', depth: 2 });
  });

  it('rejects bad params and unknown writes before queueing them', async () => {
    const store = new FakeStore();
    const c = new WriteCoordinator({ store });
    const bad = await rejection(c.submit({ ...put('z'), params: { key: 5 } }));
    expect([bad.code, bad.field]).toEqual(['INVALID_PARAMS', 'params.key']);
    const unknown = await rejection(c.submit(put('z', {}, 'Nope')));
    expect([unknown.code, unknown.method]).toEqual(['METHOD_NOT_FOUND', 'Nope']);
    expect(store.batches).toHaveLength(0);
    expect(c.metrics()).toMatchObject({ accepted: 0, rejected: 2 });
  });

  it('counts every settled write by method and outcome, the ones refused before the queue too', async () => {
    const store = new FakeStore();
    const c = new WriteCoordinator({ store, maxQueueDepth: 1 });
    const first = put('a');
    const queued = [c.submit(first), c.submit({ ...first })]; // the second joins the first: counted once
    await rejection(c.submit(put('b'))); // OVERLOADED
    await Promise.all(queued);
    await rejection(c.submit({ ...put('z'), params: { key: 5 } })); // INVALID_PARAMS
    await rejection(c.submit(put('z', {}, 'Caller-Made-Up'))); // METHOD_NOT_FOUND
    await c.close();
    await rejection(c.submit(put('late'))); // SHUTTING_DOWN
    const counts = Object.fromEntries(c.outcomes().map((o) => [`${o.method}/${o.outcome}`, o.count]));
    expect(counts).toEqual({
      'Put/ok': 1,
      'Put/OVERLOADED': 1,
      'Put/INVALID_PARAMS': 1,
      [`${UNKNOWN_METHOD}/METHOD_NOT_FOUND`]: 1,
      'Put/SHUTTING_DOWN': 1,
    });
  });

  it('joins a retry of a queued request id to the first attempt instead of queueing it twice', async () => {
    const store = new FakeStore();
    const c = new WriteCoordinator({ store });
    const req = put('once');
    const [a, b] = await Promise.all([c.submit(req), c.submit({ ...req })]);
    expect(a).toEqual(b);
    expect(store.batches).toEqual([[req.meta.request_id]]);
  });

  it('refuses a queued request id arriving for another write with REQUEST_ID_REUSED instead of joining it', async () => {
    const store = new FakeStore();
    const c = new WriteCoordinator({ store });
    const req = put('first');
    const first = c.submit(req);
    const reused = await rejection(c.submit({ ...req, method: 'PutToo', params: { key: 'second', value: 2 } }));
    expect(reused).toMatchObject({ code: 'REQUEST_ID_REUSED', method: 'PutToo' });
    expect(reused.isRetryable()).toBe(false);
    await expect(first).resolves.toEqual({ key: 'first', value: 'FIRST' });
    expect(store.batches).toEqual([[req.meta.request_id]]);
    expect(c.metrics()).toMatchObject({ duplicates: 0, rejected: 1 });
  });

  it('drains queued writes on close and refuses new ones with SHUTTING_DOWN', async () => {
    const store = new FakeStore();
    const c = new WriteCoordinator({ store });
    const queued = Array.from({ length: 5 }, (_, i) => c.submit(put(`d${i}`)));
    const closing = c.close();
    const refused = await rejection(c.submit(put('after')));
    expect([refused.code, refused.isRetryable()]).toEqual(['SHUTTING_DOWN', true]);
    await closing;
    await Promise.all(queued);
    expect(store.rows.size).toBe(5);
    expect(c.state).toBe('closed');
    await c.close();
  });

  it('refuses queued writes on close without drain', async () => {
    const store = new FakeStore();
    const c = new WriteCoordinator({ store });
    const queued = c.submit(put('never'));
    await c.close({ drain: false });
    expect((await rejection(queued)).code).toBe('SHUTTING_DOWN');
    expect(store.rows.size).toBe(0);
  });

  it('logs one provenance line per write with source, request id, method and duration', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(JSON.parse(String(chunk)));
        cb();
      },
    });
    const c = new WriteCoordinator({ store: new FakeStore(), logger: pino({ level: 'info' }, stream), provenanceLevel: 'info' });
    const req = put('logged');
    await c.submit(req);
    const line = lines.find((l) => l.msg === 'write');
    expect(line).toMatchObject({
      component: 'coordinator',
      source: 'test',
      request_id: req.meta.request_id,
      method: 'Put',
      outcome: 'ok',
    });
    expect(typeof line!.duration_ms).toBe('number');
  });

  it('logs provenance at debug by default, so an info logger stays quiet per write', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(JSON.parse(String(chunk)));
        cb();
      },
    });
    const quiet = new WriteCoordinator({ store: new FakeStore(), logger: pino({ level: 'info' }, stream) });
    await quiet.submit(put('quiet'));
    expect(lines.filter((l) => l.msg === 'write')).toEqual([]);
    const chatty = new WriteCoordinator({ store: new FakeStore(), logger: pino({ level: 'debug' }, stream) });
    await chatty.submit(put('chatty'));
    expect(lines.filter((l) => l.msg === 'write')).toHaveLength(1);
  });

  it('validates its options with a message that says what to change', () => {
    expect(() => new WriteCoordinator({ store: new FakeStore(), maxBatchSize: 0 })).toThrow(
      "Expected 'maxBatchSize' to be an integer from 1 and up, got 0 (number)",
    );
  });
});
