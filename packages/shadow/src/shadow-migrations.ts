import type { Migration } from '@scribe/store';

/**
 * The shadow-session schema: the registry of open sessions, in the plugin's own
 * migration namespace (`@scribe/shadow`, versions from 1; files made before
 * namespaces recorded version 1 as 1100 and are re-keyed on upgrade). The registry
 * lives in the database (not in a process), so sessions of a crashed process, or
 * opened before a failover, can still be reaped.
 */
export const SHADOW_MIGRATIONS: readonly Migration[] = Object.freeze([
  Object.freeze({
    version: 1,
    name: 'shadow: open-session registry',
    up: `CREATE TABLE _shadow_sessions (
  session_id TEXT PRIMARY KEY,
  shadow_table TEXT NOT NULL,
  open_id TEXT NOT NULL UNIQUE,
  opened_at TEXT NOT NULL,
  opened_by TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX _shadow_sessions_opened_at ON _shadow_sessions (opened_at);`,
  }),
]);
