import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { WriteError } from '@scribe/protocol';
import { AGENT_WRITES, WriteRegistry, createDefaultRegistry, defineWrite } from '@scribe/store';
import { thrown } from './helpers.js';

const Ping = defineWrite({
  name: 'Ping',
  description: 'answers pong',
  schema: z.strictObject({ n: z.number().int().min(1), tags: z.array(z.string()).min(1).optional(), nested: z.strictObject({ a: z.string() }).optional() }),
  handler: (_ctx, p) => ({ pong: p.n }),
});

describe('WriteRegistry', () => {
  it('registers, finds and lists writes in registration order', () => {
    const r = new WriteRegistry().register(Ping);
    expect(r.has('Ping')).toBe(true);
    expect(r.get('Ping')).toBe(Ping);
    expect(r.get('Pong')).toBeUndefined();
    expect(r.has('Pong')).toBe(false);
    expect(r.names()).toEqual(['Ping']);
  });

  it('refuses a name registered twice, a malformed name and a missing handler with TypeError', () => {
    const r = new WriteRegistry().register(Ping);
    expect(() => r.register(Ping)).toThrow(TypeError);
    expect(() => r.register(Ping)).toThrow(/Ping twice/);
    expect(() => r.register({ ...Ping, name: 'has space' })).toThrow(TypeError);
    expect(() => r.register({ ...Ping, name: 'NoHandler', handler: undefined as never })).toThrow(TypeError);
  });

  it('validate returns the parsed params', () => {
    const r = new WriteRegistry().register(Ping);
    expect(r.validate('Ping', { n: 3 })).toEqual({ n: 3 });
  });

  it('validate answers METHOD_NOT_FOUND for an unknown name, naming it', () => {
    const e = thrown(() => new WriteRegistry().validate('Nope', {}));
    expect(e).toBeInstanceOf(WriteError);
    expect(e).toMatchObject({ code: 'METHOD_NOT_FOUND', method: 'Nope', retryable: false });
  });

  it.each([
    ['a missing field', {}, 'params.n', 'Expected params.n to be a number, got nothing'],
    ['a wrong type', { n: 'x' }, 'params.n', 'Expected params.n to be a number, got "x" (string)'],
    ['a non-integer', { n: 1.5 }, 'params.n', 'Expected params.n to be an integer, got 1.5 (number)'],
    ['a number too small', { n: 0 }, 'params.n', 'Expected params.n to be at least 1, got 0 (number)'],
    ['an empty list', { n: 1, tags: [] }, 'params.tags', 'Expected params.tags to be a list of at least 1 items, got an array (length 0)'],
    ['a nested field', { n: 1, nested: { a: 2 } }, 'params.nested.a', 'Expected params.nested.a to be a string, got 2 (number)'],
    ['an unknown key', { n: 1, extra: true }, 'params.extra', 'Expected params.extra to be absent (Ping has no such field), got true (boolean)'],
    ['params that are not an object', null, 'params', 'Expected params to be an object, got null'],
  ])('validate answers INVALID_PARAMS for %s, naming the dotted field', (_, params, field, message) => {
    const e = thrown(() => new WriteRegistry().register(Ping).validate('Ping', params));
    expect(e).toMatchObject({ code: 'INVALID_PARAMS', method: 'Ping', field, message, retryable: false });
  });
});

describe('createDefaultRegistry', () => {
  const AGENT_NAMES = [
    'CreateProject', 'UpdateProjectStatus', 'UpdateProjectLastOpened', 'MarkProjectInitialized', 'DeleteProject',
    'CreateSession', 'UpdateSession', 'DeleteSession', 'DeleteSessionMessages',
    'CreateMessage', 'UpdateMessage', 'DeleteMessage',
    'CreateFile', 'UpdateFile', 'DeleteFile', 'DeleteSessionFiles',
    'InsertPromptTemplate', 'InsertSessionScore', 'InsertSkill', 'IncrementSkillUsage', 'DeactivateLowestSkill',
  ];

  it('holds the 21 agent writes and the two raw SQL writes, each with a description', () => {
    const r = createDefaultRegistry();
    expect(AGENT_WRITES.map((w) => w.name)).toEqual(AGENT_NAMES);
    expect(r.names()).toEqual([...AGENT_NAMES, 'Exec', 'ExecBatch']);
    for (const name of r.names()) expect(r.get(name)!.description.length).toBeGreaterThan(10);
    expect(r.get('ExecBatch')!.long).toBe(true);
    expect(r.get('CreateMessage')!.long).toBeFalsy();
  });

  it('keeps Exec registered when raw SQL is off (it answers DISABLED), so callers learn why', () => {
    const r = createDefaultRegistry({ rawSql: false });
    expect(r.has('Exec')).toBe(true);
    expect(r.has('ExecBatch')).toBe(true);
  });

  it('gives a fresh registry each call, open to application writes', () => {
    const a = createDefaultRegistry().register(Ping);
    expect(a.has('Ping')).toBe(true);
    expect(createDefaultRegistry().has('Ping')).toBe(false);
  });
});
