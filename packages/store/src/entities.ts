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

/** The boolean columns of each table; SQLite stores them as 0/1. */
const BOOLEAN_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  projects: ['initialized'],
  skill_library: ['is_active'],
  prompt_templates: ['is_active', 'is_default'],
  ucb_ranking: ['is_default'],
};

/** Turns a raw row of `table` into its entity (0/1 → booleans). */
export function toEntity<T>(table: string, row: unknown): T {
  if (row === undefined || row === null) return row as T;
  const cols = BOOLEAN_COLUMNS[table];
  if (cols !== undefined) {
    const r = row as Record<string, unknown>;
    for (const c of cols) r[c] = r[c] === 1 || r[c] === true;
  }
  return row as T;
}
