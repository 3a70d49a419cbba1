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

/*
 * The same schema on PostgreSQL: the same tables and columns, the differences being
 * the engines':
 * - every TEXT column is `COLLATE "C"`: text compares by bytes, as SQLite's default
 *   BINARY collation does, whatever the database's default locale (a locale collation
 *   would sort RFC 3339 times and paths differently, and ignore punctuation);
 * - integers are BIGINT (SQLite's INTEGER is 64-bit); the 0/1 booleans stay INTEGER
 *   with the same CHECKs; REAL is DOUBLE PRECISION;
 * - tables whose reads order by insertion (`rowid` in ORDER BY) get a
 *   `rowid BIGINT GENERATED ALWAYS AS IDENTITY` column, so the same SQL runs on both
 *   (reads map rows to entity fields: `rowid` never shows in an entity);
 * - `_scribe_changes.seq` has no default: the engine assigns it from the one-row
 *   `_scribe_change_counter` inside the committing transaction (a commit-ordered
 *   counter: a plain sequence would let a change committed later take a lower number);
 * - the trigger is a PL/pgSQL function.
 */
const PG_V1_AGENT_SCHEMA = `
CREATE TABLE projects (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL,
  path TEXT COLLATE "C" NOT NULL UNIQUE,
  status TEXT COLLATE "C" NOT NULL DEFAULT 'active',
  initialized INTEGER NOT NULL DEFAULT 0 CHECK (initialized IN (0, 1)),
  acp_pid BIGINT,
  acp_port BIGINT,
  last_opened TEXT COLLATE "C",
  created_at TEXT COLLATE "C" NOT NULL,
  updated_at TEXT COLLATE "C" NOT NULL,
  rowid BIGINT GENERATED ALWAYS AS IDENTITY
);

CREATE TABLE sessions (
  id TEXT COLLATE "C" PRIMARY KEY,
  parent_session_id TEXT COLLATE "C" REFERENCES sessions (id) ON DELETE SET NULL,
  title TEXT COLLATE "C" NOT NULL,
  message_count BIGINT NOT NULL DEFAULT 0,
  prompt_tokens BIGINT NOT NULL DEFAULT 0,
  completion_tokens BIGINT NOT NULL DEFAULT 0,
  cost DOUBLE PRECISION NOT NULL DEFAULT 0,
  summary_message_id TEXT COLLATE "C",
  created_at TEXT COLLATE "C" NOT NULL,
  updated_at TEXT COLLATE "C" NOT NULL,
  rowid BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX sessions_by_parent ON sessions (parent_session_id);
CREATE INDEX sessions_by_created ON sessions (created_at);

CREATE TABLE messages (
  id TEXT COLLATE "C" PRIMARY KEY,
  session_id TEXT COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  role TEXT COLLATE "C" NOT NULL,
  parts TEXT COLLATE "C" NOT NULL,
  model TEXT COLLATE "C",
  finished_at TEXT COLLATE "C",
  created_at TEXT COLLATE "C" NOT NULL,
  updated_at TEXT COLLATE "C" NOT NULL,
  rowid BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX messages_by_session ON messages (session_id, created_at);

CREATE TABLE files (
  id TEXT COLLATE "C" PRIMARY KEY,
  session_id TEXT COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  path TEXT COLLATE "C" NOT NULL,
  content TEXT COLLATE "C" NOT NULL,
  version BIGINT NOT NULL,
  created_at TEXT COLLATE "C" NOT NULL,
  updated_at TEXT COLLATE "C" NOT NULL,
  rowid BIGINT GENERATED ALWAYS AS IDENTITY,
  UNIQUE (session_id, path, version)
);

CREATE TABLE skill_library (
  id TEXT COLLATE "C" PRIMARY KEY,
  title TEXT COLLATE "C" NOT NULL,
  content TEXT COLLATE "C" NOT NULL,
  source_session_id TEXT COLLATE "C",
  source_template_id TEXT COLLATE "C",
  task_type TEXT COLLATE "C",
  usage_count BIGINT NOT NULL DEFAULT 0,
  success_rate DOUBLE PRECISION NOT NULL DEFAULT 0,
  is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
  created_at TEXT COLLATE "C" NOT NULL,
  updated_at TEXT COLLATE "C" NOT NULL,
  rowid BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX skills_by_activity ON skill_library (is_active, success_rate);

CREATE TABLE prompt_templates (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL,
  section TEXT COLLATE "C" NOT NULL,
  content TEXT COLLATE "C" NOT NULL,
  version BIGINT NOT NULL DEFAULT 1,
  is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
  is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
  created_at TEXT COLLATE "C" NOT NULL,
  updated_at TEXT COLLATE "C" NOT NULL,
  rowid BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX prompt_templates_by_section ON prompt_templates (section);

CREATE TABLE session_scores (
  id TEXT COLLATE "C" PRIMARY KEY,
  session_id TEXT COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  template_id TEXT COLLATE "C",
  reward DOUBLE PRECISION,
  success_score DOUBLE PRECISION,
  efficiency_score DOUBLE PRECISION,
  judge_analysis TEXT COLLATE "C",
  judge_model TEXT COLLATE "C",
  prompt_tokens BIGINT NOT NULL DEFAULT 0,
  completion_tokens BIGINT NOT NULL DEFAULT 0,
  message_count BIGINT NOT NULL DEFAULT 0,
  user_corrections BIGINT NOT NULL DEFAULT 0,
  evaluated_at TEXT COLLATE "C",
  created_at TEXT COLLATE "C" NOT NULL,
  rowid BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX session_scores_by_session ON session_scores (session_id);
`;

