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
import type { SqlReader, SqlValue } from './sql-tx.js';

/**
 * The typed reads, defined once for every engine: each runs its SQL on a
 * {@link SqlReader} (SQLite's `SqliteReader`, or PostgreSQL's) and resolves with
 * entities of the same shape on both. Every read is one statement, so on SQLite it
 * runs in its own implicit transaction and sees every commit made (by any process)
 * before it starts.
 *
 * Each public method is one read, defined only here: the Querier's reads are these
 * methods (one loop binds them), so adding a read is adding a method. Reads named after
 * the reference querier's (`GetSessionByID` → `getSessionByID`) keep its filters and
 * order; where the reference leaves ties unordered, scribe adds a tiebreak (insertion
 * order, `rowid`) so answers are deterministic.
 *
 * Portable SQL, so both engines give the same rows in the same order:
 * - every ORDER BY on a nullable value says where NULLs go (`NULLS LAST`): SQLite puts
 *   NULL first ascending, PostgreSQL last;
 * - `rowid` orders by insertion: SQLite's hidden rowid, and on PostgreSQL an identity
 *   column of the same name on the tables read here (projects, sessions, messages,
 *   files, skill_library, session_scores); rows are mapped to entity fields
 *   ({@link toEntity}), so `rowid` never reaches a caller;
 * - text sort keys and comparisons are byte order on both: SQLite's default collation
 *   is binary, and PostgreSQL's schema declares every text column `COLLATE "C"`, so no
 *   read needs a dialect branch (whatever the database's own collation);
 * - averages are cast to DOUBLE PRECISION (PostgreSQL's AVG over integers is `numeric`,
 *   which its driver returns as a string); counts rely on the PostgreSQL engine
 *   parsing int8 as a number;
 * - a negative limit means no limit (the reference's SQLite meaning) and is bound as
 *   `Number.MAX_SAFE_INTEGER`, which PostgreSQL accepts too (it refuses `LIMIT -1`).
 *
 * [SqliteReader]: ./sqlite-reader.ts
 */
export class StoreReads {
  readonly #reader: SqlReader;

  /** Reads through `reader`. */
  constructor(reader: SqlReader) {
    this.#reader = reader;
  }

  async #one<T>(table: string, sql: string, ...params: SqlValue[]): Promise<T | undefined> {
    return toEntity<T | undefined>(table, await this.#reader.get(sql, params));
  }

  async #many<T>(table: string, sql: string, ...params: SqlValue[]): Promise<T[]> {
    return (await this.#reader.all(sql, params)).map((r) => toEntity<T>(table, r));
  }

