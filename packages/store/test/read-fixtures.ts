/**
 * One data set on which every typed read has something to answer, and arguments for
 * every read (the portable-reads test).
 *
 * The rows are chosen where the engines could disagree: NULLs in sort keys (a
 * never-opened project, never-scored templates, a score without a reward), text sort
 * keys whose order depends on the collation (upper and lower case, `_`, non-ASCII),
 * and ties broken only by insertion order (the same timestamp).
 */
import type { Querier, ReadName, StoreReads } from '@scribe/store';

/** Arguments for every read; the compiler refuses this table when a read is added without an entry. */
export const READ_ARGS: { [K in ReadName]: Parameters<StoreReads[K]> } = {
  getProject: ['p-opened'],
  getProjectByPath: ['/never'],
  listProjects: [],
  getSessionByID: ['s1'],
  getSession: ['s1'],
  listSessions: [],
  listAllSessions: [],
  listChildSessions: ['s1'],
  getMessage: ['m1'],
  listMessagesBySession: ['s1'],
  listMessages: ['s1'],
  getFile: ['f-a1'],
  getFileByPathAndSession: [{ path: 'a.ts', session_id: 's1' }],
  listFilesByPath: ['a.ts'],
  listFilesBySession: ['s1'],
  listLatestSessionFiles: ['s1'],
  listNewFiles: [],
  listFiles: ['s1'],
  listLatestFiles: ['s1'],
  getSkill: ['k1'],
  listActiveSkillsByType: [{ task_type: 'code', limit: -1 }],
  listAllActiveSkills: [],
  listActiveSkills: [],
  countActiveSkills: [],
  listSkills: [],
  getPromptTemplate: ['t-scored'],
  listActiveTemplatesBySection: ['system'],
  countPromptTemplates: [],
  listPromptTemplates: [],
  getUCBStats: ['t-scored'],
  listUCBRanking: [],
  getSessionScore: ['s1'],
  getSessionScoreByID: ['sc1'],
  countSessionScores: [],
  listSessionScores: [10],
  listSessionScoresBySession: ['s1'],
  getTokenBaseline: [1],
  getEvaluatorStats: [],
};

/** Runs every read on `reads` with {@link READ_ARGS} and returns the answers by name. */
export async function readAll(reads: StoreReads, names: readonly ReadName[]): Promise<Record<ReadName, unknown>> {
  const out: Partial<Record<ReadName, unknown>> = {};
  for (const name of names) out[name] = await Reflect.apply(reads[name], reads, READ_ARGS[name]);
  return out as Record<ReadName, unknown>;
}

/** Writes the data set through `q`; `tick` moves the store's clock forward (so rows get distinct times where it matters). */
export async function populateForReads(q: Querier, tick: () => void): Promise<void> {
  await q.createProject({ id: 'p-never', name: 'never', path: '/never' });
  tick();
  await q.createProject({ id: 'p-never-2', name: 'never 2', path: '/never-2' });
  await q.createProject({ id: 'p-opened', name: 'opened', path: '/opened', last_opened: '2025-01-01T00:00:00.000Z' });
  await q.createSession({ id: 's1', title: 'one' });
  await q.createSession({ id: 's2', title: 'two' });
  await q.createSession({ id: 's1-child', title: 'child', parent_session_id: 's1' });
  await q.createMessage({ id: 'm1', session_id: 's1', role: 'user', parts: '[]' });
  await q.createMessage({ id: 'm2', session_id: 's1', role: 'assistant', parts: '[]' }); // same time as m1
  await q.createFile({ id: 'f-a1', session_id: 's1', path: 'a.ts', content: 'a1' });
  for (const p of ['B.ts', '_c.ts', 'Z.ts', 'é.ts', 'b.ts']) await q.createFile({ session_id: 's1', path: p, content: p });
  tick();
  await q.createFile({ id: 'f-a2', session_id: 's1', path: 'a.ts', content: 'a2' });
  await q.createFile({ session_id: 's2', path: 'B.ts', content: 'B in s2' });
  await q.insertSkill({ id: 'k1', title: 'skill', content: 'x', task_type: 'code', success_rate: 0.5 });
  await q.insertSkill({ id: 'K2', title: 'untyped', content: 'x', task_type: null, success_rate: 0.5 });
  await q.insertSkill({ id: 'k0', title: 'general', content: 'x', task_type: 'general', success_rate: 0.5 });
  await q.insertSkill({ id: 'k-off', title: 'inactive', content: 'x', task_type: 'code', is_active: false });
  for (const [id, name] of [
    ['t-scored', 'b'],
    ['t-never', 'a'],
    ['t-Never', 'B'],
    ['t-under', '_a'],
  ] as const) {
    await q.insertPromptTemplate({ id, name, section: 'system', content: 'x' });
  }
  await q.insertPromptTemplate({ id: 't-other', name: 'Other', section: 'User', content: 'x', is_default: true });
  await q.insertSessionScore({ id: 'sc1', session_id: 's1', template_id: 't-scored', reward: 0.25, prompt_tokens: 3, completion_tokens: 4 });
  tick();
  await q.insertSessionScore({ id: 'sc2', session_id: 's1', template_id: 't-under', reward: null, prompt_tokens: 3, completion_tokens: 5 });
}
