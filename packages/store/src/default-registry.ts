import { WriteRegistry } from './write-registry.js';
import { CreateFile, DeleteFile, DeleteSessionFiles, UpdateFile } from './writes/file-writes.js';
import {
  DeactivateLowestSkill,
  IncrementSkillUsage,
  InsertPromptTemplate,
  InsertSessionScore,
  InsertSkill,
} from './writes/library-writes.js';
import { CreateMessage, DeleteMessage, UpdateMessage } from './writes/message-writes.js';
import {
  CreateProject,
  DeleteProject,
  MarkProjectInitialized,
  UpdateProjectLastOpened,
  UpdateProjectStatus,
} from './writes/project-writes.js';
import { rawSqlWrites } from './writes/raw-sql-writes.js';
import { CreateSession, DeleteSession, DeleteSessionMessages, UpdateSession } from './writes/session-writes.js';

/** The 21 writes agents use, in documentation order. */
export const AGENT_WRITES = Object.freeze([
  CreateProject,
  UpdateProjectStatus,
  UpdateProjectLastOpened,
  MarkProjectInitialized,
  DeleteProject,
  CreateSession,
  UpdateSession,
  DeleteSession,
  DeleteSessionMessages,
  CreateMessage,
  UpdateMessage,
  DeleteMessage,
  CreateFile,
  UpdateFile,
  DeleteFile,
  DeleteSessionFiles,
  InsertPromptTemplate,
  InsertSessionScore,
  InsertSkill,
  IncrementSkillUsage,
  DeactivateLowestSkill,
]);

/** Options of {@link createDefaultRegistry}. */
export interface DefaultRegistryOptions {
  /** Register working `Exec`/`ExecBatch` raw-SQL writes (default true); when false they answer DISABLED. */
  rawSql?: boolean;
}

/** A registry with scribe's built-in writes; register application writes on it. */
export function createDefaultRegistry(options: DefaultRegistryOptions = {}): WriteRegistry {
  const registry = new WriteRegistry();
  for (const w of AGENT_WRITES) registry.register(w);
  for (const w of rawSqlWrites(options.rawSql ?? true)) registry.register(w);
  return registry;
}
