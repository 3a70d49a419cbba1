import { describe, expect, it } from 'vitest';
import { RateLimitedLog } from '@scribe/transport';
import { capturingLogger } from './helpers.js';

describe('RateLimitedLog', () => {
  it('logs the first occurrence at once, then one line per interval with the count of the others, never a stack', () => {
    const { logger, records } = capturingLogger();
    let now = 1_000;
    const log = new RateLimitedLog(logger, 'send failed; message dropped', { intervalMs: 10_000, clock: () => now });
    const error = Object.assign(new Error('Host unreachable'), { code: 'EHOSTUNREACH' });
    for (let i = 0; i < 500; i++) log.record(error);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ level: 40, msg: 'send failed; message dropped', code: 'EHOSTUNREACH', reason: 'Host unreachable', suppressed: 0 });
    expect(records[0]).not.toHaveProperty('err');
    expect(log.suppressed).toBe(499);
    now += 9_999;
    log.record(error);
    expect(records).toHaveLength(1);
    now += 1;
    log.record(error);
    expect(records).toHaveLength(2);
    expect(records[1]).toMatchObject({ suppressed: 500 });
    expect(log.suppressed).toBe(0);
    expect(JSON.stringify(records[1]).length).toBeLessThan(250);
  });
});
