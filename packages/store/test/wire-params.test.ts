import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GO_NULL_VALUE_KEYS, WriteRegistry, createDefaultRegistry, defineWrite, normaliseWireParams } from '@scribe/store';
import { thrown } from './helpers.js';
import { TEST_ENGINES, useEngines } from '../../../test/helpers/engines.js';

// The shapes a write stores, not durability: the faster server (fsync off).
const engines = useEngines({ durable: false });

// The reference client's shapes (Go, sqlc-generated params) turned into scribe's
// natural JSON in one function, before each write's schema.

describe('normaliseWireParams', () => {
  it('turns a bare string into the id-only write\'s field, and leaves it for the schema otherwise', () => {
    expect(normaliseWireParams('s1', 'id')).toEqual({ id: 's1' });
    expect(normaliseWireParams('s1', 'session_id')).toEqual({ session_id: 's1' });
    expect(normaliseWireParams('s1', undefined)).toBe('s1');
    for (const other of [42, true, null, undefined]) expect(normaliseWireParams(other, 'id')).toBe(other);
  });

  it.each(GO_NULL_VALUE_KEYS.map((k) => [k] as const))('unwraps sql.Null%s: the value when Valid, null when not', (key) => {
    const value = key === 'String' || key === 'Time' ? 'x' : key === 'Bool' ? true : 7;
    expect(normaliseWireParams({ a: { [key]: value, Valid: true }, b: { Valid: false, [key]: value } }, undefined)).toEqual({ a: value, b: null });
  });

  it('leaves anything that is not exactly a Go null object to the schema, and never changes its input', () => {
    const params = {
      three: { String: 'x', Valid: true, Extra: 1 },
      notBool: { String: 'x', Valid: 'yes' },
      unknownKey: { Text: 'x', Valid: true },
      list: [{ String: 'x', Valid: true }],
      nested: { inner: { String: 'x', Valid: true } },
      plain: 'x',
      wrapped: { Int64: 5, Valid: true },
    };
    const copy = structuredClone(params);
    expect(normaliseWireParams(params, undefined)).toEqual({ ...copy, wrapped: 5 });
    expect(params).toEqual(copy);
  });

  it('returns the same object when there is nothing to change (no copy on the hot path)', () => {
    const params = { id: 'm1', parts: '[]', model: null };
    expect(normaliseWireParams(params, undefined)).toBe(params);
  });

  it('can be turned off per write (the raw-SQL writes, whose params are bind values)', () => {
    const params = { sql: 'SELECT 1', params: { String: 'x', Valid: true } };
    expect(normaliseWireParams(params, undefined, false)).toBe(params);
  });
});

describe('WriteRegistry.validate with the reference shapes', () => {
  it('parses a bare string and Go null objects to what the natural params parse to', () => {
    const r = createDefaultRegistry();
    expect(r.validate('DeleteSession', 's1')).toEqual(r.validate('DeleteSession', { id: 's1' }));
    expect(r.validate('DeleteSessionFiles', 's1')).toEqual({ session_id: 's1' });
    expect(
      r.validate('CreateMessage', { id: 'm1', session_id: 's1', role: 'user', parts: '[]', model: { String: 'gpt', Valid: true } }),
    ).toEqual(r.validate('CreateMessage', { id: 'm1', session_id: 's1', role: 'user', parts: '[]', model: 'gpt' }));
    expect(r.validate('UpdateMessage', { id: 'm1', parts: '[]', finished_at: { Int64: 1_700_000_000, Valid: true } })).toEqual({
      id: 'm1',
      parts: '[]',
      finished_at: '2023-11-14T22:13:20.000Z',
    });
    expect(r.validate('UpdateMessage', { id: 'm1', parts: '[]', finished_at: { Int64: 0, Valid: false } })).toEqual({ id: 'm1', parts: '[]', finished_at: null });
  });

  it('names params for a bare non-string where an id is expected, and the field for a malformed Go value', () => {
    const r = createDefaultRegistry();
    for (const bad of [42, true, null, ['s1']]) {
      const e = thrown(() => r.validate('DeleteSession', bad));
      expect(e).toMatchObject({ code: 'INVALID_PARAMS', field: 'params', method: 'DeleteSession' });
      expect(e.message).toMatch(/^Expected params to be an id string or an object \{"id": …\}, got /);
    }
    expect(thrown(() => r.validate('CreateMessage', { session_id: 's', role: 'u', parts: '', model: { String: 5, Valid: true } }))).toMatchObject({
      field: 'params.model',
      message: 'Expected params.model to be a string, got 5 (number)',
    });
    expect(thrown(() => r.validate('CreateMessage', { session_id: 's', role: 'u', parts: '', model: { String: 'x', Valid: 1 } }))).toMatchObject({
      field: 'params.model',
    });
  });

  it('applies to application writes too, through the same registry', () => {
    const Tag = defineWrite({
      name: 'Tag',
      description: 'test',
      schema: z.strictObject({ id: z.string(), label: z.string().nullable() }),
      bareParam: 'id',
      handler: (_ctx, p) => p,
    });
    const r = new WriteRegistry().register(Tag);
    expect(r.validate('Tag', { id: 'a', label: { String: '', Valid: false } })).toEqual({ id: 'a', label: null });
    expect(thrown(() => r.validate('Tag', 'a'))).toMatchObject({ field: 'params.label' });
  });
});

describe.each(TEST_ENGINES)('the reference shapes through a store on %s', (engine) => {
  it('lets a Querier caller pass a bare id to the id-only writes, as the reference querier\'s DeleteSession(ctx, id)', async () => {
    const { q } = await engines.openTestStore(engine);
    await q.createSession({ id: 's1', title: 't' });
    await q.insertSkill({ id: 'k1', title: 't', content: '' });
    expect(await q.incrementSkillUsage('k1')).toMatchObject({ id: 'k1', usage_count: 1 });
    expect(await q.deleteSession('s1')).toMatchObject({ deleted: 1 });
    expect(await q.getSessionByID('s1')).toBeUndefined();
  });

  it('stores a reference-shaped write exactly as the natural one (store level)', async () => {
    const natural = await engines.openTestStore(engine);
    const go = await engines.openTestStore(engine);
    for (const h of [natural, go]) {
      await h.q.createSession({ id: 's1', title: 't' });
      await h.q.createProject({ id: 'p1', name: 'p', path: '/p' });
    }
    await natural.q.write('UpdateProjectStatus', { id: 'p1', status: 'running', acp_pid: 42, acp_port: 8080 });
    await go.q.write('UpdateProjectStatus', { status: 'running', acp_pid: { Int64: 42, Valid: true }, acp_port: { Int64: 8080, Valid: true }, id: 'p1' });
    await natural.q.write('CreateFile', { id: 'f1', session_id: 's1', path: 'a', content: 'x', version: 0 });
    await go.q.write('CreateFile', { id: 'f1', session_id: 's1', path: 'a', content: 'x', version: 'initial' });
    await natural.q.write('DeleteSessionMessages', { session_id: 's1' });
    await go.q.write('DeleteSessionMessages', 's1');
    const rows = async (h: typeof natural) => {
      const s = await h.snapshot();
      // request ids differ between the two runs; everything an application reads must not.
      return { ...s, _scribe_changes: s._scribe_changes!.map((c) => ({ ...(c as object), request_id: undefined })) };
    };
    expect(await rows(go)).toEqual(await rows(natural));
  });
});
