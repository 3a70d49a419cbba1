import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { WriteRegistry, createDefaultRegistry, defineWrite, findLoneSurrogate } from '@scribe/store';
import { item, rejection, thrown } from './helpers.js';
import { TEST_ENGINES, useEngines } from '../../../test/helpers/engines.js';

// Refusals, not durability: the faster server (fsync off).
const engines = useEngines({ durable: false });

const Nested = defineWrite({
  name: 'Nested',
  description: 'takes nested strings',
  schema: z.strictObject({ items: z.array(z.strictObject({ text: z.string() })), tags: z.record(z.string(), z.string()).optional() }),
  handler: () => null,
});

describe('lone surrogates: refused where every write is validated', () => {
  it('names the field of a built-in write', async () => {
    const e = thrown(() => createDefaultRegistry().validate('CreateSession', { id: 's1', title: 'a\ud800b' }));
    expect(e).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.title', method: 'CreateSession' });
    expect(e.message).toBe(
      'Expected params.title to be valid Unicode text, got a string with a lone surrogate (an unpaired UTF-16 half, which cannot be stored as UTF-8)',
    );
    expect(e.isRetryable()).toBe(false);
  });

  it('names nested fields, object keys and a bare id', async () => {
    const r = new WriteRegistry().register(Nested);
    expect(thrown(() => r.validate('Nested', { items: [{ text: 'ok' }, { text: '\udc00x' }] })).field).toBe('params.items.1.text');
    expect(thrown(() => r.validate('Nested', { items: [], tags: { ['k\ud83d']: 'v' } })).field).toBe('params.tags.k\\ud83d');
    expect(thrown(() => createDefaultRegistry().validate('DeleteSession', '\ud800')).field).toBe('params.id'); // a bare id is named as the id it stands for
  });

  it('accepts paired surrogates (emoji) and ordinary text', async () => {
    expect(createDefaultRegistry().validate('CreateSession', { id: 's1', title: 'ok 😀 \u00e9' })).toMatchObject({ title: 'ok 😀 \u00e9' });
    expect(findLoneSurrogate({ a: ['😀', { b: 'x' }] })).toBeUndefined();
    expect(findLoneSurrogate('😀'.slice(0, 1))).toBe('params');
    expect(findLoneSurrogate('😀'.slice(1))).toBe('params');
  });
});

describe.each(TEST_ENGINES)('lone surrogates on %s', (engine) => {
  it('changes nothing in the database', async () => {
    const h = await engines.openTestStore(engine);
    const before = await h.snapshot();
    const e = await rejection(h.q.createSession({ id: 's1', title: '\ud800' }));
    expect(e).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.title' });
    const outcome = (await h.executeBatch([item('CreateSession', { id: 's2', title: 'x\udfff' })])).outcomes[0]!;
    expect(outcome).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMS', field: 'params.title' } });
    expect(await h.snapshot()).toEqual(before);
  });
});