  /** The number in column `v` of the one row `sql` answers. */
  async #value(sql: string, ...params: SqlValue[]): Promise<number> {
    const row = await this.#reader.get<{ v: number }>(sql, params);
    return row!.v;
  }

  // --- projects ---

  /** `GetProject`: the project with this id, or undefined. */
  async getProject(id: string): Promise<Project | undefined> {
    return this.#one('projects', 'SELECT * FROM projects WHERE id = ?', id);
  }
  /** `GetProjectByPath`: the project at this path (unique), or undefined. */
  async getProjectByPath(path: string): Promise<Project | undefined> {
    return this.#one('projects', 'SELECT * FROM projects WHERE path = ?', path);
  }
  /** `ListProjects`: most recently opened first (never-opened last), then newest first. */
  async listProjects(): Promise<Project[]> {
    return this.#many('projects', 'SELECT * FROM projects ORDER BY last_opened DESC NULLS LAST, created_at DESC, rowid DESC');
  }

  // --- sessions ---

  /** `GetSessionByID`: the session with this id, or undefined. */
  async getSessionByID(id: string): Promise<Session | undefined> {
    return this.#one('sessions', 'SELECT * FROM sessions WHERE id = ?', id);
  }
  /** Alias of {@link getSessionByID} (scribe's earlier name). */
  async getSession(id: string): Promise<Session | undefined> {
    return this.getSessionByID(id);
  }
  /**
   * `ListSessions`: top-level sessions that have messages (as the reference: no child
   * sessions, no empty ones), most recently updated first, then newest created.
   */
  async listSessions(): Promise<Session[]> {
    return this.#many(
      'sessions',
      'SELECT * FROM sessions WHERE parent_session_id IS NULL AND message_count > 0 ORDER BY updated_at DESC, created_at DESC, rowid DESC',
    );
  }
  /** Every session (children and empty ones too), newest created first. */
  async listAllSessions(): Promise<Session[]> {
    return this.#many('sessions', 'SELECT * FROM sessions ORDER BY created_at DESC, rowid DESC');
  }
  /** Children of a session, oldest first. */
  async listChildSessions(parentId: string): Promise<Session[]> {
    return this.#many('sessions', 'SELECT * FROM sessions WHERE parent_session_id = ? ORDER BY created_at, rowid', parentId);
  }

  // --- messages ---

  /** `GetMessage`: the message with this id, or undefined. */
  async getMessage(id: string): Promise<Message | undefined> {
    return this.#one('messages', 'SELECT * FROM messages WHERE id = ?', id);
  }
  /** `ListMessagesBySession`: the messages of a session in the order they were created. */
  async listMessagesBySession(sessionId: string): Promise<Message[]> {
    return this.#many('messages', 'SELECT * FROM messages WHERE session_id = ? ORDER BY created_at, rowid', sessionId);
  }
  /** Alias of {@link listMessagesBySession} (scribe's earlier name). */
  async listMessages(sessionId: string): Promise<Message[]> {
    return this.listMessagesBySession(sessionId);
  }

  // --- files ---

  /** `GetFile`: the file version with this id, or undefined. */
  async getFile(id: string): Promise<FileRecord | undefined> {
    return this.#one('files', 'SELECT * FROM files WHERE id = ?', id);
  }
  /** `GetFileByPathAndSession`: the newest created version of a path in a session, or undefined. */
  async getFileByPathAndSession(params: { path: string; session_id: string }): Promise<FileRecord | undefined> {
    return this.#one(
      'files',
      'SELECT * FROM files WHERE path = ? AND session_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1',
      params.path,
      params.session_id,
    );
  }
  /** `ListFilesByPath`: every version of a path in every session, newest created first. */
  async listFilesByPath(path: string): Promise<FileRecord[]> {
    return this.#many('files', 'SELECT * FROM files WHERE path = ? ORDER BY created_at DESC, rowid DESC', path);
  }
  /** `ListFilesBySession`: every version of every file of a session, oldest created first. */
  async listFilesBySession(sessionId: string): Promise<FileRecord[]> {
    return this.#many('files', 'SELECT * FROM files WHERE session_id = ? ORDER BY created_at, rowid', sessionId);
  }
  /**
   * `ListLatestSessionFiles`, as the reference: the files of this session that are the
   * newest created version of their path **across all sessions**, by path. A path whose
   * newest version belongs to another session is not listed. For the newest version of
   * each path within the session alone, use {@link listLatestFiles}.
   */
  async listLatestSessionFiles(sessionId: string): Promise<FileRecord[]> {
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
  async listNewFiles(): Promise<FileRecord[]> {
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
  async listFiles(sessionId: string): Promise<FileRecord[]> {
    return this.#many('files', 'SELECT * FROM files WHERE session_id = ? ORDER BY path, version', sessionId);
  }
  /** The highest version of each path within one session, by path. */
  async listLatestFiles(sessionId: string): Promise<FileRecord[]> {
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
  async getSkill(id: string): Promise<Skill | undefined> {
    return this.#one('skill_library', 'SELECT * FROM skill_library WHERE id = ?', id);
  }
  /**
   * `ListActiveSkillsByType`: active skills of this task type or `general` (a skill
   * without a type counts as `general`, the reference column's default), best
   * success rate first, then most used; at most `limit` (negative: no limit).
   */
  async listActiveSkillsByType(params: { task_type: string; limit: number }): Promise<Skill[]> {
    const max = limit(params.limit, 'limit');
    return this.#many(
      'skill_library',
      `SELECT * FROM skill_library
       WHERE is_active = 1 AND (task_type = ? OR task_type = 'general' OR task_type IS NULL)
       ORDER BY success_rate DESC, usage_count DESC, created_at, id
       LIMIT ?`,
      params.task_type,
      max,
    );
  }
  /** `ListAllActiveSkills`: active skills, best success rate first, then most used. */
  async listAllActiveSkills(): Promise<Skill[]> {
    return this.#many(
      'skill_library',
      'SELECT * FROM skill_library WHERE is_active = 1 ORDER BY success_rate DESC, usage_count DESC, created_at, id',
    );
  }
  /** Alias of {@link listAllActiveSkills} (scribe's earlier name). */
  async listActiveSkills(): Promise<Skill[]> {
    return this.listAllActiveSkills();
  }
  /** `CountActiveSkills`. */
  async countActiveSkills(): Promise<number> {
    return this.#value('SELECT COUNT(*) AS v FROM skill_library WHERE is_active = 1');
  }
  /** Every skill, oldest first. */
  async listSkills(): Promise<Skill[]> {
    return this.#many('skill_library', 'SELECT * FROM skill_library ORDER BY created_at, rowid');
  }

  // --- prompt templates and their statistics ---

  /** `GetPromptTemplate`: the prompt template with this id, or undefined. */
  async getPromptTemplate(id: string): Promise<PromptTemplate | undefined> {
    return this.#one('prompt_templates', 'SELECT * FROM prompt_templates WHERE id = ?', id);
  }
  /**
   * `ListActiveTemplatesBySection`: the active templates of a section with their
   * statistics (never scored: `avg_reward` 0, `times_used` 0, `ucb_score` 9999). Ordered
   * as the reference, by the stored `ucb_score` descending and then by name: templates
   * never scored have no stored score and so come **after** the scored ones.
   */
  async listActiveTemplatesBySection(section: string): Promise<RankedPromptTemplate[]> {
    return this.#many(
      'ranked_prompt_templates',
      `SELECT pt.*,
         CAST(COALESCE(us.avg_reward, 0.0) AS DOUBLE PRECISION) AS avg_reward,
         COALESCE(us.times_used, 0) AS times_used,
         CAST(COALESCE(us.ucb_score, 9999.0) AS DOUBLE PRECISION) AS ucb_score
       FROM prompt_templates pt
       LEFT JOIN prompt_ucb_stats us ON pt.id = us.template_id
       WHERE pt.section = ? AND pt.is_active = 1
       ORDER BY us.ucb_score DESC NULLS LAST, pt.name, pt.version DESC, pt.id`,
      section,
    );
  }
  /** `CountPromptTemplates`: active templates. */
  async countPromptTemplates(): Promise<number> {
    return this.#value('SELECT COUNT(*) AS v FROM prompt_templates WHERE is_active = 1');
  }
  /** Templates of one section (or all), by section, name, then newest version first. */
  async listPromptTemplates(section?: string): Promise<PromptTemplate[]> {
    return section === undefined
      ? this.#many('prompt_templates', 'SELECT * FROM prompt_templates ORDER BY section, name, version DESC, id')
      : this.#many('prompt_templates', 'SELECT * FROM prompt_templates WHERE section = ? ORDER BY name, version DESC, id', section);
  }
  /** `GetUCBStats`: the statistics of a template, or undefined when it was never scored. */
  async getUCBStats(templateId: string): Promise<PromptUcbStat | undefined> {
    return this.#one('prompt_ucb_stats', 'SELECT * FROM prompt_ucb_stats WHERE template_id = ?', templateId);
  }
  /**
   * `ListUCBRanking`: every active template with its statistics (never scored:
   * `times_used` 0, `avg_reward` 0, `ucb_score` 9999, `last_used_at` null), ordered as
   * the reference: stored `ucb_score` descending (never scored last), then name.
   */
  async listUCBRanking(): Promise<UcbRankingRow[]> {
    return this.#many(
      'ucb_ranking',
      `SELECT pt.id, pt.name, pt.section, pt.version, pt.is_default,
         COALESCE(us.times_used, 0) AS times_used,
         CAST(COALESCE(us.avg_reward, 0.0) AS DOUBLE PRECISION) AS avg_reward,
         CAST(COALESCE(us.ucb_score, 9999.0) AS DOUBLE PRECISION) AS ucb_score,
         us.last_used_at AS last_used_at
       FROM prompt_templates pt
       LEFT JOIN prompt_ucb_stats us ON pt.id = us.template_id
       WHERE pt.is_active = 1
       ORDER BY us.ucb_score DESC NULLS LAST, pt.name, pt.version DESC, pt.id`,
    );
  }

  // --- session scores ---

  /** `GetSessionScore`: the first score recorded for a session, or undefined. */
  async getSessionScore(sessionId: string): Promise<SessionScore | undefined> {
    return this.#one('session_scores', 'SELECT * FROM session_scores WHERE session_id = ? ORDER BY created_at, rowid LIMIT 1', sessionId);
  }
  /** The session score with this id, or undefined. */
  async getSessionScoreByID(id: string): Promise<SessionScore | undefined> {
    return this.#one('session_scores', 'SELECT * FROM session_scores WHERE id = ?', id);
  }
  /** `CountSessionScores`. */
  async countSessionScores(): Promise<number> {
    return this.#value('SELECT COUNT(*) AS v FROM session_scores');
  }
  /** `ListSessionScores`: the newest `limit` scores of all sessions (negative: all), newest first. */
  async listSessionScores(limitCount: number): Promise<SessionScore[]> {
    const max = limit(limitCount, 'limit');
    return this.#many('session_scores', 'SELECT * FROM session_scores ORDER BY created_at DESC, rowid DESC LIMIT ?', max);
  }
  /** The scores of one session, oldest first. */
  async listSessionScoresBySession(sessionId: string): Promise<SessionScore[]> {
    return this.#many('session_scores', 'SELECT * FROM session_scores WHERE session_id = ? ORDER BY created_at, rowid', sessionId);
  }
  /**
   * `GetTokenBaseline`: the mean of `prompt_tokens + completion_tokens` over the newest
   * `limit` scores (negative: all; 0 when there is none).
   */
  async getTokenBaseline(limitCount: number): Promise<number> {
    const max = limit(limitCount, 'limit');
    return this.#value(
      `SELECT CAST(COALESCE(AVG(recent.prompt_tokens + recent.completion_tokens), 0) AS DOUBLE PRECISION) AS v FROM (
         SELECT prompt_tokens, completion_tokens FROM session_scores ORDER BY created_at DESC, rowid DESC LIMIT ?
       ) AS recent`,
      max,
    );
  }
  /**
   * `GetEvaluatorStats`: how many scores, their mean reward (a score without a reward
   * counts as 0, the reference column's default), how many active skills, and when the
   * newest score was recorded.
   */
  async getEvaluatorStats(): Promise<EvaluatorStats> {
    const stats = await this.#one<EvaluatorStats>(
      'evaluator_stats',
      `SELECT
         (SELECT COUNT(*) FROM session_scores) AS total_evaluations,
         (SELECT CAST(COALESCE(AVG(COALESCE(reward, 0.0)), 0.0) AS DOUBLE PRECISION) FROM session_scores) AS avg_reward,
         (SELECT COUNT(*) FROM skill_library WHERE is_active = 1) AS active_skills,
         (SELECT MAX(created_at) FROM session_scores) AS last_evaluation`,
    );
    return stats!;
  }
}

/**
 * A LIMIT value: an integer, a negative one meaning no limit (as SQLite and the
 * reference read it), bound as the largest safe integer since PostgreSQL refuses a
 * negative LIMIT. INVALID_PARAMS for anything else.
 */
function limit(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value < 0 ? Number.MAX_SAFE_INTEGER : value;
  throw new WriteError('INVALID_PARAMS', `Expected ${field} to be an integer, got ${describe(value)}`, { field });
}
