import type { Migration } from './migrations.js';

const V1_AGENT_SCHEMA = `
CREATE TABLE projects (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  path TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL DEFAULT 'active',
  initialized INTEGER NOT NULL DEFAULT 0 CHECK (initialized IN (0, 1)),
  acp_pid INTEGER,
  acp_port INTEGER,
  last_opened TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  parent_session_id TEXT REFERENCES sessions (id) ON DELETE SET NULL,
  title TEXT NOT NULL,
  message_count INTEGER NOT NULL DEFAULT 0,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  cost REAL NOT NULL DEFAULT 0,
  summary_message_id TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX sessions_by_parent ON sessions (parent_session_id);
CREATE INDEX sessions_by_created ON sessions (created_at);

CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  role TEXT NOT NULL,
  parts TEXT NOT NULL,
  model TEXT,
  finished_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX messages_by_session ON messages (session_id, created_at);

CREATE TABLE files (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  content TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (session_id, path, version)
);

CREATE TABLE skill_library (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  content TEXT NOT NULL,
  source_session_id TEXT,
  source_template_id TEXT,
  task_type TEXT,
  usage_count INTEGER NOT NULL DEFAULT 0,
  success_rate REAL NOT NULL DEFAULT 0,
  is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX skills_by_activity ON skill_library (is_active, success_rate);

CREATE TABLE prompt_templates (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  section TEXT NOT NULL,
  content TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
  is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX prompt_templates_by_section ON prompt_templates (section);

CREATE TABLE session_scores (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  template_id TEXT,
  reward REAL,
  success_score REAL,
  efficiency_score REAL,
  judge_analysis TEXT,
  judge_model TEXT,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  message_count INTEGER NOT NULL DEFAULT 0,
  user_corrections INTEGER NOT NULL DEFAULT 0,
  evaluated_at TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX session_scores_by_session ON session_scores (session_id);
`;

const V2_WRITE_PATH = `
CREATE TABLE _scribe_requests (
  request_id TEXT PRIMARY KEY,
  source_instance_id TEXT NOT NULL,
  method TEXT NOT NULL,
  ok INTEGER NOT NULL,
  result TEXT,
  committed_at TEXT NOT NULL
);

CREATE TABLE _scribe_changes (
  seq INTEGER PRIMARY KEY,
  entity TEXT NOT NULL,
  key TEXT NOT NULL,
  op TEXT NOT NULL CHECK (op IN ('created', 'updated', 'deleted')),
  request_id TEXT NOT NULL,
  source_instance_id TEXT NOT NULL,
  at TEXT NOT NULL
);
`;

/**
 * The reference's per-template bandit statistics, kept by a trigger on every scored
 * session: `times_used`, `total_reward`, `avg_reward` and `ucb_score` (the reference
 * stores the mean there; callers add their exploration term), as the reference's
 * `update_ucb_after_score` does. Two deliberate differences, both documented: times are
 * RFC 3339 text like every scribe time (the score's `created_at`, i.e. the write's
 * time, not the trigger's clock), and `last_used_at` is set (the reference declares it
 * but never fills it). A score without a reward counts as 0, the reference column's
 * default. Also an index for the reads by path across sessions.
 */
const V3_PROMPT_UCB_STATS = `
CREATE TABLE prompt_ucb_stats (
  template_id TEXT PRIMARY KEY REFERENCES prompt_templates (id) ON DELETE CASCADE,
  times_used INTEGER NOT NULL DEFAULT 0,
  total_reward REAL NOT NULL DEFAULT 0.0,
  avg_reward REAL NOT NULL DEFAULT 0.0,
  ucb_score REAL NOT NULL DEFAULT 9999.0,
  last_used_at TEXT,
  updated_at TEXT NOT NULL
);

CREATE TRIGGER update_ucb_after_score
AFTER INSERT ON session_scores
WHEN NEW.template_id IS NOT NULL
BEGIN
  INSERT INTO prompt_ucb_stats (template_id, times_used, total_reward, avg_reward, ucb_score, last_used_at, updated_at)
  VALUES (NEW.template_id, 1, COALESCE(NEW.reward, 0.0), COALESCE(NEW.reward, 0.0), COALESCE(NEW.reward, 0.0), NEW.created_at, NEW.created_at)
  ON CONFLICT (template_id) DO UPDATE SET
    times_used = times_used + 1,
    total_reward = total_reward + COALESCE(NEW.reward, 0.0),
    avg_reward = (total_reward + COALESCE(NEW.reward, 0.0)) / (times_used + 1),
    ucb_score = (total_reward + COALESCE(NEW.reward, 0.0)) / (times_used + 1),
    last_used_at = NEW.created_at,
    updated_at = NEW.created_at;
END;

CREATE INDEX files_by_path ON files (path, created_at);
`;

/** scribe's own schema steps, in order. */
export const BUILTIN_MIGRATIONS: readonly Migration[] = Object.freeze([
  { version: 1, name: 'agent tables', up: V1_AGENT_SCHEMA },
  { version: 2, name: 'request records and change log', up: V2_WRITE_PATH },
  { version: 3, name: 'prompt UCB stats and its trigger', up: V3_PROMPT_UCB_STATS },
]);

/** The highest built-in schema version this code knows. */
export const SCHEMA_VERSION = 3;
