import type { Migration } from '@scribe/store';

/**
 * The shadow-session schema: the registry of open sessions, in the plugin's own
 * migration namespace (`@scribe/shadow`, versions from 1; files made before
 * namespaces recorded version 1 as 1100 and are re-keyed on upgrade), for SQLite and
 * PostgreSQL. The registry
 * lives in the database (not in a process), so sessions of a crashed process, or
 * opened before a failover, can still be reaped.
 */
export const SHADOW_MIGRATIONS: readonly Migration[] = Object.freeze([
  Object.freeze({
    version: 1,
    name: 'shadow: open-session registry',
    up: {
      sqlite: `CREATE TABLE _shadow_sessions (
  session_id TEXT PRIMARY KEY,
  shadow_table TEXT NOT NULL,
  open_id TEXT NOT NULL UNIQUE,
  opened_at TEXT NOT NULL,
  opened_by TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX _shadow_sessions_opened_at ON _shadow_sessions (opened_at);`,
      // Text compares by bytes (COLLATE "C"), as on SQLite, whatever the database's locale.
      postgres: `CREATE TABLE _shadow_sessions (
  session_id TEXT COLLATE "C" PRIMARY KEY,
  shadow_table TEXT COLLATE "C" NOT NULL,
  open_id TEXT COLLATE "C" NOT NULL UNIQUE,
  opened_at TEXT COLLATE "C" NOT NULL,
  opened_by TEXT COLLATE "C" NOT NULL
);
CREATE INDEX _shadow_sessions_opened_at ON _shadow_sessions (opened_at);`,
    },
  }),
]);
