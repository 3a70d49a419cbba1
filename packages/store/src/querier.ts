import { uuidv7 } from '@scribe/protocol';
import type {
  DeleteResult,
  FileRecord,
  Message,
  Project,
  PromptTemplate,
  Session,
  SessionScore,
  Skill,
} from './entities.js';
import type { Store } from './store.js';
import type { ExecResult } from './writes/raw-sql-writes.js';

/** Per-call options of a write. */
export interface WriteOptions {
  /** Budget for the whole write, retries included (forwarded writes). */
  timeoutMs?: number;
  /** Absolute deadline; the primary never starts the write after it. */
  deadline?: Date;
  /** Reuse a request id, e.g. one persisted before a crash, so the write applies at most once. */
  requestId?: string;
}

/** Sends one write (by registered name) and resolves with its result; rejects with a WriteError. */
export type WriteFn = (method: string, params: unknown, options?: WriteOptions) => Promise<unknown>;

type Maybe<T> = T | null | undefined;

/** Params of the built-in writes (column names; see the store's README for each). */
export interface WriteParams {
  CreateProject: { id?: string; name: string; path: string; status?: string; initialized?: boolean; acp_pid?: Maybe<number>; acp_port?: Maybe<number>; last_opened?: Maybe<string> };
  UpdateProjectStatus: { id: string; status: string };
  UpdateProjectLastOpened: { id: string; last_opened?: string };
  MarkProjectInitialized: { id: string; acp_pid?: Maybe<number>; acp_port?: Maybe<number> };
  DeleteProject: { id: string };
  CreateSession: { id?: string; parent_session_id?: Maybe<string>; title: string; prompt_tokens?: number; completion_tokens?: number; cost?: number; summary_message_id?: Maybe<string> };
  UpdateSession: { id: string; title?: string; prompt_tokens?: number; completion_tokens?: number; cost?: number; summary_message_id?: Maybe<string> };
  DeleteSession: { id: string };
  DeleteSessionMessages: { session_id: string };
  CreateMessage: { id?: string; session_id: string; role: string; parts: string; model?: Maybe<string>; finished_at?: Maybe<string> };
  UpdateMessage: { id: string; parts?: string; model?: Maybe<string>; finished_at?: Maybe<string> };
  DeleteMessage: { id: string };
  CreateFile: { id?: string; session_id: string; path: string; content: string; version?: number };
  UpdateFile: { id: string; content: string };
  DeleteFile: { id: string };
  DeleteSessionFiles: { session_id: string };
  InsertPromptTemplate: { id?: string; name: string; section: string; content: string; version?: number; is_active?: boolean; is_default?: boolean };
  InsertSessionScore: {
    id?: string; session_id: string; template_id?: Maybe<string>; reward?: Maybe<number>; success_score?: Maybe<number>; efficiency_score?: Maybe<number>;
    judge_analysis?: Maybe<string>; judge_model?: Maybe<string>; prompt_tokens?: number; completion_tokens?: number; message_count?: number;
    user_corrections?: number; evaluated_at?: Maybe<string>;
  };
  InsertSkill: { id?: string; title: string; content: string; source_session_id?: Maybe<string>; source_template_id?: Maybe<string>; task_type?: Maybe<string>; usage_count?: number; success_rate?: number; is_active?: boolean };
  IncrementSkillUsage: { id: string; success?: boolean };
}

/** One SQL statement with bound parameters. */
export interface SqlStatement {
  sql: string;
  params?: ReadonlyArray<string | number | boolean | null> | Record<string, string | number | boolean | null>;
}

/**
 * The one interface agents use, whatever their process's role: typed writes (sent
 * through the write path) and typed reads (on the local connection). Every method
 * is async so a remote implementation fits the same callers.
 */
