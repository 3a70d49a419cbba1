/** A project an agent works in. `path` is unique. */
export interface Project {
  id: string;
  name: string;
  path: string;
  status: string;
  initialized: boolean;
  acp_pid: number | null;
  acp_port: number | null;
  last_opened: string | null;
  created_at: string;
  updated_at: string;
}

/** A conversation; `message_count` is kept true by the message writes. */
export interface Session {
  id: string;
  parent_session_id: string | null;
  title: string;
  message_count: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost: number;
  summary_message_id: string | null;
  created_at: string;
  updated_at: string;
}

/** One message of a session; `parts` is JSON text, opaque to the store. */
export interface Message {
  id: string;
  session_id: string;
  role: string;
  parts: string;
  model: string | null;
  finished_at: string | null;
  created_at: string;
  updated_at: string;
}

/** One version of a file a session touched; (session_id, path, version) is unique. */
export interface FileRecord {
  id: string;
  session_id: string;
  path: string;
  content: string;
  version: number;
  created_at: string;
  updated_at: string;
}

/** A learned skill in the skill library. */
export interface Skill {
  id: string;
  title: string;
  content: string;
  source_session_id: string | null;
  source_template_id: string | null;
  task_type: string | null;
  usage_count: number;
  success_rate: number;
  is_active: boolean;
  created_at: string;
  updated_at: string;
}

/** A prompt template, grouped by section. */
export interface PromptTemplate {
  id: string;
  name: string;
  section: string;
  content: string;
  version: number;
  is_active: boolean;
  is_default: boolean;
  created_at: string;
  updated_at: string;
}

/** A judge's evaluation of a session. */
export interface SessionScore {
  id: string;
  session_id: string;
  template_id: string | null;
  reward: number | null;
  success_score: number | null;
  efficiency_score: number | null;
  judge_analysis: string | null;
  judge_model: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  message_count: number;
  user_corrections: number;
  evaluated_at: string | null;
  created_at: string;
}

/** The bandit statistics of one prompt template (`prompt_ucb_stats`, kept by a trigger on session_scores). */
export interface PromptUcbStat {
  template_id: string;
  times_used: number;
  total_reward: number;
  avg_reward: number;
  /** The mean reward, as the reference stores it (callers add their exploration term). */
  ucb_score: number;
  last_used_at: string | null;
  updated_at: string;
}

/** An active template of a section with its statistics (`listActiveTemplatesBySection`). */
export interface RankedPromptTemplate extends PromptTemplate {
  /** 0 when the template has never been scored. */
  avg_reward: number;
  /** 0 when the template has never been scored. */
  times_used: number;
  /** 9999 when the template has never been scored (try it first). */
  ucb_score: number;
}

/** One row of `listUCBRanking`: an active template and its statistics. */
export interface UcbRankingRow {
  id: string;
  name: string;
  section: string;
  version: number;
  is_default: boolean;
  /** 0 when never scored. */
  times_used: number;
  /** 0 when never scored. */
  avg_reward: number;
  /** 9999 when never scored. */
  ucb_score: number;
  /** The `created_at` of its latest score; null when never scored (the reference answers 0). */
  last_used_at: string | null;
}

/** Totals over evaluations and skills (`getEvaluatorStats`). */
export interface EvaluatorStats {
  total_evaluations: number;
  /** The mean reward over every score (0 when there is none). */
  avg_reward: number;
  active_skills: number;
  /** The `created_at` of the newest score, or null. */
  last_evaluation: string | null;
}

/** The result of a delete write: how many rows went. */
export interface DeleteResult {
  deleted: number;
}

/**
 * Lists every field of entity `T`, in order; the compiler refuses a list that misses
 * one (the error names it) or names one `T` does not have, so an entity and its
 * column list cannot drift apart.
 */
function fieldsOf<T>() {
  return <const C extends readonly (keyof T & string)[]>(
    ...fields: C & ([Exclude<keyof T, C[number]>] extends [never] ? unknown : { missing: Exclude<keyof T, C[number]> })
  ): readonly string[] => Object.freeze([...fields]);
}

