import type Database from 'better-sqlite3';
import type {
  FileRecord,
  Message,
  Project,
  PromptTemplate,
  Session,
  SessionScore,
  Skill,
} from './entities.js';
import { toEntity } from './entities.js';

/**
 * The synchronous typed reads, on one connection, with each statement prepared
 * once. Every read runs in its own implicit transaction, so it sees every commit
 * made (by any process) before it starts.
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

  /** The project with this id, or undefined. */
  getProject(id: string): Project | undefined {
    return this.#one('projects', 'SELECT * FROM projects WHERE id = ?', id);
  }
  /** The project at this path (unique), or undefined. */
  getProjectByPath(path: string): Project | undefined {
    return this.#one('projects', 'SELECT * FROM projects WHERE path = ?', path);
  }
  /** Most recently opened first (never-opened last), then newest first. */
  listProjects(): Project[] {
    return this.#many('projects', 'SELECT * FROM projects ORDER BY last_opened IS NULL, last_opened DESC, created_at DESC, rowid DESC');
  }
  /** The session with this id, or undefined. */
  getSession(id: string): Session | undefined {
    return this.#one('sessions', 'SELECT * FROM sessions WHERE id = ?', id);
  }
  /** Newest first. */
  listSessions(): Session[] {
    return this.#many('sessions', 'SELECT * FROM sessions ORDER BY created_at DESC, rowid DESC');
  }
  /** Children of a session, oldest first. */
  listChildSessions(parentId: string): Session[] {
    return this.#many('sessions', 'SELECT * FROM sessions WHERE parent_session_id = ? ORDER BY created_at, rowid', parentId);
  }
  /** The message with this id, or undefined. */
  getMessage(id: string): Message | undefined {
    return this.#one('messages', 'SELECT * FROM messages WHERE id = ?', id);
  }
  /** In the order they were created. */
  listMessages(sessionId: string): Message[] {
    return this.#many('messages', 'SELECT * FROM messages WHERE session_id = ? ORDER BY created_at, rowid', sessionId);
  }
  /** The file version with this id, or undefined. */
  getFile(id: string): FileRecord | undefined {
    return this.#one('files', 'SELECT * FROM files WHERE id = ?', id);
  }
  /** Every version of every file of a session, by path then version. */
  listFiles(sessionId: string): FileRecord[] {
    return this.#many('files', 'SELECT * FROM files WHERE session_id = ? ORDER BY path, version', sessionId);
  }
  /** The highest version of each path of a session, by path. */
  listLatestFiles(sessionId: string): FileRecord[] {
    return this.#many(
      'files',
      `SELECT f.* FROM files f
       WHERE f.session_id = ? AND f.version = (SELECT MAX(version) FROM files g WHERE g.session_id = f.session_id AND g.path = f.path)
       ORDER BY f.path`,
      sessionId,
    );
  }
  /** The skill with this id, or undefined. */
  getSkill(id: string): Skill | undefined {
    return this.#one('skill_library', 'SELECT * FROM skill_library WHERE id = ?', id);
  }
  /** Active skills, best success rate first. */
  listActiveSkills(): Skill[] {
    return this.#many('skill_library', 'SELECT * FROM skill_library WHERE is_active = 1 ORDER BY success_rate DESC, usage_count DESC, created_at, id');
  }
  /** Every skill, oldest first. */
  listSkills(): Skill[] {
    return this.#many('skill_library', 'SELECT * FROM skill_library ORDER BY created_at, rowid');
  }
  /** The prompt template with this id, or undefined. */
  getPromptTemplate(id: string): PromptTemplate | undefined {
    return this.#one('prompt_templates', 'SELECT * FROM prompt_templates WHERE id = ?', id);
  }
  /** Templates of one section (or all), by section, name, then newest version first. */
  listPromptTemplates(section?: string): PromptTemplate[] {
    return section === undefined
      ? this.#many('prompt_templates', 'SELECT * FROM prompt_templates ORDER BY section, name, version DESC')
      : this.#many('prompt_templates', 'SELECT * FROM prompt_templates WHERE section = ? ORDER BY name, version DESC', section);
  }
  /** The session score with this id, or undefined. */
  getSessionScore(id: string): SessionScore | undefined {
    return this.#one('session_scores', 'SELECT * FROM session_scores WHERE id = ?', id);
  }
  /** Scores of a session, oldest first. */
  listSessionScores(sessionId: string): SessionScore[] {
    return this.#many('session_scores', 'SELECT * FROM session_scores WHERE session_id = ? ORDER BY created_at, rowid', sessionId);
  }
}
