import { describe, expect, it } from 'vitest';
import type { Querier } from '@scribe/store';
import { rejection } from './helpers.js';
import { TEST_ENGINES, useEngines, type TestStore } from '../../../test/helpers/engines.js';

// Every read of the reference querier (Pando's db.Querier), under its name in
// camelCase, against a populated database: the filters and the order of the
// reference's SQL (internal/db/sql/*.sql), with scribe's insertion-order tiebreak
// where the reference leaves ties unordered.

const ids = <T extends { id: string }>(rows: T[]): string[] => rows.map((r) => r.id);

// The reads' filters and order, not durability: the faster server (fsync off).
const engines = useEngines({ durable: false });

describe.each(TEST_ENGINES)('on %s', (engine) => {
  describe('projects', () => {
    it('getProject, getProjectByPath; listProjects: last opened first, never opened last, then newest created', async () => {
      const { q, clock } = await engines.openTestStore(engine);
      await q.createProject({ id: 'never-old', name: 'a', path: '/a' });
      clock.advance();
      await q.createProject({ id: 'opened-early', name: 'b', path: '/b', last_opened: 1_700_000_000 });
      clock.advance();
      await q.createProject({ id: 'never-new', name: 'c', path: '/c' });
      clock.advance();
      await q.createProject({ id: 'opened-late', name: 'd', path: '/d', last_opened: '2030-01-01T00:00:00.000Z' });
      expect(ids(await q.listProjects())).toEqual(['opened-late', 'opened-early', 'never-new', 'never-old']);
      expect((await q.getProject('opened-early'))?.last_opened).toBe('2023-11-14T22:13:20.000Z');
      expect((await q.getProjectByPath('/c'))?.id).toBe('never-new');
      expect(await q.getProjectByPath('/nowhere')).toBeUndefined();
      expect(await q.getProject('nope')).toBeUndefined();
    });
  });

  describe('sessions and messages', () => {
    async function populate(h: TestStore): Promise<void> {
      const { q, clock } = h;
      await q.createSession({ id: 'old', title: 'old' });
      await q.createMessage({ id: 'o1', session_id: 'old', role: 'user', parts: '[]' });
      clock.advance();
      await q.createSession({ id: 'empty', title: 'no messages yet' });
      clock.advance();
      await q.createSession({ id: 'new', title: 'new' });
      await q.createMessage({ id: 'n1', session_id: 'new', role: 'user', parts: '[]' });
      clock.advance();
      await q.createSession({ id: 'child', title: 'sub-agent', parent_session_id: 'old' });
      await q.createMessage({ id: 'c1', session_id: 'child', role: 'user', parts: '[]' });
      clock.advance();
      // A later message makes 'old' the most recently updated session.
      await q.createMessage({ id: 'o2', session_id: 'old', role: 'assistant', parts: '[]' });
      await q.createMessage({ id: 'o3', session_id: 'old', role: 'user', parts: '[]' }); // same timestamp as o2
    }

    it('listSessions: top-level sessions with messages only, most recently updated first', async () => {
      const h = await engines.openTestStore(engine);
      await populate(h);
      expect(ids(await h.q.listSessions())).toEqual(['old', 'new']);
      expect(ids(await h.q.listAllSessions())).toEqual(['child', 'new', 'empty', 'old']);
    });

    it('getSessionByID (alias getSession); getMessage; listMessagesBySession (alias listMessages) in creation order', async () => {
      const h = await engines.openTestStore(engine);
      await populate(h);
      const { q } = h;
      expect(await q.getSessionByID('old')).toMatchObject({ id: 'old', message_count: 3 });
      expect(await q.getSession('old')).toEqual(await q.getSessionByID('old'));
      expect(await q.getSessionByID('nope')).toBeUndefined();
      expect(await q.getMessage('o2')).toMatchObject({ session_id: 'old', role: 'assistant' });
      expect(await q.getMessage('nope')).toBeUndefined();
      expect(ids(await q.listMessagesBySession('old'))).toEqual(['o1', 'o2', 'o3']);
      expect(await q.listMessages('old')).toEqual(await q.listMessagesBySession('old'));
      expect(await q.listMessagesBySession('nobody')).toEqual([]);
    });
  });

  describe('files', () => {
    async function populate(h: TestStore): Promise<void> {
      const { q, clock } = h;
      await q.createSession({ id: 's1', title: 'one' });
      await q.createSession({ id: 's2', title: 'two' });
      clock.advance();
      await q.createFile({ id: 's1-a1', session_id: 's1', path: 'a.ts', content: 'a1' });
      clock.advance();
      await q.createFile({ id: 's1-b1', session_id: 's1', path: 'b.ts', content: 'b1' });
      clock.advance();
      await q.createFile({ id: 's1-a2', session_id: 's1', path: 'a.ts', content: 'a2' });
      clock.advance();
      await q.createFile({ id: 's2-a1', session_id: 's2', path: 'a.ts', content: 'a from s2' });
      clock.advance();
      await q.createFile({ id: 's2-c1', session_id: 's2', path: 'c.ts', content: 'c1' });
      await q.createFile({ id: 's2-c2', session_id: 's2', path: 'c.ts', content: 'c2' }); // same timestamp as c1
    }

    it('getFile; getFileByPathAndSession: the newest created version of that path in that session', async () => {
      const h = await engines.openTestStore(engine);
      await populate(h);
      const { q } = h;
      expect(await q.getFile('s1-b1')).toMatchObject({ path: 'b.ts', version: 1 });
      expect(await q.getFile('nope')).toBeUndefined();
      expect((await q.getFileByPathAndSession({ path: 'a.ts', session_id: 's1' }))?.id).toBe('s1-a2');
      expect((await q.getFileByPathAndSession({ path: 'a.ts', session_id: 's2' }))?.id).toBe('s2-a1');
      expect((await q.getFileByPathAndSession({ path: 'c.ts', session_id: 's2' }))?.id).toBe('s2-c2');
      expect(await q.getFileByPathAndSession({ path: 'b.ts', session_id: 's2' })).toBeUndefined();
    });

    it('listFilesByPath: every session, newest first; listFilesBySession: oldest first', async () => {
      const h = await engines.openTestStore(engine);
      await populate(h);
      const { q } = h;
      expect(ids(await q.listFilesByPath('a.ts'))).toEqual(['s2-a1', 's1-a2', 's1-a1']);
      expect(await q.listFilesByPath('none.ts')).toEqual([]);
      expect(ids(await q.listFilesBySession('s1'))).toEqual(['s1-a1', 's1-b1', 's1-a2']);
      expect(ids(await q.listFilesBySession('s2'))).toEqual(['s2-a1', 's2-c1', 's2-c2']);
    });

    it('listLatestSessionFiles: the session\'s files that are the newest of their path across all sessions, by path', async () => {
      const h = await engines.openTestStore(engine);
      await populate(h);
      const { q } = h;
      // a.ts was last written in s2, so s1 lists only b.ts (the reference's query).
      expect(ids(await q.listLatestSessionFiles('s1'))).toEqual(['s1-b1']);
      // c1 and c2 share the newest timestamp: both match the reference's join, in insertion order.
      expect(ids(await q.listLatestSessionFiles('s2'))).toEqual(['s2-a1', 's2-c1', 's2-c2']);
      // scribe's per-session read, for contrast: the highest version of each path within s1.
      expect(ids(await q.listLatestFiles('s1'))).toEqual(['s1-a2', 's1-b1']);
    });

    it('listNewFiles: the first recorded version of each path, newest first', async () => {
      const h = await engines.openTestStore(engine);
      await populate(h);
      expect(ids(await h.q.listNewFiles())).toEqual(['s2-c1', 's1-b1', 's1-a1']);
    });
  });

  describe('prompt templates, scores and UCB statistics', () => {
    async function populate(h: TestStore): Promise<void> {
      const { q, clock } = h;
      await q.createSession({ id: 's1', title: 'one' });
      await q.createSession({ id: 's2', title: 'two' });
      await q.insertPromptTemplate({ id: 'alpha', name: 'alpha', section: 'system', content: '' });
      await q.insertPromptTemplate({ id: 'beta', name: 'beta', section: 'system', content: '', is_default: true });
      await q.insertPromptTemplate({ id: 'gamma', name: 'gamma', section: 'system', content: '' });
      await q.insertPromptTemplate({ id: 'aardvark', name: 'aardvark', section: 'system', content: '' });
      await q.insertPromptTemplate({ id: 'off', name: 'off', section: 'system', content: '', is_active: false });
      await q.insertPromptTemplate({ id: 'tool', name: 'tool', section: 'tools', content: '' });
      clock.advance();
      await q.insertSessionScore({ id: 'sc1', session_id: 's1', template_id: 'alpha', reward: 0.2, prompt_tokens: 100, completion_tokens: 50 });
      clock.advance();
      await q.insertSessionScore({ id: 'sc2', session_id: 's2', template_id: 'beta', reward: 0.9, prompt_tokens: 10, completion_tokens: 10 });
      clock.advance();
      await q.insertSessionScore({ id: 'sc3', session_id: 's1', template_id: 'alpha', reward: 0.4, prompt_tokens: 300, completion_tokens: 100 });
      clock.advance();
      await q.insertSessionScore({ id: 'sc4', session_id: 's2', template_id: 'off', reward: 1, prompt_tokens: 0, completion_tokens: 0 });
    }

    it('listActiveTemplatesBySection: active templates of the section with their statistics, by stored ucb_score then name', async () => {
      const h = await engines.openTestStore(engine);
      await populate(h);
      const rows = await h.q.listActiveTemplatesBySection('system');
      // Never-scored templates (no stored score) come after the scored ones, by name, as the reference's ORDER BY does.
      expect(ids(rows)).toEqual(['beta', 'alpha', 'aardvark', 'gamma']);
      expect(rows[0]).toMatchObject({ id: 'beta', section: 'system', is_active: true, is_default: true, times_used: 1, avg_reward: 0.9, ucb_score: 0.9 });
      expect(rows[1]).toMatchObject({ id: 'alpha', is_default: false, times_used: 2 });
      expect(rows[1]!.avg_reward).toBeCloseTo(0.3);
      expect(rows[1]!.ucb_score).toBeCloseTo(0.3);
      expect(rows[3]).toMatchObject({ id: 'gamma', times_used: 0, avg_reward: 0, ucb_score: 9999 });
      expect(await h.q.listActiveTemplatesBySection('nowhere')).toEqual([]);
    });

    it('listUCBRanking: every active template of every section, same order, with last_used_at', async () => {
      const h = await engines.openTestStore(engine);
      await populate(h);
      const rows = await h.q.listUCBRanking();
      expect(ids(rows)).toEqual(['beta', 'alpha', 'aardvark', 'gamma', 'tool']);
      const sc3 = await h.q.getSessionScoreByID('sc3');
      expect(rows[1]).toEqual({
        id: 'alpha',
        name: 'alpha',
        section: 'system',
        version: 1,
        is_default: false,
        times_used: 2,
        avg_reward: rows[1]!.avg_reward,
        ucb_score: rows[1]!.ucb_score,
        last_used_at: sc3!.created_at,
      });
      expect(rows[4]).toEqual({
        id: 'tool',
        name: 'tool',
        section: 'tools',
        version: 1,
        is_default: false,
        times_used: 0,
        avg_reward: 0,
        ucb_score: 9999,
        last_used_at: null,
      });
    });

    it('getUCBStats: the row the trigger keeps, or undefined for a template never scored', async () => {
      const h = await engines.openTestStore(engine);
      await populate(h);
      const stats = await h.q.getUCBStats('alpha');
      expect(stats).toMatchObject({ template_id: 'alpha', times_used: 2 });
      expect(stats!.total_reward).toBeCloseTo(0.6);
      expect(await h.q.getUCBStats('gamma')).toBeUndefined();
    });

    it('countPromptTemplates counts active templates', async () => {
      const h = await engines.openTestStore(engine);
      await populate(h);
      expect(await h.q.countPromptTemplates()).toBe(5);
    });

    it('getSessionScore(sessionId): the first score recorded for that session', async () => {
      const h = await engines.openTestStore(engine);
      await populate(h);
      expect((await h.q.getSessionScore('s1'))?.id).toBe('sc1');
      expect((await h.q.getSessionScore('s2'))?.id).toBe('sc2');
      expect(await h.q.getSessionScore('nobody')).toBeUndefined();
      expect((await h.q.getSessionScoreByID('sc3'))?.session_id).toBe('s1');
    });

    it('countSessionScores; listSessionScores(limit): the newest, newest first; getTokenBaseline(limit): mean tokens of the newest', async () => {
      const h = await engines.openTestStore(engine);
      expect(await h.q.getTokenBaseline(10)).toBe(0);
      await populate(h);
      const { q } = h;
      expect(await q.countSessionScores()).toBe(4);
      expect(ids(await q.listSessionScores(3))).toEqual(['sc4', 'sc3', 'sc2']);
      expect(ids(await q.listSessionScores(10))).toEqual(['sc4', 'sc3', 'sc2', 'sc1']);
      expect(await q.listSessionScores(0)).toEqual([]);
      // newest two: sc4 (0 tokens) and sc3 (400 tokens)
      expect(await q.getTokenBaseline(2)).toBe(200);
      // newest three: + sc2 (20 tokens)
      expect(await q.getTokenBaseline(3)).toBe(140);
      expect(ids(await q.listSessionScoresBySession('s1'))).toEqual(['sc1', 'sc3']);
    });

    it('getEvaluatorStats: scores, mean reward, active skills, newest score time', async () => {
      const h = await engines.openTestStore(engine);
      expect(await h.q.getEvaluatorStats()).toEqual({ total_evaluations: 0, avg_reward: 0, active_skills: 0, last_evaluation: null });
      await populate(h);
      await h.q.insertSkill({ id: 'k1', title: 'k', content: '' });
      await h.q.insertSkill({ id: 'k2', title: 'k', content: '', is_active: false });
      const stats = await h.q.getEvaluatorStats();
      expect(stats).toMatchObject({ total_evaluations: 4, active_skills: 1, last_evaluation: (await h.q.getSessionScoreByID('sc4'))!.created_at });
      expect(stats.avg_reward).toBeCloseTo((0.2 + 0.9 + 0.4 + 1) / 4);
    });

    it('refuses a limit that is not an integer with INVALID_PARAMS naming it', async () => {
      const { q } = await engines.openTestStore(engine);
      expect(await rejection(q.listSessionScores(1.5))).toMatchObject({ code: 'INVALID_PARAMS', field: 'limit' });
      expect(await rejection(q.getTokenBaseline('5' as unknown as number))).toMatchObject({ code: 'INVALID_PARAMS', field: 'limit' });
      expect(await rejection(q.listActiveSkillsByType({ task_type: 'code', limit: Number.NaN }))).toMatchObject({ field: 'limit' });
    });
  });

  describe('skills', () => {
    async function populate(q: Querier): Promise<void> {
      await q.insertSkill({ id: 'general', title: 't', content: '', task_type: 'general', success_rate: 0.5 });
      await q.insertSkill({ id: 'code', title: 't', content: '', task_type: 'code', success_rate: 0.9 });
      await q.insertSkill({ id: 'untyped', title: 't', content: '', success_rate: 0.7 });
      await q.insertSkill({ id: 'docs', title: 't', content: '', task_type: 'docs', success_rate: 0.95 });
      await q.insertSkill({ id: 'code-off', title: 't', content: '', task_type: 'code', success_rate: 1, is_active: false });
      await q.insertSkill({ id: 'code-used', title: 't', content: '', task_type: 'code', success_rate: 0.9, usage_count: 3 });
    }

    it('listActiveSkillsByType: active skills of that type or general (untyped counts as general), best rate, then most used; at most limit', async () => {
      const { q } = await engines.openTestStore(engine);
      await populate(q);
      expect(ids(await q.listActiveSkillsByType({ task_type: 'code', limit: 10 }))).toEqual(['code-used', 'code', 'untyped', 'general']);
      expect(ids(await q.listActiveSkillsByType({ task_type: 'code', limit: 2 }))).toEqual(['code-used', 'code']);
      expect(ids(await q.listActiveSkillsByType({ task_type: 'docs', limit: 10 }))).toEqual(['docs', 'untyped', 'general']);
    });

    it('listAllActiveSkills (alias listActiveSkills): active only, best rate then most used; countActiveSkills', async () => {
      const { q } = await engines.openTestStore(engine);
      await populate(q);
      expect(ids(await q.listAllActiveSkills())).toEqual(['docs', 'code-used', 'code', 'untyped', 'general']);
      expect(await q.listActiveSkills()).toEqual(await q.listAllActiveSkills());
      expect(await q.countActiveSkills()).toBe(5);
    });
  });
});