/**
 * The fields of the entity each read or write returns, by the table (or result shape)
 * it comes from. A row is copied field by field, so a column the entity does not
 * have never reaches a caller: PostgreSQL's tables carry a `rowid` identity column
 * (SQLite's rowid is hidden from `SELECT *`), and a later migration may add columns.
 */
const ENTITY_FIELDS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  projects: fieldsOf<Project>()('id', 'name', 'path', 'status', 'initialized', 'acp_pid', 'acp_port', 'last_opened', 'created_at', 'updated_at'),
  sessions: fieldsOf<Session>()(
    'id',
    'parent_session_id',
    'title',
    'message_count',
    'prompt_tokens',
    'completion_tokens',
    'cost',
    'summary_message_id',
    'created_at',
    'updated_at',
  ),
  messages: fieldsOf<Message>()('id', 'session_id', 'role', 'parts', 'model', 'finished_at', 'created_at', 'updated_at'),
  files: fieldsOf<FileRecord>()('id', 'session_id', 'path', 'content', 'version', 'created_at', 'updated_at'),
  skill_library: fieldsOf<Skill>()(
    'id',
    'title',
    'content',
    'source_session_id',
    'source_template_id',
    'task_type',
    'usage_count',
    'success_rate',
    'is_active',
    'created_at',
    'updated_at',
  ),
  prompt_templates: fieldsOf<PromptTemplate>()('id', 'name', 'section', 'content', 'version', 'is_active', 'is_default', 'created_at', 'updated_at'),
  ranked_prompt_templates: fieldsOf<RankedPromptTemplate>()(
    'id',
    'name',
    'section',
    'content',
    'version',
    'is_active',
    'is_default',
    'created_at',
    'updated_at',
    'avg_reward',
    'times_used',
    'ucb_score',
  ),
  session_scores: fieldsOf<SessionScore>()(
    'id',
    'session_id',
    'template_id',
    'reward',
    'success_score',
    'efficiency_score',
    'judge_analysis',
    'judge_model',
    'prompt_tokens',
    'completion_tokens',
    'message_count',
    'user_corrections',
    'evaluated_at',
    'created_at',
  ),
  prompt_ucb_stats: fieldsOf<PromptUcbStat>()('template_id', 'times_used', 'total_reward', 'avg_reward', 'ucb_score', 'last_used_at', 'updated_at'),
  ucb_ranking: fieldsOf<UcbRankingRow>()('id', 'name', 'section', 'version', 'is_default', 'times_used', 'avg_reward', 'ucb_score', 'last_used_at'),
  evaluator_stats: fieldsOf<EvaluatorStats>()('total_evaluations', 'avg_reward', 'active_skills', 'last_evaluation'),
});

/** The boolean fields of each entity; both engines store them as 0/1 integers. */
const BOOLEAN_FIELDS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  projects: ['initialized'],
  skill_library: ['is_active'],
  prompt_templates: ['is_active', 'is_default'],
  ranked_prompt_templates: ['is_active', 'is_default'],
  ucb_ranking: ['is_default'],
});

/**
 * Turns a raw row from `table` (a table, or a read's result shape such as
 * `ucb_ranking`) into its entity: a new object with exactly the entity's fields that
 * the row has (nothing else: no `rowid`), 0/1 turned into booleans. Undefined and null
 * pass through. Throws for a table it does not know, a programming error.
 */
export function toEntity<T>(table: string, row: unknown): T {
  if (row === undefined || row === null) return row as T;
  const fields = ENTITY_FIELDS[table];
  if (fields === undefined) throw new TypeError(`toEntity: no entity is defined for ${JSON.stringify(table)}`);
  const r = row as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of fields) if (Object.hasOwn(r, f)) out[f] = r[f];
  for (const f of BOOLEAN_FIELDS[table] ?? []) if (Object.hasOwn(out, f)) out[f] = out[f] === 1 || out[f] === true;
  return out as T;
}
