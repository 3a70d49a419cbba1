import { describe, expect, it } from 'vitest';
import { WriteError, type WriteRequest } from '@scribe/protocol';
import { WriteForwarder, backoffDelay, type WriteTarget } from '@scribe/proxy';

/** A fake clock that only moves when the forwarder sleeps or a target takes time. */
function fakeTime() {
  let now = 1_000_000;
  const sleeps: number[] = [];
  return {
    clock: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
  };
}

async function rejection(p: Promise<unknown>): Promise<WriteError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(WriteError);
    return e as WriteError;
  }
  throw new Error('expected a rejection');
}

describe('WriteForwarder', () => {
  it('sends the envelope with instance id, a fresh request id, timestamp and deadline', async () => {
    const t = fakeTime();
    const seen: WriteRequest[] = [];
    const f = new WriteForwarder({
      instanceId: 'sec-1',
      clock: t.clock,
      sleep: t.sleep,
      target: async (req) => {
        seen.push(req);
        return { ok: 1 };
      },
    });
    await expect(f.write('CreateMessage', { id: 'm' })).resolves.toEqual({ ok: 1 });
    await f.write('CreateMessage', { id: 'n' });
    expect(seen[0]).toMatchObject({ method: 'CreateMessage', params: { id: 'm' }, meta: { source_instance_id: 'sec-1' } });
    // The primary must stop starting the write 250 ms before the caller's 5 s deadline.
    expect(Date.parse(seen[0]!.meta.deadline!) - Date.parse(seen[0]!.meta.timestamp)).toBe(4_750);
    expect(seen[0]!.meta.request_id).not.toBe(seen[1]!.meta.request_id);
  });

  it('gives long writes the long budget', async () => {
    const t = fakeTime();
    let req: WriteRequest | undefined;
    const f = new WriteForwarder({
      instanceId: 'a',
      clock: t.clock,
      isLong: (m) => m === 'Vacuum',
      target: async (r) => {
        req = r;
      },
    });
    await f.write('Vacuum', null);
    expect(Date.parse(req!.meta.deadline!) - Date.parse(req!.meta.timestamp)).toBe(29_750);
  });

  it('retries retryable failures with the same request id, backing off', async () => {
    const t = fakeTime();
    const ids: string[] = [];
    let calls = 0;
    const target: WriteTarget = async (req) => {
      ids.push(req.meta.request_id);
      if (++calls < 4) throw new WriteError(calls === 2 ? 'OVERLOADED' : 'UNREACHABLE', 'not now');
      return 'done';
    };
    const f = new WriteForwarder({ instanceId: 'a', target, clock: t.clock, sleep: t.sleep, random: () => 1 });
    await expect(f.write('X', {})).resolves.toBe('done');
    expect(new Set(ids).size).toBe(1);
    expect(ids).toHaveLength(4);
    expect(t.sleeps).toEqual([25, 50, 100]);
  });

  it('does not retry a non-retryable error', async () => {
    let calls = 0;
    const f = new WriteForwarder({
      instanceId: 'a',
      target: async () => {
        calls++;
        throw new WriteError('CONFLICT', 'exists', { method: 'X' });
      },
    });
    expect((await rejection(f.write('X', {}))).code).toBe('CONFLICT');
    expect(calls).toBe(1);
  });

  it('gives up at the deadline with TIMEOUT, passing each attempt only the time left', async () => {
    const t = fakeTime();
    const budgets: number[] = [];
    const f = new WriteForwarder({
      instanceId: 'a',
      clock: t.clock,
      sleep: t.sleep,
      random: () => 1,
      target: async (_req, ms) => {
        budgets.push(ms);
        t.advance(400);
        throw new WriteError('TIMEOUT', 'no reply');
      },
    });
    const e = await rejection(f.write('X', {}, { timeoutMs: 1_000 }));
    expect([e.code, e.method]).toEqual(['TIMEOUT', 'X']);
    expect(e.message).toMatch(/outcome unknown: it had not committed when the deadline passed but may still commit/);
    expect(e.message).toMatch(/Retry with the same request id \(write option requestId\) to get its one outcome, or look the id up later with findRequest$/);
    expect(budgets[0]).toBe(1_000);
    expect(budgets.every((b, i) => i === 0 || b < budgets[i - 1]!)).toBe(true);
  });

  it('ends in BUSY, not TIMEOUT, when the primary answered BUSY (another connection held the lock) until the deadline', async () => {
    const t = fakeTime();
    let calls = 0;
    const f = new WriteForwarder({
      instanceId: 'a',
      clock: t.clock,
      sleep: t.sleep,
      random: () => 1,
      target: async () => {
        t.advance(300);
        // The first answers are BUSY; the last attempt's reply does not come back in time.
        if (++calls < 3) throw new WriteError('BUSY', 'another connection held the lock', { retryable: true });
        throw new WriteError('TIMEOUT', 'no reply');
      },
    });
    const e = await rejection(f.write('X', {}, { timeoutMs: 1_000 }));
    expect([e.code, e.method, e.isRetryable()]).toEqual(['BUSY', 'X', true]);
    expect(calls).toBeGreaterThanOrEqual(3);
  });

  it('answers from the local request record when the write committed but the reply was lost', async () => {
    const t = fakeTime();
    let sent: string | undefined;
    const f = new WriteForwarder({
      instanceId: 'a',
      clock: t.clock,
      sleep: t.sleep,
      target: async (req, ms) => {
        sent = req.meta.request_id;
        t.advance(ms);
        throw new WriteError('TIMEOUT', 'no reply');
      },
      findOutcome: (id) => (id === sent ? { ok: true, result: { id: 'row' } } : undefined),
    });
    await expect(f.write('X', {}, { timeoutMs: 100 })).resolves.toEqual({ id: 'row' });
  });

  it('says "outcome unknown" after a TIMEOUT with no record, and later settles the same request id from the record', async () => {
    // A stalled primary may commit a timed-out write later (issue 12, item 11): no
    // record at the deadline is not proof that it never ran.
    const t = fakeTime();
    let sent: string | undefined;
    let committedLater = false;
    const f = new WriteForwarder({
      instanceId: 'a',
      clock: t.clock,
      sleep: t.sleep,
      target: async (req, ms) => {
        sent = req.meta.request_id;
        t.advance(ms);
        throw new WriteError('TIMEOUT', 'no reply');
      },
      findOutcome: (id) => (committedLater && id === sent ? { ok: true, result: { id: 'row' }, method: 'X' } : undefined),
    });
    const e = await rejection(f.write('X', {}, { timeoutMs: 100 }));
    expect(e.message).toMatch(/outcome unknown/);
    expect(e.isRetryable()).toBe(true);
    committedLater = true;
    await expect(f.write('X', {}, { timeoutMs: 100, requestId: sent! })).resolves.toEqual({ id: 'row' });
  });

  it('refuses a recorded outcome of another write under the same request id with REQUEST_ID_REUSED', async () => {
    const t = fakeTime();
    const f = new WriteForwarder({
      instanceId: 'a',
      clock: t.clock,
      sleep: t.sleep,
      target: async (_req, ms) => {
        t.advance(ms);
        throw new WriteError('TIMEOUT', 'no reply');
      },
      findOutcome: () => ({ ok: true, result: { id: 'session' }, method: 'CreateSession' }),
    });
    const e = await rejection(f.write('CreateProject', {}, { timeoutMs: 100, requestId: 'rid' }));
    expect(e).toMatchObject({ code: 'REQUEST_ID_REUSED', method: 'CreateProject' });
  });

  it('reports UNREACHABLE when no primary ever answered', async () => {
    const t = fakeTime();
    const f = new WriteForwarder({
      instanceId: 'a',
      clock: t.clock,
      sleep: t.sleep,
      target: async (_r, ms) => {
        t.advance(Math.min(ms, 200));
        throw new WriteError('UNREACHABLE', 'no peer');
      },
    });
    expect((await rejection(f.write('X', {}, { timeoutMs: 500 }))).code).toBe('UNREACHABLE');
  });

  it('waits for a target to be set, then sends', async () => {
    const f = new WriteForwarder({ instanceId: 'a' });
    const p = f.write('X', {}, { timeoutMs: 5_000 });
    f.setTarget(async () => 'late but fine');
    await expect(p).resolves.toBe('late but fine');
  });

  it('caps the primary-side margin at a tenth of a short budget', async () => {
    const t = fakeTime();
    let req: WriteRequest | undefined;
    const f = new WriteForwarder({ instanceId: 'a', clock: t.clock, target: async (r) => void (req = r) });
    await f.write('X', {}, { timeoutMs: 1_000 });
    expect(Date.parse(req!.meta.deadline!) - Date.parse(req!.meta.timestamp)).toBe(900);
  });

  it('validates its options', () => {
    expect(() => new WriteForwarder({ instanceId: '' })).toThrow(/Expected 'instanceId'/);
    expect(() => new WriteForwarder({ instanceId: 'a', defaultTimeoutMs: 0 })).toThrow(
      "Expected 'defaultTimeoutMs' to be a number above 0, got 0 (number)",
    );
  });
});

describe('backoffDelay', () => {
  it('doubles up to the cap and jitters below it', () => {
    const policy = { baseDelayMs: 10, maxDelayMs: 100 };
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(policy, a, () => 1))).toEqual([10, 20, 40, 80, 100, 100]);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(20);
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
  });
});

describe('WriteForwarder.close', () => {
  it('refuses later writes and writes waiting for a target with the given error', async () => {
    const f = new WriteForwarder({ instanceId: 'a' });
    const waiting = f.write('X', {}, { timeoutMs: 60_000 });
    f.close(new WriteError('SHUTTING_DOWN', 'node closed', { retryable: false }));
    await expect(waiting).rejects.toMatchObject({ code: 'SHUTTING_DOWN', method: 'X' });
    await expect(f.write('Y', {})).rejects.toMatchObject({ code: 'SHUTTING_DOWN', method: 'Y', retryable: false });
  });
});
