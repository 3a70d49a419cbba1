import { describe, expect, it } from 'vitest';
import { WriteError, type WriteRequest } from '@scribe/protocol';
import {
  MAX_BATCHES_AWAITING_SYNC,
  WriteCoordinator,
  type CoordinatorBatchResult,
  type CoordinatorEvent,
  type CoordinatorItem,
  type CoordinatorStore,
} from '@scribe/coordinator';
import { promiseState } from '../../../test/helpers/promise-state.js';

// A store whose commits become durable later (its fsync runs off the event loop):
// every batch it commits returns a `durable` promise the test resolves by hand.

interface Sync {
  readonly ids: string[];
  resolve(): void;
  reject(error: WriteError): void;
}

class PipelinedStore implements CoordinatorStore {
  /** One entry per committed batch, in commit order. */
  readonly syncs: Sync[] = [];

  validate(_method: string, params: unknown): unknown {
    return params;
  }

  async executeBatch(items: readonly CoordinatorItem[]): Promise<CoordinatorBatchResult> {
    const ids = items.map((i) => i.meta.request_id);
    let resolve!: () => void;
    let reject!: (error: WriteError) => void;
    const durable = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.syncs.push({ ids, resolve, reject });
    return {
      outcomes: items.map((i) => ({ ok: true, result: { id: i.meta.request_id }, duplicate: false })),
      changes: items.map((i, k) => ({
        seq: this.syncs.length * 1000 + k,
        entity: 'kv',
        key: i.meta.request_id,
        op: 'created' as const,
        request_id: i.meta.request_id,
        source_instance_id: 'test',
        at: new Date(0).toISOString(),
      })),
      durable,
    };
  }
}

let n = 0;
function put(): WriteRequest {
  return { meta: { source_instance_id: 'test', request_id: `d-${++n}`, timestamp: new Date().toISOString() }, method: 'Put', params: {} };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((r) => setImmediate(r));
  expect(condition()).toBe(true);
}

describe('WriteCoordinator with a store that syncs off the event loop', () => {
  it('answers no write and reports no change of a committed batch before its sync resolved', async () => {
    const store = new PipelinedStore();
    const c = new WriteCoordinator({ store });
    const events: CoordinatorEvent[] = [];
    c.on((e) => events.push(e));
    const writes = [c.submit(put()), c.submit(put())];
    await until(() => store.syncs.length === 1);
    // Committed, not durable: nothing answered, nothing published.
    expect(await promiseState(writes[0]!)).toBe('pending');
    expect(await promiseState(writes[1]!)).toBe('pending');
    expect(events).toEqual([]);
    store.syncs[0]!.resolve();
    await expect(Promise.all(writes)).resolves.toEqual(store.syncs[0]!.ids.map((id) => ({ id })));
    expect(events.map((e) => e.type)).toEqual(['batch:committed']);
    expect(events[0]).toMatchObject({ size: 2, changes: [{ key: store.syncs[0]!.ids[0] }, { key: store.syncs[0]!.ids[1] }] });
    expect(c.metrics()).toMatchObject({ completed: 2, batches: 1 });
  });

  it(`runs the next batches while earlier ones wait for their sync, at most ${MAX_BATCHES_AWAITING_SYNC} waiting, and answers them in commit order`, async () => {
    const store = new PipelinedStore();
    const c = new WriteCoordinator({ store });
    const answered: string[] = [];
    const submit = (): Promise<unknown> => {
      const r = put();
      return c.submit(r).then(() => void answered.push(r.meta.request_id));
    };
    const first = submit();
    await until(() => store.syncs.length === 1);
    const second = submit();
    await until(() => store.syncs.length === 2);
    // Two batches wait for their sync: the third write gathers in the queue and does not run yet.
    const third = submit();
    expect(await promiseState(third)).toBe('pending');
    expect(store.syncs).toHaveLength(MAX_BATCHES_AWAITING_SYNC);
    expect(c.depth).toBe(1);
    // The second batch's sync ends first: still nobody is answered out of order.
    store.syncs[1]!.resolve();
    expect(await promiseState(second)).toBe('pending');
    expect(answered).toEqual([]);
    store.syncs[0]!.resolve();
    await Promise.all([first, second]);
    expect(answered).toEqual([...store.syncs[0]!.ids, ...store.syncs[1]!.ids]);
    // Room again: the third write runs in the next batch.
    await until(() => store.syncs.length === 3);
    store.syncs[2]!.resolve();
    await third;
    expect(answered).toEqual([...store.syncs[0]!.ids, ...store.syncs[1]!.ids, ...store.syncs[2]!.ids]);
  });

  it('answers every write of a batch whose sync failed with that error, and reports the batch failed', async () => {
    const store = new PipelinedStore();
    const c = new WriteCoordinator({ store });
    const events: CoordinatorEvent[] = [];
    c.on((e) => events.push(e));
    const writes = [c.submit(put()), c.submit(put())];
    await until(() => store.syncs.length === 1);
    store.syncs[0]!.reject(new WriteError('STORAGE_IO', 'the disk reported an error', { method: null, retryable: false }));
    for (const w of writes) {
      const e = await w.then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(e).toBeInstanceOf(WriteError);
      expect((e as WriteError).code).toBe('STORAGE_IO');
      expect((e as WriteError).method).toBe('Put');
    }
    expect(events.map((e) => e.type)).toEqual(['batch:failed']);
    expect(c.metrics()).toMatchObject({ failed: 2, failedBatches: 1, completed: 0 });
  });

  it('waits on close until every committed batch is durable and answered', async () => {
    const store = new PipelinedStore();
    const c = new WriteCoordinator({ store });
    const write = c.submit(put());
    await until(() => store.syncs.length === 1);
    const closed = c.close();
    expect(await promiseState(closed)).toBe('pending');
    store.syncs[0]!.resolve();
    await closed;
    await expect(write).resolves.toMatchObject({ id: store.syncs[0]!.ids[0] });
    expect(c.state).toBe('closed');
  });
});
