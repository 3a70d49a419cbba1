import type Database from 'better-sqlite3';
import { describe, WriteError } from '@scribe/protocol';
import type {
  EvaluatorStats,
  FileRecord,
  Message,
  Project,
  PromptTemplate,
  PromptUcbStat,
  RankedPromptTemplate,
  Session,
  SessionScore,
  Skill,
  UcbRankingRow,
} from './entities.js';
import { toEntity } from './entities.js';

/**
 * The synchronous typed reads, on one connection, with each statement prepared
 * once. Every read runs in its own implicit transaction, so it sees every commit
 * made (by any process) before it starts.
 *
 * Each public method is one read, defined only here: the Querier derives its async
 * reads from this class's methods (a mapped type and one loop), so adding a read is
 * adding a method. Reads named after the reference querier's (`GetSessionByID` →
 * `getSessionByID`) keep its filters and order; where the reference leaves ties
 * unordered, scribe adds a tiebreak (insertion order) so answers are deterministic.
 */
export class StoreReads {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();

  /** Reads on `db`; statements are prepared on first use. */
  constructor(db: Database.Database) {
    this.#db = db;
  }

  #one<T>(table: string, sql: string, ...params: unknown[]): T | undefined {
    return toEntity<T | undefined>(table, this.#stmt(sql).get(...params));
  }

