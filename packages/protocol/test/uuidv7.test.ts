import { describe, expect, it } from 'vitest';
import { uuidv7 } from '@scribe/protocol';

describe('uuidv7', () => {
  it('is a version 7, variant 10 UUID carrying the millisecond', () => {
    const id = uuidv7(Date.parse('2026-11-24T00:00:00.000Z'));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(Date.parse('2026-11-24T00:00:00.000Z'));
  });

  it('sorts in creation order, also many within one millisecond and when the clock steps back', () => {
    const t = Date.parse('2030-01-01T00:00:00.000Z');
    const ids = [
      ...Array.from({ length: 5000 }, () => uuidv7(t)),
      ...Array.from({ length: 10 }, () => uuidv7(t - 5)),
      uuidv7(t + 10_000),
    ];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
