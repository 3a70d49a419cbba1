import { describe, expect, it } from 'vitest';
import { AGENT_WRITES, QUERIER_WRITES, createDefaultRegistry } from '@scribe/store';
import { MINIMAL_PARAMS, harness, item, seedParents, snapshot } from './helpers.js';

const NAMES = AGENT_WRITES.map((w) => w.name);

describe('the 21 agent writes, table-driven', () => {
  it('are exactly the writes MINIMAL_PARAMS and the Querier know', async () => {
    expect(NAMES).toHaveLength(21);
    expect(Object.keys(MINIMAL_PARAMS).sort()).toEqual([...NAMES].sort());
    expect(Object.values(QUERIER_WRITES).sort()).toEqual([...NAMES].sort());
    expect(createDefaultRegistry().names()).toEqual([...NAMES, 'Exec', 'ExecBatch']);
  });

  it.each(NAMES)('%s succeeds with its minimal params', async (name) => {
    const { store, q } = harness();
    await seedParents(q);
    const [outcome] = (await store.executeBatch([item(name, MINIMAL_PARAMS[name])])).outcomes;
    expect(outcome).toMatchObject({ ok: true, duplicate: false });
  });

  it.each(NAMES)('%s refuses an unknown extra key with INVALID_PARAMS naming it, changing nothing', async (name) => {
    const { store, q } = harness();
    await seedParents(q);
    const before = snapshot(store);
    const [outcome] = (await store.executeBatch([item(name, { ...(MINIMAL_PARAMS[name] ?? {}), zzz_unknown: 1 })])).outcomes;
    expect(outcome).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMS', field: 'params.zzz_unknown', method: name } });
    expect(snapshot(store)).toEqual(before);
  });

  const required = NAMES.flatMap((name) => Object.keys(MINIMAL_PARAMS[name] ?? {}).map((field) => [name, field] as const));

  it.each(required)('%s refuses a missing %s with INVALID_PARAMS naming it, changing nothing', async (name, field) => {
    const { store, q } = harness();
    await seedParents(q);
    const before = snapshot(store);
    const { [field]: _, ...rest } = MINIMAL_PARAMS[name]!;
    const [outcome] = (await store.executeBatch([item(name, rest)])).outcomes;
    expect(outcome).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMS', field: `params.${field}` } });
    expect(outcome?.ok === false && outcome.error.message).toMatch(new RegExp(`^Expected params\\.${field} to be .*, got nothing$`));
    expect(snapshot(store)).toEqual(before);
  });

  it.each(required)('%s refuses %s of the wrong type (an object) with INVALID_PARAMS naming it', async (name, field) => {
    const { store, q } = harness();
    await seedParents(q);
    const before = snapshot(store);
    const [outcome] = (await store.executeBatch([item(name, { ...MINIMAL_PARAMS[name], [field]: { wrong: true } })])).outcomes;
    expect(outcome).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMS', field: `params.${field}` } });
    expect(snapshot(store)).toEqual(before);
  });

  const ID_ONLY = ['DeleteSession', 'DeleteSessionMessages', 'DeleteMessage', 'DeleteFile', 'DeleteSessionFiles', 'IncrementSkillUsage', 'MarkProjectInitialized', 'DeleteProject'];

  it('declare a bare-string field exactly for the reference\'s id-only writes', () => {
    expect(AGENT_WRITES.filter((w) => w.bareParam !== undefined).map((w) => w.name).sort()).toEqual([...ID_ONLY].sort());
  });

  it.each(NAMES.filter((n) => MINIMAL_PARAMS[n] !== null && !ID_ONLY.includes(n)))('%s refuses a bare string as params', async (name) => {
    const { store } = harness();
    const [outcome] = (await store.executeBatch([item(name, 'a string')])).outcomes;
    expect(outcome).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMS', field: 'params' } });
  });

  it.each(NAMES.filter((n) => MINIMAL_PARAMS[n] !== null))('%s refuses params that are a number, a boolean or a list, naming params', async (name) => {
    const { store } = harness();
    for (const bad of [42, true, ['s1']]) {
      const [outcome] = (await store.executeBatch([item(name, bad)])).outcomes;
      expect(outcome).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMS', field: 'params' } });
    }
  });
});