  #many<T>(table: string, sql: string, ...params: unknown[]): T[] {
    return this.#stmt(sql).all(...params).map((r) => toEntity<T>(table, r));
  }

  #stmt(sql: string): Database.Statement {
    let s = this.#statements.get(sql);
    if (s === undefined) {
      s = this.#db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  #value<T>(sql: string, ...params: unknown[]): T {
    return this.#stmt(sql).pluck().get(...params) as T;
  }

  // --- projects ---

  /** `GetProject`: the project with this id, or undefined. */
  getProject(id: string): Project | undefined {
    return this.#one('projects', 'SELECT * FROM projects WHERE id = ?', id);
  }
  /** `GetProjectByPath`: the project at this path (unique), or undefined. */
  getProjectByPath(path: string): Project | undefined {
    return this.#one('projects', 'SELECT * FROM projects WHERE path = ?', path);
  }
  /** `ListProjects`: most recently opened first (never-opened last), then newest first. */
  listProjects(): Project[] {
    return this.#many('projects', 'SELECT * FROM projects ORDER BY last_opened IS NULL, last_opened DESC, created_at DESC, rowid DESC');
  }

  // --- sessions ---

  /** `GetSessionByID`: the session with this id, or undefined. */
  getSessionByID(id: string): Session | undefined {
    return this.#one('sessions', 'SELECT * FROM sessions WHERE id = ?', id);
  }
  /** Alias of {@link getSessionByID} (scribe's earlier name). */
  getSession(id: string): Session | undefined {
    return this.getSessionByID(id);
  }
  /**
   * `ListSessions`: top-level sessions that have messages (as the reference: no child
   * sessions, no empty ones), most recently updated first, then newest created.
   */
  listSessions(): Session[] {
    return this.#many(
      'sessions',
      'SELECT * FROM sessions WHERE parent_session_id IS NULL AND message_count > 0 ORDER BY updated_at DESC, created_at DESC, rowid DESC',
    );
  }
  /** Every session (children and empty ones too), newest created first. */
  listAllSessions(): Session[] {
    return this.#many('sessions', 'SELECT * FROM sessions ORDER BY created_at DESC, rowid DESC');
  }
  /** Children of a session, oldest first. */
  listChildSessions(parentId: string): Session[] {
    return this.#many('sessions', 'SELECT * FROM sessions WHERE parent_session_id = ? ORDER BY created_at, rowid', parentId);
  }

  // --- messages ---

  /** `GetMessage`: the message with this id, or undefined. */
  getMessage(id: string): Message | undefined {
    return this.#one('messages', 'SELECT * FROM messages WHERE id = ?', id);
  }
  /** `ListMessagesBySession`: the messages of a session in the order they were created. */
  listMessagesBySession(sessionId: string): Message[] {
    return this.#many('messages', 'SELECT * FROM messages WHERE session_id = ? ORDER BY created_at, rowid', sessionId);
  }
  /** Alias of {@link listMessagesBySession} (scribe's earlier name). */
  listMessages(sessionId: string): Message[] {
    return this.listMessagesBySession(sessionId);
  }

  // --- files ---

  /** `GetFile`: the file version with this id, or undefined. */
  getFile(id: string): FileRecord | undefined {
    return this.#one('files', 'SELECT * FROM files WHERE id = ?', id);
  }
  /** `GetFileByPathAndSession`: the newest created version of a path in a session, or undefined. */
  getFileByPathAndSession(params: { path: string; session_id: string }): FileRecord | undefined {
    return this.#one(
      'files',
      'SELECT * FROM files WHERE path = ? AND session_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1',
      params.path,
      params.session_id,
    );
  }
  /** `ListFilesByPath`: every version of a path in every session, newest created first. */
  listFilesByPath(path: string): FileRecord[] {
    return this.#many('files', 'SELECT * FROM files WHERE path = ? ORDER BY created_at DESC, rowid DESC', path);
  }
  /** `ListFilesBySession`: every version of every file of a session, oldest created first. */
  listFilesBySession(sessionId: string): FileRecord[] {
    return this.#many('files', 'SELECT * FROM files WHERE session_id = ? ORDER BY created_at, rowid', sessionId);
  }
  /**
   * `ListLatestSessionFiles`, as the reference: the files of this session that are the
   * newest created version of their path **across all sessions**, by path. A path whose
   * newest version belongs to another session is not listed. For the newest version of
   * each path within the session alone, use {@link listLatestFiles}.
   */
  listLatestSessionFiles(sessionId: string): FileRecord[] {
    return this.#many(
      'files',
      `SELECT f.* FROM files f
       INNER JOIN (SELECT path, MAX(created_at) AS max_created_at FROM files GROUP BY path) latest
         ON f.path = latest.path AND f.created_at = latest.max_created_at
       WHERE f.session_id = ?
       ORDER BY f.path, f.rowid`,
      sessionId,
    );
  }
  /**
   * `ListNewFiles`: the first recorded version of each path (no version of that path,
   * in any session, was created before it), newest first. The reference's query reads
   * an `is_new` column its schema does not have; this is the meaning scribe gives it.
   */
  listNewFiles(): FileRecord[] {
    return this.#many(
      'files',
      `SELECT f.* FROM files f
       WHERE NOT EXISTS (
         SELECT 1 FROM files g
         WHERE g.path = f.path AND (g.created_at < f.created_at OR (g.created_at = f.created_at AND g.rowid < f.rowid))
       )
       ORDER BY f.created_at DESC, f.rowid DESC`,
    );
  }
  /** Every version of every file of a session, by path then version. */
  listFiles(sessionId: string): FileRecord[] {
    return this.#many('files', 'SELECT * FROM files WHERE session_id = ? ORDER BY path, version', sessionId);
  }
  /** The highest version of each path within one session, by path. */
  listLatestFiles(sessionId: string): FileRecord[] {
    return this.#many(
      'files',
      `SELECT f.* FROM files f
       WHERE f.session_id = ? AND f.version = (SELECT MAX(version) FROM files g WHERE g.session_id = f.session_id AND g.path = f.path)
       ORDER BY f.path`,
      sessionId,
    );
  }

  // --- skills ---

  /** The skill with this id, or undefined. */
  getSkill(id: string): Skill | undefined {
    return this.#one('skill_library', 'SELECT * FROM skill_library WHERE id = ?', id);
  }
  /**
   * `ListActiveSkillsByType`: active skills of this task type or `general` (a skill
   * without a type counts as `general`, the reference column's default), best
   * success rate first, then most used; at most `limit`.
   */
  listActiveSkillsByType(params: { task_type: string; limit: number }): Skill[] {
    return this.#many(
      'skill_library',
      `SELECT * FROM skill_library
       WHERE is_active = 1 AND (task_type = ? OR task_type = 'general' OR task_type IS NULL)
       ORDER BY success_rate DESC, usage_count DESC, created_at, id
       LIMIT ?`,
      params.task_type,
      limit(params.limit, 'limit'),
    );
  }
  /** `ListAllActiveSkills`: active skills, best success rate first, then most used. */
  listAllActiveSkills(): Skill[] {
    return this.#many('skill_library', 'SELECT * FROM skill_library WHERE is_active = 1 ORDER BY success_rate DESC, usage_count DESC, created_at, id');
  }
  /** Alias of {@link listAllActiveSkills} (scribe's earlier name). */
  listActiveSkills(): Skill[] {
    return this.listAllActiveSkills();
  }
  /** `CountActiveSkills`. */
  countActiveSkills(): number {
    return this.#value('SELECT COUNT(*) FROM skill_library WHERE is_active = 1');
  }
  /** Every skill, oldest first. */
  listSkills(): Skill[] {
    return this.#many('skill_library', 'SELECT * FROM skill_library ORDER BY created_at, rowid');
  }

  // --- prompt templates and their statistics ---

  /** `GetPromptTemplate`: the prompt template with this id, or undefined. */
  getPromptTemplate(id: string): PromptTemplate | undefined {
    return this.#one('prompt_templates', 'SELECT * FROM prompt_templates WHERE id = ?', id);
  }
  /**
   * `ListActiveTemplatesBySection`: the active templates of a section with their
   * statistics (never scored: `avg_reward` 0, `times_used` 0, `ucb_score` 9999). Ordered
   * as the reference, by the stored `ucb_score` descending and then by name: templates
   * never scored have no stored score and so come **after** the scored ones.
   */
  listActiveTemplatesBySection(section: string): RankedPromptTemplate[] {
    return this.#many(
      'prompt_templates',
      `SELECT pt.*,
         COALESCE(us.avg_reward, 0.0) AS avg_reward,
         COALESCE(us.times_used, 0) AS times_used,
         COALESCE(us.ucb_score, 9999.0) AS ucb_score
       FROM prompt_templates pt
       LEFT JOIN prompt_ucb_stats us ON pt.id = us.template_id
       WHERE pt.section = ? AND pt.is_active = 1
       ORDER BY us.ucb_score DESC, pt.name, pt.version DESC, pt.id`,
      section,
    );
  }
  /** `CountPromptTemplates`: active templates. */
  countPromptTemplates(): number {
    return this.#value('SELECT COUNT(*) FROM prompt_templates WHERE is_active = 1');
  }
  /** Templates of one section (or all), by section, name, then newest version first. */
  listPromptTemplates(section?: string): PromptTemplate[] {
    return section === undefined
      ? this.#many('prompt_templates', 'SELECT * FROM prompt_templates ORDER BY section, name, version DESC')
      : this.#many('prompt_templates', 'SELECT * FROM prompt_templates WHERE section = ? ORDER BY name, version DESC', section);
  }
  /** `GetUCBStats`: the statistics of a template, or undefined when it was never scored. */
  getUCBStats(templateId: string): PromptUcbStat | undefined {
    return this.#stmt('SELECT * FROM prompt_ucb_stats WHERE template_id = ?').get(templateId) as PromptUcbStat | undefined;
  }
  /**
   * `ListUCBRanking`: every active template with its statistics (never scored:
   * `times_used` 0, `avg_reward` 0, `ucb_score` 9999, `last_used_at` null), ordered as
   * the reference: stored `ucb_score` descending (never scored last), then name.
   */
  listUCBRanking(): UcbRankingRow[] {
    return this.#many(
      'ucb_ranking',
      `SELECT pt.id, pt.name, pt.section, pt.version, pt.is_default,
         COALESCE(us.times_used, 0) AS times_used,
         COALESCE(us.avg_reward, 0.0) AS avg_reward,
         COALESCE(us.ucb_score, 9999.0) AS ucb_score,
         us.last_used_at AS last_used_at
       FROM prompt_templates pt
       LEFT JOIN prompt_ucb_stats us ON pt.id = us.template_id
       WHERE pt.is_active = 1
       ORDER BY us.ucb_score DESC, pt.name, pt.version DESC, pt.id`,
    );
  }

  // --- session scores ---

  /** `GetSessionScore`: the first score recorded for a session, or undefined. */
  getSessionScore(sessionId: string): SessionScore | undefined {
    return this.#one('session_scores', 'SELECT * FROM session_scores WHERE session_id = ? ORDER BY created_at, rowid LIMIT 1', sessionId);
  }
  /** The session score with this id, or undefined. */
  getSessionScoreByID(id: string): SessionScore | undefined {
    return this.#one('session_scores', 'SELECT * FROM session_scores WHERE id = ?', id);
  }
  /** `CountSessionScores`. */
  countSessionScores(): number {
    return this.#value('SELECT COUNT(*) FROM session_scores');
  }
  /** `ListSessionScores`: the newest `limit` scores of all sessions, newest first. */
  listSessionScores(limitCount: number): SessionScore[] {
    return this.#many(
      'session_scores',
      'SELECT * FROM session_scores ORDER BY created_at DESC, rowid DESC LIMIT ?',
      limit(limitCount, 'limit'),
    );
  }
  /** The scores of one session, oldest first. */
  listSessionScoresBySession(sessionId: string): SessionScore[] {
    return this.#many('session_scores', 'SELECT * FROM session_scores WHERE session_id = ? ORDER BY created_at, rowid', sessionId);
  }
  /**
   * `GetTokenBaseline`: the mean of `prompt_tokens + completion_tokens` over the newest
   * `limit` scores (0 when there is none).
   */
  getTokenBaseline(limitCount: number): number {
    return this.#value(
      `SELECT COALESCE(AVG(prompt_tokens + completion_tokens), 0.0) FROM (
         SELECT prompt_tokens, completion_tokens FROM session_scores ORDER BY created_at DESC, rowid DESC LIMIT ?
       )`,
      limit(limitCount, 'limit'),
    );
  }
  /**
   * `GetEvaluatorStats`: how many scores, their mean reward (a score without a reward
   * counts as 0, the reference column's default), how many active skills, and when the
   * newest score was recorded.
   */
  getEvaluatorStats(): EvaluatorStats {
    return this.#stmt(
      `SELECT
         (SELECT COUNT(*) FROM session_scores) AS total_evaluations,
         (SELECT COALESCE(AVG(COALESCE(reward, 0.0)), 0.0) FROM session_scores) AS avg_reward,
         (SELECT COUNT(*) FROM skill_library WHERE is_active = 1) AS active_skills,
         (SELECT MAX(created_at) FROM session_scores) AS last_evaluation`,
    ).get() as EvaluatorStats;
  }
}

/** A LIMIT value: an integer (SQLite treats a negative one as no limit, as the reference's). */
function limit(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  throw new WriteError('INVALID_PARAMS', `Expected ${field} to be an integer, got ${describe(value)}`, { field });
}
