import { describe, expect, it } from 'vitest';
import { harness, item, rejection } from './helpers.js';

describe('a request id reused for another write', () => {
  it('answers REQUEST_ID_REUSED (not the first write\'s result) when the id is recorded, and the first write\'s result for a real retry', async () => {
    const h = harness();
    const first = await h.q.createSession({ id: 's1', title: 't' }, { requestId: 'rid-1' });
    const e = await rejection(h.q.createProject({ id: 'p1', name: 'p', path: '/p' } as never, { requestId: 'rid-1' }));
    expect(e).toMatchObject({ code: 'REQUEST_ID_REUSED', method: 'CreateProject' });
    expect(e.message).toBe('request id rid-1 was already used for CreateSession; a request id names one write, so send this CreateProject with a new request id');
    expect(e.isRetryable()).toBe(false);
    expect(h.store.query('SELECT id FROM projects')).toEqual([]);
    await expect(h.q.createSession({ id: 's1', title: 't' }, { requestId: 'rid-1' })).resolves.toEqual(first);
  });

  it('answers REQUEST_ID_REUSED inside one batch too', async () => {
    const h = harness();
    const { outcomes } = (await h.store.executeBatch([
      item('CreateSession', { id: 's1', title: 't' }, 'same'),
      item('DeleteSession', 's1', 'same'),
      item('CreateSession', { id: 's1', title: 't' }, 'same'),
    ]));
    expect(outcomes[0]).toMatchObject({ ok: true });
    expect(outcomes[1]).toMatchObject({ ok: false, error: { code: 'REQUEST_ID_REUSED', method: 'DeleteSession' } });
    expect(outcomes[2]).toMatchObject({ ok: true, duplicate: true });
    expect(h.store.query('SELECT id FROM sessions')).toEqual([{ id: 's1' }]);
  });
});
