import { WriteError } from '@scribe/protocol';
import type { SqliteDatabase } from './sqlite-database.js';

/** One schema step. Built-in versions are 1–999; application migrations use 1000 and up. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** SQL (several statements allowed) or a function run inside the migration's transaction. */
  readonly up: string | ((db: SqliteDatabase) => void);
}

/** The first version available to application migrations. */
export const FIRST_APPLICATION_MIGRATION = 1000;

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS _scribe_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`;

/** Checks a migration list: integer versions, unique, applications at 1000 and up. */
export function validateMigrations(builtin: readonly Migration[], application: readonly Migration[]): Migration[] {
  const seen = new Set<number>();
  for (const m of application) {
    if (!Number.isInteger(m.version) || m.version < FIRST_APPLICATION_MIGRATION) {
      throw new TypeError(
        `Expected application migration '${m.name}' to have an integer version of ${FIRST_APPLICATION_MIGRATION} or more, got ${String(m.version)}`,
      );
    }
  }
  const all = [...builtin, ...application].sort((a, b) => a.version - b.version);
  for (const m of all) {
    if (seen.has(m.version)) throw new TypeError(`Expected migration versions to be unique, got ${m.version} twice`);
    seen.add(m.version);
  }
  return all;
}

/** Versions recorded in the file, ascending (empty for a new file). */
export function appliedVersions(db: SqliteDatabase): number[] {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_scribe_migrations'").get();
  if (exists === undefined) return [];
  return (db.prepare('SELECT version FROM _scribe_migrations ORDER BY version').all() as Array<{ version: number }>).map(
    (r) => r.version,
  );
}

/**
 * Refuses a file that records a version newer than this code knows, namespace by
 * namespace: it was migrated by newer code, and writing to it could break what that
 * code relies on.
 *
 * - Built-in versions (below {@link FIRST_APPLICATION_MIGRATION}) are compared with
 *   the newest built-in version known.
 * - Application versions ({@link FIRST_APPLICATION_MIGRATION} and up) are compared
 *   with the newest application version known, but only when the opener supplied
 *   application migrations: a generic tool (the `scribe` CLI, a status probe) that
 *   knows none of the application's schema can still open the file.
 */
export function checkNotNewer(applied: readonly number[], known: readonly Migration[]): void {
  const newestIn = (app: boolean): number =>
    known.filter((m) => (m.version >= FIRST_APPLICATION_MIGRATION) === app).reduce((max, m) => Math.max(max, m.version), 0);
  const newestBuiltin = newestIn(false);
  const newestApp = newestIn(true);
  const builtinAhead = applied.filter((v) => v < FIRST_APPLICATION_MIGRATION && v > newestBuiltin);
  if (builtinAhead.length > 0) {
    throw new WriteError(
      'SCHEMA_MISMATCH',
      `the database has scribe schema version ${Math.max(...builtinAhead)} but this code knows versions up to ${newestBuiltin}; upgrade scribe before opening it`,
    );
  }
  if (newestApp === 0) return;
  const appAhead = applied.filter((v) => v >= FIRST_APPLICATION_MIGRATION && v > newestApp);
  if (appAhead.length > 0) {
    throw new WriteError(
      'SCHEMA_MISMATCH',
      `the database has application schema version ${Math.max(...appAhead)} but this code knows application versions up to ${newestApp}; upgrade the application before opening it`,
    );
  }
}

/** Applies the pending migrations in version order, each in its own transaction. Returns the versions applied. */
export function applyMigrations(db: SqliteDatabase, migrations: readonly Migration[], now: () => string): number[] {
  db.exec(MIGRATIONS_TABLE);
  const applied = new Set(appliedVersions(db));
  checkNotNewer([...applied], migrations);
  const done: number[] = [];
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      if (typeof m.up === 'string') db.exec(m.up);
      else m.up(db);
      db.prepare('INSERT INTO _scribe_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, now());
      db.exec('COMMIT');
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw new Error(`migrate: apply ${m.version} (${m.name})`, { cause: e });
    }
    done.push(m.version);
  }
  return done;
}