export interface Querier {
  /** `CreateProject`: a new project (path unique). */
  createProject(params: WriteParams['CreateProject'], options?: WriteOptions): Promise<Project>;
  /** `UpdateProjectStatus`; NOT_FOUND when absent. */
  updateProjectStatus(params: WriteParams['UpdateProjectStatus'], options?: WriteOptions): Promise<Project>;
  /** `UpdateProjectLastOpened` (default: now); NOT_FOUND when absent. */
  updateProjectLastOpened(params: WriteParams['UpdateProjectLastOpened'], options?: WriteOptions): Promise<Project>;
  /** `MarkProjectInitialized`, optionally with the ACP pid and port; NOT_FOUND when absent. */
  markProjectInitialized(params: WriteParams['MarkProjectInitialized'], options?: WriteOptions): Promise<Project>;
  /** `DeleteProject`: `{deleted: 0|1}`. */
  deleteProject(params: WriteParams['DeleteProject'], options?: WriteOptions): Promise<DeleteResult>;
  /** `CreateSession`, optionally the child of another. */
  createSession(params: WriteParams['CreateSession'], options?: WriteOptions): Promise<Session>;
  /** `UpdateSession`: any of title, token counts, cost, summary message; NOT_FOUND when absent. */
  updateSession(params: WriteParams['UpdateSession'], options?: WriteOptions): Promise<Session>;
  /** `DeleteSession` with its messages, files and scores; children keep living, detached. */
  deleteSession(params: WriteParams['DeleteSession'], options?: WriteOptions): Promise<{ deleted: number; messages: number; files: number; scores: number }>;
  /** `DeleteSessionMessages`: every message of a session; message_count becomes 0. */
  deleteSessionMessages(params: WriteParams['DeleteSessionMessages'], options?: WriteOptions): Promise<DeleteResult>;
  /** `CreateMessage`; bumps the session's message_count. CONFLICT for a missing session. */
  createMessage(params: WriteParams['CreateMessage'], options?: WriteOptions): Promise<Message>;
  /** `UpdateMessage`: parts, model or finished_at; NOT_FOUND when absent. */
  updateMessage(params: WriteParams['UpdateMessage'], options?: WriteOptions): Promise<Message>;
  /** `DeleteMessage`; decrements the session's message_count. */
  deleteMessage(params: WriteParams['DeleteMessage'], options?: WriteOptions): Promise<DeleteResult>;
  /** `CreateFile`: a version of a file (next version when none is given). */
  createFile(params: WriteParams['CreateFile'], options?: WriteOptions): Promise<FileRecord>;
  /** `UpdateFile`: replaces the content of that version in place; NOT_FOUND when absent. */
  updateFile(params: WriteParams['UpdateFile'], options?: WriteOptions): Promise<FileRecord>;
  /** `DeleteFile`: one version. */
  deleteFile(params: WriteParams['DeleteFile'], options?: WriteOptions): Promise<DeleteResult>;
  /** `DeleteSessionFiles`: every version of every file of a session. */
  deleteSessionFiles(params: WriteParams['DeleteSessionFiles'], options?: WriteOptions): Promise<DeleteResult>;
  /** `InsertPromptTemplate`. */
  insertPromptTemplate(params: WriteParams['InsertPromptTemplate'], options?: WriteOptions): Promise<PromptTemplate>;
  /** `InsertSessionScore`; CONFLICT for a missing session. */
  insertSessionScore(params: WriteParams['InsertSessionScore'], options?: WriteOptions): Promise<SessionScore>;
  /** `InsertSkill`. */
  insertSkill(params: WriteParams['InsertSkill'], options?: WriteOptions): Promise<Skill>;
  /** `IncrementSkillUsage`, folding an optional outcome into success_rate; NOT_FOUND when absent. */
  incrementSkillUsage(params: WriteParams['IncrementSkillUsage'], options?: WriteOptions): Promise<Skill>;
  /** `DeactivateLowestSkill`: the skill deactivated, or null when none is active. */
  deactivateLowestSkill(options?: WriteOptions): Promise<Skill | null>;

  /** Any registered write by name (application writes). */
  write<R = unknown>(method: string, params: unknown, options?: WriteOptions): Promise<R>;
  /** One raw SQL statement on application tables (the `Exec` write). */
  exec(sql: string, params?: SqlStatement['params'], options?: WriteOptions): Promise<ExecResult>;
  /** Several raw statements, all or nothing (the `ExecBatch` write). */
  execBatch(statements: readonly SqlStatement[], options?: WriteOptions): Promise<ExecResult[]>;