const PG_V2_WRITE_PATH = `
CREATE TABLE _scribe_requests (
  request_id TEXT COLLATE "C" PRIMARY KEY,
  source_instance_id TEXT COLLATE "C" NOT NULL,
  method TEXT COLLATE "C" NOT NULL,
  ok INTEGER NOT NULL,
  result TEXT COLLATE "C",
  committed_at TEXT COLLATE "C" NOT NULL,
  rowid BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX _scribe_requests_by_rowid ON _scribe_requests (rowid);

CREATE TABLE _scribe_changes (
  seq BIGINT PRIMARY KEY,
  entity TEXT COLLATE "C" NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  op TEXT COLLATE "C" NOT NULL CHECK (op IN ('created', 'updated', 'deleted')),
  request_id TEXT COLLATE "C" NOT NULL,
  source_instance_id TEXT COLLATE "C" NOT NULL,
  at TEXT COLLATE "C" NOT NULL
);

-- The last change number given out. One row; a transaction that logs changes takes
-- it with UPDATE … RETURNING, which holds the row's lock until that transaction ends,
-- so numbers are given in commit order.
CREATE TABLE _scribe_change_counter (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL
);
INSERT INTO _scribe_change_counter (id, seq) VALUES (1, 0);
`;

const PG_V3_PROMPT_UCB_STATS = `
CREATE TABLE prompt_ucb_stats (
  template_id TEXT COLLATE "C" PRIMARY KEY REFERENCES prompt_templates (id) ON DELETE CASCADE,
  times_used BIGINT NOT NULL DEFAULT 0,
  total_reward DOUBLE PRECISION NOT NULL DEFAULT 0.0,
  avg_reward DOUBLE PRECISION NOT NULL DEFAULT 0.0,
  ucb_score DOUBLE PRECISION NOT NULL DEFAULT 9999.0,
  last_used_at TEXT COLLATE "C",
  updated_at TEXT COLLATE "C" NOT NULL
);

CREATE FUNCTION update_ucb_after_score() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO prompt_ucb_stats AS s (template_id, times_used, total_reward, avg_reward, ucb_score, last_used_at, updated_at)
  VALUES (NEW.template_id, 1, COALESCE(NEW.reward, 0.0), COALESCE(NEW.reward, 0.0), COALESCE(NEW.reward, 0.0), NEW.created_at, NEW.created_at)
  ON CONFLICT (template_id) DO UPDATE SET
    times_used = s.times_used + 1,
    total_reward = s.total_reward + COALESCE(NEW.reward, 0.0),
    avg_reward = (s.total_reward + COALESCE(NEW.reward, 0.0)) / (s.times_used + 1),
    ucb_score = (s.total_reward + COALESCE(NEW.reward, 0.0)) / (s.times_used + 1),
    last_used_at = NEW.created_at,
    updated_at = NEW.created_at;
  RETURN NULL;
END
$$;

CREATE TRIGGER update_ucb_after_score
AFTER INSERT ON session_scores
FOR EACH ROW WHEN (NEW.template_id IS NOT NULL)
EXECUTE FUNCTION update_ucb_after_score();

CREATE INDEX files_by_path ON files (path, created_at);
`;

/*
 * Who is a peer of this database now: each process of a PostgreSQL database records
 * itself here once a heartbeat (one upsert, off the write path) and deletes its row
 * when it closes cleanly; the status page lists the other peers from it, and rows
 * silent for a minute are pruned by the next heartbeat of any peer. A SQLite cluster
 * learns its members over ZeroMQ (`db.member`) and leaves the table empty; it has the
 * table so that both engines carry the same migration identities and the same tables.
 * `plugins` and `load` are JSON text; times are RFC 3339 text, `seen_at` from the
 * server's clock (peers on several hosts compare one clock).
 */
const V4_PEERS = `
CREATE TABLE _scribe_peers (
  instance_id TEXT PRIMARY KEY,
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  http TEXT,
  schema_version INTEGER NOT NULL,
  plugins TEXT NOT NULL,
  load TEXT NOT NULL,
  interval_ms INTEGER NOT NULL,
  uptime_s INTEGER NOT NULL,
  started_at TEXT NOT NULL,
  seen_at TEXT NOT NULL
);
`;

const PG_V4_PEERS = `
CREATE TABLE _scribe_peers (
  instance_id TEXT COLLATE "C" PRIMARY KEY,
  pid BIGINT NOT NULL,
  host TEXT COLLATE "C" NOT NULL,
  http TEXT COLLATE "C",
  schema_version BIGINT NOT NULL,
  plugins TEXT COLLATE "C" NOT NULL,
  load TEXT COLLATE "C" NOT NULL,
  interval_ms BIGINT NOT NULL,
  uptime_s BIGINT NOT NULL,
  started_at TEXT COLLATE "C" NOT NULL,
  seen_at TEXT COLLATE "C" NOT NULL
);
`;

/** scribe's own schema steps, in order, for both engines. */
export const BUILTIN_MIGRATIONS: readonly Migration[] = Object.freeze([
  { version: 1, name: 'agent tables', up: { sqlite: V1_AGENT_SCHEMA, postgres: PG_V1_AGENT_SCHEMA } },
  { version: 2, name: 'request records and change log', up: { sqlite: V2_WRITE_PATH, postgres: PG_V2_WRITE_PATH } },
  { version: 3, name: 'prompt UCB stats and its trigger', up: { sqlite: V3_PROMPT_UCB_STATS, postgres: PG_V3_PROMPT_UCB_STATS } },
  { version: 4, name: 'peers of the database', up: { sqlite: V4_PEERS, postgres: PG_V4_PEERS } },
]);

/** The highest built-in schema version this code knows. */
export const SCHEMA_VERSION = 4;
