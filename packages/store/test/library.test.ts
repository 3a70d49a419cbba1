import { describe, expect, it } from 'vitest';
import { rejection } from './helpers.js';
import { TEST_ENGINES, useEngines, type TestStoreOptions } from '../../../test/helpers/engines.js';

// Shapes and codes, not durability: the faster server (fsync off).
const engines = useEngines({ durable: false });

describe.each(TEST_ENGINES)('on %s', (engine) => {
  const harness = async (options: TestStoreOptions = {}) => {
    const store = await engines.openTestStore(engine, options);
    return { ...store, store };
  };

  describe('InsertPromptTemplate', () => {
    it('adds an active, non-default version-1 template by default; a read returns the same row', async () => {
      const { q, clock } = await harness();
      const t = await q.insertPromptTemplate({ id: 't1', name: 'system', section: 'intro', content: 'You are…' });
      expect(t).toEqual({
        id: 't1',
        name: 'system',
        section: 'intro',
        content: 'You are…',
        version: 1,
        is_active: true,
        is_default: false,
        created_at: clock.iso,
        updated_at: clock.iso,
      });
      expect(await q.getPromptTemplate('t1')).toEqual(t);
      const u = await q.insertPromptTemplate({ name: 'system', section: 'intro', content: 'v2', version: 2, is_active: false, is_default: true });
      expect(u).toMatchObject({ version: 2, is_active: false, is_default: true });
      expect(await q.getPromptTemplate(u.id)).toEqual(u);
    });

    it('refuses bad params with INVALID_PARAMS naming the field and a duplicate id with CONFLICT, changing nothing', async () => {
      const { q, store } = await harness();
      await q.insertPromptTemplate({ id: 't1', name: 'n', section: 's', content: 'c' });
      const before = await store.snapshot();
      expect(await rejection(q.write('InsertPromptTemplate', { name: 'n', content: 'c' }))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.section' });
      expect(await rejection(q.write('InsertPromptTemplate', { name: 'n', section: 's', content: 'c', is_default: 'yes' }))).toMatchObject({
        field: 'params.is_default',
      });
      expect(await rejection(q.write('InsertPromptTemplate', { name: 'n', section: 's', content: 'c', version: 0 }))).toMatchObject({ field: 'params.version' });
      expect(await rejection(q.write('InsertPromptTemplate', { name: 'n', section: 's', content: 'c', lang: 'en' }))).toMatchObject({ field: 'params.lang' });
      expect(await rejection(q.insertPromptTemplate({ id: 't1', name: 'n', section: 's', content: 'c' }))).toMatchObject({ code: 'CONFLICT' });
      expect(await store.snapshot()).toEqual(before);
    });

    it('listPromptTemplates(section): that section only, by name then newest version first; without a section, by section first', async () => {
      const { q } = await harness();
      await q.insertPromptTemplate({ id: 'b1', name: 'b', section: 'tools', content: '', version: 1 });
      await q.insertPromptTemplate({ id: 'a1', name: 'a', section: 'tools', content: '', version: 1 });
      await q.insertPromptTemplate({ id: 'b2', name: 'b', section: 'tools', content: '', version: 2 });
      await q.insertPromptTemplate({ id: 'i1', name: 'z', section: 'intro', content: '' });
      expect((await q.listPromptTemplates('tools')).map((t) => t.id)).toEqual(['a1', 'b2', 'b1']);
      expect((await q.listPromptTemplates()).map((t) => t.id)).toEqual(['i1', 'a1', 'b2', 'b1']);
      expect(await q.listPromptTemplates('none')).toEqual([]);
      expect(await q.getPromptTemplate('nope')).toBeUndefined();
    });
  });

  describe('InsertSessionScore', () => {
    it('records a score with zero counters and evaluated_at defaulting to the write time; a read returns the same row', async () => {
      const { q, clock } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      const sc = await q.insertSessionScore({ id: 'sc1', session_id: 's1', reward: 0.75, judge_model: 'judge' });
      expect(sc).toEqual({
        id: 'sc1',
        session_id: 's1',
        template_id: null,
        reward: 0.75,
        success_score: null,
        efficiency_score: null,
        judge_analysis: null,
        judge_model: 'judge',
        prompt_tokens: 0,
        completion_tokens: 0,
        message_count: 0,
        user_corrections: 0,
        evaluated_at: clock.iso,
        created_at: clock.iso,
      });
      expect(await q.getSessionScoreByID('sc1')).toEqual(sc);
      const given = await q.insertSessionScore({ session_id: 's1', evaluated_at: '2020-02-02T00:00:00.000Z', user_corrections: 2 });
      expect(given).toMatchObject({ evaluated_at: '2020-02-02T00:00:00.000Z', user_corrections: 2 });
    });

    it('answers CONFLICT for a missing session or duplicate id and INVALID_PARAMS naming the field, changing nothing', async () => {
      const { q, store } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      await q.insertSessionScore({ id: 'sc1', session_id: 's1' });
      const before = await store.snapshot();
      expect(await rejection(q.insertSessionScore({ session_id: 'ghost' }))).toMatchObject({ code: 'CONFLICT', method: 'InsertSessionScore' });
      expect(await rejection(q.insertSessionScore({ id: 'sc1', session_id: 's1' }))).toMatchObject({ code: 'CONFLICT' });
      expect(await rejection(q.write('InsertSessionScore', { session_id: 's1', reward: 'high' }))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.reward' });
      expect(await rejection(q.write('InsertSessionScore', { session_id: 's1', prompt_tokens: -1 }))).toMatchObject({ field: 'params.prompt_tokens' });
      expect(await rejection(q.write('InsertSessionScore', { reward: 1 }))).toMatchObject({ field: 'params.session_id' });
      expect(await rejection(q.write('InsertSessionScore', { session_id: 's1', rubric: 'x' }))).toMatchObject({ field: 'params.rubric' });
      expect(await store.snapshot()).toEqual(before);
    });

    it('listSessionScoresBySession: one session, oldest first', async () => {
      const { q, clock } = await harness();
      await q.createSession({ id: 's1', title: 'a' });
      await q.createSession({ id: 's2', title: 'b' });
      await q.insertSessionScore({ id: 'z', session_id: 's1' });
      clock.advance();
      await q.insertSessionScore({ id: 'a', session_id: 's1' });
      await q.insertSessionScore({ id: 'x', session_id: 's2' });
      expect((await q.listSessionScoresBySession('s1')).map((s) => s.id)).toEqual(['z', 'a']);
      expect(await q.getSessionScoreByID('nope')).toBeUndefined();
    });
  });

  describe('InsertSkill', () => {
    it('adds an active skill with zero usage by default; a read returns the same row', async () => {
      const { q, clock } = await harness();
      const s = await q.insertSkill({ id: 'k1', title: 'grep first', content: 'search before editing', task_type: 'refactor' });
      expect(s).toEqual({
        id: 'k1',
        title: 'grep first',
        content: 'search before editing',
        source_session_id: null,
        source_template_id: null,
        task_type: 'refactor',
        usage_count: 0,
        success_rate: 0,
        is_active: true,
        created_at: clock.iso,
        updated_at: clock.iso,
      });
      expect(await q.getSkill('k1')).toEqual(s);
    });

    it('refuses bad params with INVALID_PARAMS naming the field and a duplicate id with CONFLICT, changing nothing', async () => {
      const { q, store } = await harness();
      await q.insertSkill({ id: 'k1', title: 't', content: 'c' });
      const before = await store.snapshot();
      expect(await rejection(q.write('InsertSkill', { title: 't', content: 'c', success_rate: 1.5 }))).toMatchObject({
        code: 'INVALID_PARAMS',
        field: 'params.success_rate',
      });
      expect(await rejection(q.write('InsertSkill', { content: 'c' }))).toMatchObject({ field: 'params.title' });
      expect(await rejection(q.write('InsertSkill', { title: 't', content: 'c', usage_count: -1 }))).toMatchObject({ field: 'params.usage_count' });
      expect(await rejection(q.write('InsertSkill', { title: 't', content: 'c', score: 1 }))).toMatchObject({ field: 'params.score' });
      expect(await rejection(q.insertSkill({ id: 'k1', title: 't', content: 'c' }))).toMatchObject({ code: 'CONFLICT' });
      expect(await store.snapshot()).toEqual(before);
    });
  });

  describe('IncrementSkillUsage', () => {
    it('counts a use and folds the outcome into success_rate as a running mean', async () => {
      const { q, clock } = await harness();
      await q.insertSkill({ id: 'k1', title: 't', content: 'c' });
      expect(await q.incrementSkillUsage({ id: 'k1', success: true })).toMatchObject({ usage_count: 1, success_rate: 1 });
      expect(await q.incrementSkillUsage({ id: 'k1', success: false })).toMatchObject({ usage_count: 2, success_rate: 0.5 });
      const later = clock.advance();
      const third = await q.incrementSkillUsage({ id: 'k1', success: true });
      expect(third.usage_count).toBe(3);
      expect(third.success_rate).toBeCloseTo(2 / 3, 12);
      expect(third.updated_at).toBe(later);
      expect(await q.getSkill('k1')).toEqual(third);
    });

    it('without an outcome counts the use and keeps the rate', async () => {
      const { q } = await harness();
      await q.insertSkill({ id: 'k1', title: 't', content: 'c', usage_count: 4, success_rate: 0.25 });
      expect(await q.incrementSkillUsage({ id: 'k1' })).toMatchObject({ usage_count: 5, success_rate: 0.25 });
      // The next outcome is weighted against all five uses.
      expect((await q.incrementSkillUsage({ id: 'k1', success: true })).success_rate).toBeCloseTo((0.25 * 5 + 1) / 6, 12);
    });

    it('answers NOT_FOUND for a missing id and INVALID_PARAMS for a non-boolean outcome, changing nothing', async () => {
      const { q, store } = await harness();
      await q.insertSkill({ id: 'k1', title: 't', content: 'c' });
      const before = await store.snapshot();
      expect(await rejection(q.incrementSkillUsage({ id: 'nope', success: true }))).toMatchObject({ code: 'NOT_FOUND', method: 'IncrementSkillUsage' });
      expect(await rejection(q.write('IncrementSkillUsage', { id: 'k1', success: 1 }))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.success' });
      expect(await rejection(q.write('IncrementSkillUsage', { id: 'k1', by: 2 }))).toMatchObject({ field: 'params.by' });
      expect(await store.snapshot()).toEqual(before);
    });
  });

  describe('DeactivateLowestSkill', () => {
    it('picks the lowest success_rate, then the lowest usage_count, then the oldest created_at, then the smallest id', async () => {
      const { q, clock } = await harness();
      // An inactive skill with the lowest rate of all must never be picked.
      await q.insertSkill({ id: 'inactive', title: 't', content: '', success_rate: 0, is_active: false });
      await q.insertSkill({ id: 'best', title: 't', content: '', success_rate: 0.9, usage_count: 0 });
      await q.insertSkill({ id: 'old-b', title: 't', content: '', success_rate: 0.2, usage_count: 3 });
      await q.insertSkill({ id: 'old-a', title: 't', content: '', success_rate: 0.2, usage_count: 3 });
      clock.advance();
      await q.insertSkill({ id: 'aaa-new', title: 't', content: '', success_rate: 0.2, usage_count: 3 });
      await q.insertSkill({ id: 'busy', title: 't', content: '', success_rate: 0.2, usage_count: 9 });
      const later = clock.advance();

      const order: string[] = [];
      for (;;) {
        const s = await q.deactivateLowestSkill();
        if (s === null) break;
        expect(s).toMatchObject({ is_active: false, updated_at: later });
        expect(await q.getSkill(s.id)).toEqual(s);
        order.push(s.id);
      }
      // old-a before old-b: same created_at, smaller id. aaa-new after both: newer. busy: more uses. best: higher rate.
      expect(order).toEqual(['old-a', 'old-b', 'aaa-new', 'busy', 'best']);
      expect(await q.listActiveSkills()).toEqual([]);
    });

    it('answers null and changes nothing when no skill is active', async () => {
      const { q, store } = await harness();
      expect(await q.deactivateLowestSkill()).toBeNull();
      await q.insertSkill({ id: 'off', title: 't', content: '', is_active: false });
      const before = await store.snapshot();
      expect(await q.deactivateLowestSkill()).toBeNull();
      expect(await store.snapshot()).toEqual(before);
    });

    it('takes no params: an empty object or null, and refuses any key', async () => {
      const { q } = await harness();
      expect(await q.write('DeactivateLowestSkill', {})).toBeNull();
      expect(await q.write('DeactivateLowestSkill', null)).toBeNull();
      expect(await rejection(q.write('DeactivateLowestSkill', { id: 'k1' }))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.id' });
    });
  });

  describe('skill reads', () => {
    it('listActiveSkills: active only, best success_rate first; listSkills: all, oldest first; getSkill undefined when absent', async () => {
      const { q, clock } = await harness();
      await q.insertSkill({ id: 'low', title: 't', content: '', success_rate: 0.1 });
      clock.advance();
      await q.insertSkill({ id: 'high', title: 't', content: '', success_rate: 0.8 });
      await q.insertSkill({ id: 'off', title: 't', content: '', success_rate: 1, is_active: false });
      await q.insertSkill({ id: 'mid', title: 't', content: '', success_rate: 0.5 });
      expect((await q.listActiveSkills()).map((s) => s.id)).toEqual(['high', 'mid', 'low']);
      expect((await q.listSkills()).map((s) => s.id)).toEqual(['low', 'high', 'off', 'mid']);
      expect(await q.getSkill('nope')).toBeUndefined();
    });
  });
});
