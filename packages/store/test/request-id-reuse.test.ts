import { describe, expect, it } from 'vitest';
import { item, rejection } from './helpers.js';
import { TEST_ENGINES, useEngines } from '../../../test/helpers/engines.js';

// Exactly-once is about what was committed: the server is durable (fsync on).
const engines = useEngines();

describe.each(TEST_ENGINES)('on %s: a request id reused for another write', (engine) => {
  it('answers REQUEST_ID_REUSED (not the first write\'s result) when the id is recorded, and the first write\'s result for a real retry', async () => {
    const h = await engines.openTestStore(engine);
    const first = await h.q.createSession({ id: 's1', title: 't' }, { requestId: 'rid-1' });
    const e = await rejection(h.q.createProject({ id: 'p1', name: 'p', path: '/p' } as never, { requestId: 'rid-1' }));
    expect(e).toMatchObject({ code: 'REQUEST_ID_REUSED', method: 'CreateProject' });
    expect(e.message).toBe('request id rid-1 was already used for CreateSession; a request id names one write, so send this CreateProject with a new request id');
    expect(e.isRetryable()).toBe(false);
    expect(await h.query('SELECT id FROM projects')).toEqual([]);
    await expect(h.q.createSession({ id: 's1', title: 't' }, { requestId: 'rid-1' })).resolves.toEqual(first);
    expect(await h.query('SELECT id FROM sessions')).toEqual([{ id: 's1' }]);
  });

  it('answers REQUEST_ID_REUSED inside one batch too', async () => {
    const h = await engines.openTestStore(engine);
    const { outcomes } = await h.executeBatch([
      item('CreateSession', { id: 's1', title: 't' }, 'same'),
      item('DeleteSession', 's1', 'same'),
      item('CreateSession', { id: 's1', title: 't' }, 'same'),
    ]);
    expect(outcomes[0]).toMatchObject({ ok: true });
    expect(outcomes[1]).toMatchObject({ ok: false, error: { code: 'REQUEST_ID_REUSED', method: 'DeleteSession' } });
    expect(outcomes[2]).toMatchObject({ ok: true, duplicate: true });
    expect(await h.query('SELECT id FROM sessions')).toEqual([{ id: 's1' }]);
  });
});
