import { describe, expect, it } from 'vitest';
import { NodeMetrics, StatusHistory, quantileMs } from '@scribe/node';

/** A node's real metrics registry over counters the test sets. */
function metrics() {
  const state = { primary: true, depth: 0, outcomes: [] as Array<{ method: string; outcome: string; count: number }> };
  const m = new NodeMetrics(
    {
      role: () => (state.primary ? 'primary' : 'secondary'),
      epoch: () => 1,
      coordinator: () => (state.primary ? { queueDepth: state.depth, outcomes: state.outcomes } : undefined),
      failovers: () => 0,
      walPath: '/nonexistent-wal',
    },
    { node: 't' },
  );
  return { state, m };
}

describe('StatusHistory', () => {
  it('turns the registry counters into per-second rates, refused writes by code, latency percentiles and batch sizes', async () => {
    const { state, m } = metrics();
    let now = 1_000_000;
    const h = new StatusHistory({ registry: m.registry, commits: () => state.primary, queueDepth: () => state.depth }, { clock: () => now });
    await h.sample(); // baseline
    expect(h.samples()).toEqual([]);

    state.outcomes = [
      { method: 'CreateSession', outcome: 'ok', count: 40 },
      { method: 'CreateSession', outcome: 'CONFLICT', count: 3 },
    ];
    for (let i = 0; i < 9; i++) m.observeBatch(4, 0.8); // 0.5–1 ms bucket
    m.observeBatch(8, 40); // 20–50 ms bucket
    state.depth = 7;
    now += 2_000;
    await h.sample();
    const [s] = h.samples();
    expect(s).toMatchObject({ t: now, committed: 20, refused: { CONFLICT: 1.5 }, queue_depth: 7, batch_size: 4.4 });
    expect(s!.p50_ms).toBeGreaterThan(0.5);
    expect(s!.p50_ms).toBeLessThanOrEqual(1);
    expect(s!.p99_ms).toBeGreaterThan(20);
    expect(s!.p99_ms).toBeLessThanOrEqual(50);
    expect(h.errorTotals()).toEqual({ CONFLICT: 3 });
    expect(h.recentErrors()).toEqual([{ at: new Date(now).toISOString(), code: 'CONFLICT', method: 'CreateSession', count: 3 }]);

    now += 1_000;
    await h.sample();
    expect(h.samples()[1]).toEqual({ t: now, committed: 0, refused: {}, p50_ms: null, p99_ms: null, queue_depth: 7, batch_size: null });

    state.primary = false; // a secondary has no write path of its own
    now += 1_000;
    await h.sample();
    expect(h.samples()[2]!.committed).toBeNull();
  });

  it('keeps only the last samples, and a new coordinator (counters back at zero) does not make negative rates', async () => {
    const { state, m } = metrics();
    let now = 0;
    const h = new StatusHistory({ registry: m.registry, commits: () => true, queueDepth: () => 0 }, { clock: () => now, samples: 3 });
    await h.sample();
    for (const count of [10, 20, 30, 5, 15]) {
      state.outcomes = [{ method: 'W', outcome: 'ok', count }];
      now += 1_000;
      await h.sample();
    }
    expect(h.samples().map((s) => s.committed)).toEqual([10, 5, 10]);
  });

  it('rejects a sample count below one with a message that says what to change', () => {
    const { m } = metrics();
    expect(() => new StatusHistory({ registry: m.registry, commits: () => true, queueDepth: () => 0 }, { samples: 0 })).toThrow(
      "Expected 'samples' to be an integer from 1 and up, got 0 (number)",
    );
  });
});

describe('quantileMs', () => {
  it('interpolates inside the bucket the rank falls in, and answers the highest finite bound for +Inf', () => {
    const before: Array<[number, number]> = [[0.001, 0], [0.01, 0], [Infinity, 0]];
    expect(quantileMs(0.5, before, [[0.001, 10], [0.01, 10], [Infinity, 10]])).toBe(0.5);
    expect(quantileMs(0.5, before, [[0.001, 0], [0.01, 10], [Infinity, 10]])).toBe(5.5);
    expect(quantileMs(0.99, before, [[0.001, 0], [0.01, 0], [Infinity, 4]])).toBe(10);
    expect(quantileMs(0.5, before, before)).toBeNull();
  });
});