  /** The project with this id, or undefined. */
  getProject(id: string): Promise<Project | undefined>;
  /** The project at this path, or undefined. */
  getProjectByPath(path: string): Promise<Project | undefined>;
  /** Most recently opened first, never-opened last. */
  listProjects(): Promise<Project[]>;
  /** The session with this id, or undefined. */
  getSession(id: string): Promise<Session | undefined>;
  /** Newest first. */
  listSessions(): Promise<Session[]>;
  /** Children of a session, oldest first. */
  listChildSessions(parentId: string): Promise<Session[]>;
  /** The message with this id, or undefined. */
  getMessage(id: string): Promise<Message | undefined>;
  /** Messages of a session in creation order. */
  listMessages(sessionId: string): Promise<Message[]>;
  /** The file version with this id, or undefined. */
  getFile(id: string): Promise<FileRecord | undefined>;
  /** Every version of every file of a session, by path then version. */
  listFiles(sessionId: string): Promise<FileRecord[]>;
  /** The latest version of each path of a session, by path. */
  listLatestFiles(sessionId: string): Promise<FileRecord[]>;
  /** The skill with this id, or undefined. */
  getSkill(id: string): Promise<Skill | undefined>;
  /** Active skills, best success rate first. */
  listActiveSkills(): Promise<Skill[]>;
  /** Every skill, oldest first. */
  listSkills(): Promise<Skill[]>;
  /** The prompt template with this id, or undefined. */
  getPromptTemplate(id: string): Promise<PromptTemplate | undefined>;
  /** Templates of one section (or all), by name, newest version first. */
  listPromptTemplates(section?: string): Promise<PromptTemplate[]>;
  /** The session score with this id, or undefined. */
  getSessionScore(id: string): Promise<SessionScore | undefined>;
  /** Scores of a session, oldest first. */
  listSessionScores(sessionId: string): Promise<SessionScore[]>;
  /** A read-only SQL statement on the local connection. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[] | Record<string, unknown>): Promise<T[]>;
}

/** Querier method name → write name, for the writes with a params object. */
export const QUERIER_WRITES = Object.freeze({
  createProject: 'CreateProject',
  updateProjectStatus: 'UpdateProjectStatus',
  updateProjectLastOpened: 'UpdateProjectLastOpened',
  markProjectInitialized: 'MarkProjectInitialized',
  deleteProject: 'DeleteProject',
  createSession: 'CreateSession',
  updateSession: 'UpdateSession',
  deleteSession: 'DeleteSession',
  deleteSessionMessages: 'DeleteSessionMessages',
  createMessage: 'CreateMessage',
  updateMessage: 'UpdateMessage',
  deleteMessage: 'DeleteMessage',
  createFile: 'CreateFile',
  updateFile: 'UpdateFile',
  deleteFile: 'DeleteFile',
  deleteSessionFiles: 'DeleteSessionFiles',
  insertPromptTemplate: 'InsertPromptTemplate',
  insertSessionScore: 'InsertSessionScore',
  insertSkill: 'InsertSkill',
  incrementSkillUsage: 'IncrementSkillUsage',
} as const);

/** Options of {@link createQuerier}. */
export interface QuerierOptions {
  /** Where reads go (read at each call, so the holder may swap stores). */
  store: Pick<Store, 'reads' | 'query'>;
  /** Where writes go: the coordinator, a forwarder, or {@link directWriteFn}. */
  write: WriteFn;
}

/** Builds a Querier over a store (reads) and a write function (writes). */
export function createQuerier(options: QuerierOptions): Querier {
  const { store, write } = options;
  const q: Record<string, unknown> = {
    write: (method: string, params: unknown, o?: WriteOptions) => write(method, params, o),
    deactivateLowestSkill: (o?: WriteOptions) => write('DeactivateLowestSkill', null, o),
    exec: (sql: string, params?: SqlStatement['params'], o?: WriteOptions) =>
      write('Exec', params === undefined ? { sql } : { sql, params }, o),
    execBatch: (statements: readonly SqlStatement[], o?: WriteOptions) => write('ExecBatch', { statements }, o),
    query: async (sql: string, params?: readonly unknown[] | Record<string, unknown>) => store.query(sql, params),
  };
  for (const [fn, name] of Object.entries(QUERIER_WRITES)) {
    q[fn] = (params: unknown, o?: WriteOptions) => write(name, params, o);
  }
  const reads = [
    'getProject', 'getProjectByPath', 'listProjects', 'getSession', 'listSessions', 'listChildSessions', 'getMessage',
    'listMessages', 'getFile', 'listFiles', 'listLatestFiles', 'getSkill', 'listActiveSkills', 'listSkills',
    'getPromptTemplate', 'listPromptTemplates', 'getSessionScore', 'listSessionScores',
  ] as const;
  for (const name of reads) {
    q[name] = async (...args: unknown[]) => (store.reads[name] as (...a: unknown[]) => unknown).apply(store.reads, args);
  }
  return Object.freeze(q) as unknown as Querier;
}

/**
 * A write function that runs writes on a read-write store directly, each in its own
 * transaction: for a single process with no cluster (tests, tools, migrations).
 */
export function directWriteFn(store: Store, sourceInstanceId = 'local'): WriteFn {
  return async (method, params, options) =>
    store.executeWrite({
      meta: {
        source_instance_id: sourceInstanceId,
        request_id: options?.requestId ?? uuidv7(),
        timestamp: new Date().toISOString(),
      },
      method,
      params: params === undefined ? null : params,
    });
}
