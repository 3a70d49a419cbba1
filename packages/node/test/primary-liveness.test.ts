/** The secondary's view of its primary's heartbeat, driven by a fake clock and direct checks (no timers, no sleeps). */
import { describe, expect, it } from 'vitest';
import { PrimaryLiveness, type LivenessChange } from '@scribe/node';

function watch(missedBeats?: number): { live: PrimaryLiveness; changes: LivenessChange[]; advance: (ms: number) => void } {
  let now = 1_000_000;
  const changes: LivenessChange[] = [];
  const live = new PrimaryLiveness({ intervalMs: 100, ...(missedBeats === undefined ? {} : { missedBeats }), clock: () => now, onChange: (c) => changes.push(c) });
  return { live, changes, advance: (ms) => (now += ms) };
}

describe('PrimaryLiveness', () => {
  it('stays responsive while heartbeats come, however late within the limit', () => {
    const { live, changes, advance } = watch();
    for (let i = 0; i < 10; i++) {
      advance(290);
      live.check();
      live.heard();
    }
    expect(changes).toEqual([]);
    expect(live.responsive).toBe(true);
  });

  it('reports unresponsive once when the heartbeat is silent past missedBeats intervals, and responsive at the next one', () => {
    const { live, changes, advance } = watch();
    live.heard();
    const first = 1_000_000;
    advance(300);
    live.check();
    expect(changes).toEqual([]); // exactly the limit is not past it
    advance(1);
    live.check();
    live.check();
    advance(500);
    live.check();
    expect(changes).toEqual([{ responsive: false, lastHeartbeatAt: first, silentMs: 301 }]);
    expect([live.responsive, live.lapses, live.silentMs]).toEqual([false, 1, 801]);
    live.heard();
    expect(changes[1]).toEqual({ responsive: true, lastHeartbeatAt: first + 801, silentMs: 801 });
    expect([live.responsive, live.lapses, live.silentMs]).toEqual([true, 1, 0]);
  });

  it('counts silence from the start when no heartbeat ever came', () => {
    const { live, changes, advance } = watch(2);
    advance(201);
    live.check();
    expect(changes).toEqual([{ responsive: false, lastHeartbeatAt: undefined, silentMs: 201 }]);
  });

  it('refuses bad options with a message naming them', () => {
    expect(() => new PrimaryLiveness({ intervalMs: 0, onChange: () => undefined })).toThrow(/Expected 'intervalMs' to be a number above 0, got 0/);
    expect(() => new PrimaryLiveness({ intervalMs: 10, missedBeats: 0, onChange: () => undefined })).toThrow(/Expected 'missedBeats' to be an integer from 1 and up/);
  });

  it('start and stop are idempotent', () => {
    const { live } = watch();
    live.start();
    live.start();
    live.stop();
    live.stop();
    expect(live.responsive).toBe(true);
  });
});
