import type { SqliteDatabase } from './sqlite-database.js';
import {
  checkMigrationsRunOn,
  checkNotNewer,
  legacyMigrationId,
  migrationLabel,
  migrationStep,
  missingMigrations,
  type AppliedMigration,
  type MigrationId,
  type OrderedMigration,
} from './migrations.js';

/*
 * The migration runner on SQLite: the `_scribe_migrations` table (and its upgrade from
 * the single numbering of files made before namespaces), and applying the pending
 * migrations, each in its own transaction with its record. The ordering and checks are
 * migrations.ts's, shared with the PostgreSQL runner.
 */

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS _scribe_migrations (
  plugin TEXT NOT NULL,
  version INTEGER NOT NULL,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL,
  PRIMARY KEY (plugin, version)
) WITHOUT ROWID`;

function hasTable(db: SqliteDatabase, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/** True when the file's migrations table is the single-numbering one (no `plugin` column). */
function isLegacyTable(db: SqliteDatabase): boolean {
  const columns = db.prepare('PRAGMA table_info(_scribe_migrations)').all() as Array<{ name: string }>;
  return columns.length > 0 && !columns.some((c) => c.name === 'plugin');
}

/** The migrations recorded in the file, by namespace and version (empty for a new file). Reads either table shape. */
export function appliedMigrations(db: SqliteDatabase): AppliedMigration[] {
  if (!hasTable(db, '_scribe_migrations')) return [];
  if (isLegacyTable(db)) {
    const rows = db.prepare('SELECT version, name FROM _scribe_migrations ORDER BY version').all() as Array<{ version: number; name: string }>;
    return rows.map((r) => ({ ...legacyMigrationId(r.version), name: r.name }));
  }
  return db.prepare('SELECT plugin, version, name FROM _scribe_migrations ORDER BY plugin, version').all() as AppliedMigration[];
}

/**
 * The migration of the migrations table: a file made before namespaces records one
 * number per step; this re-keys each row to (namespace, version) by the ranges of
 * that time, in one transaction. Nothing else in the file changes. Returns true when
 * it upgraded the table.
 */
export function upgradeMigrationsTable(db: SqliteDatabase): boolean {
  if (!hasTable(db, '_scribe_migrations') || !isLegacyTable(db)) return false;
  db.exec('BEGIN IMMEDIATE');
  try {
    if (isLegacyTable(db)) {
      const rows = db.prepare('SELECT version, name, applied_at FROM _scribe_migrations').all() as Array<{
        version: number;
        name: string;
        applied_at: string;
      }>;
      db.exec('DROP TABLE _scribe_migrations');
      db.exec(MIGRATIONS_TABLE);
      const insert = db.prepare('INSERT INTO _scribe_migrations (plugin, version, name, applied_at) VALUES (?, ?, ?, ?)');
      for (const r of rows) {
        const id = legacyMigrationId(r.version);
        insert.run(id.plugin, id.version, r.name, r.applied_at);
      }
    }
    db.exec('COMMIT');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw new Error('migrate: upgrade the migrations table to per-plugin identities', { cause: e });
  }
  return true;
}

/**
 * Upgrades the migrations table if needed, then applies the pending migrations in
 * order, each in its own transaction with its record. Returns the ones applied.
 */
export function applyMigrations(db: SqliteDatabase, migrations: readonly OrderedMigration[], now: () => string): MigrationId[] {
  upgradeMigrationsTable(db);
  db.exec(MIGRATIONS_TABLE);
  const applied = appliedMigrations(db);
  checkNotNewer(applied, migrations);
  const pending = missingMigrations(applied, migrations);
  checkMigrationsRunOn(pending, 'sqlite');
  const done: MigrationId[] = [];
  for (const m of pending) {
    const step = migrationStep(m.migration, 'sqlite')!;
    db.exec('BEGIN IMMEDIATE');
    try {
      if (typeof step === 'string') db.exec(step);
      else step(db);
      db.prepare('INSERT INTO _scribe_migrations (plugin, version, name, applied_at) VALUES (?, ?, ?, ?)').run(
        m.plugin,
        m.version,
        m.migration.name,
        now(),
      );
      db.exec('COMMIT');
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw new Error(`migrate: apply ${migrationLabel(m)} (${m.migration.name})`, { cause: e });
    }
    done.push({ plugin: m.plugin, version: m.version });
  }
  return done;
}
