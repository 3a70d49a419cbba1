import {
  checkMigrationsRunOn,
  checkNotNewer,
  migrationLabel,
  migrationStep,
  missingMigrations,
  type AppliedMigration,
  type MigrationId,
  type OrderedMigration,
  type SqlReader,
} from '@scribe/store';
import type pg from 'pg';
import type { Logger } from 'pino';
import { PgSqlTx } from './pg-sql-tx.js';

/**
 * Migrations on PostgreSQL: the same identities (namespace + version) in the same
 * `_scribe_migrations` table as on SQLite, the same ordering and checks (the pure
 * functions of `@scribe/store`'s migrations.ts: one definition), applied once by
 * whichever process comes first. Processes serialise on a session-level advisory
 * lock ({@link MIGRATION_LOCK_KEY}, per database): the first applies what is pending,
 * each migration in its own transaction with its record; the others wait for the
 * lock, then find everything applied. A database that records a namespace's version
 * newer than this code knows is refused with SCHEMA_MISMATCH, as on SQLite, before
 * anything is applied; so is a pending migration with no PostgreSQL step.
 */

/** The advisory lock key migrations run under (`pg_advisory_lock`; "scribemg" in ASCII). */
export const MIGRATION_LOCK_KEY = 0x73_63_72_69_62_65_6d_67n;

/** The migrations table, as on SQLite (there `WITHOUT ROWID`). */
const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS _scribe_migrations (
  plugin TEXT COLLATE "C" NOT NULL,
  version INTEGER NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  applied_at TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (plugin, version)
)`;

/** Options of {@link applyPgMigrations}. */
export interface PgMigrateOptions {
  /** The `applied_at` of each record (RFC 3339; default the system clock). */
  readonly now?: () => string;
  /** Where the runner says what it applied and when it waits for another process. */
  readonly logger?: Logger;
  /**
   * How long to wait for another process's migration run (the advisory lock) before
   * failing with `migrate: …`; default: as long as it takes (a long migration is not
   * an error). Set it where a hung migrator must not hang every process's start.
   */
  readonly lockTimeoutMs?: number;
}

/** The migrations recorded in the database, by namespace and version (empty for a new database). */
export async function pgAppliedMigrations(reader: SqlReader): Promise<AppliedMigration[]> {
  const table = await reader.get<{ t: string | null }>("SELECT to_regclass('_scribe_migrations')::text AS t");
  if (table?.t == null) return [];
  return reader.all<AppliedMigration>('SELECT plugin, version, name FROM _scribe_migrations ORDER BY plugin, version');
}

/**
 * Checks, without applying anything, that the database records no namespace version
 * newer than `migrations` know (SCHEMA_MISMATCH otherwise); what a process that does
 * not migrate (`autoMigrate: false`, a read-only probe) runs. Returns what is applied.
 */
export async function checkPgMigrations(reader: SqlReader, migrations: readonly OrderedMigration[]): Promise<AppliedMigration[]> {
  const applied = await pgAppliedMigrations(reader);
  checkNotNewer(applied, migrations);
  return applied;
}

/**
 * Applies the pending `migrations` (ordered by `orderMigrations`) once, under the
 * advisory lock, each in its own transaction with its record. Returns the ones this
 * call applied (empty when another process had applied them). Throws SCHEMA_MISMATCH
 * (a WriteError) when the database is newer than the code, a TypeError when a pending
 * migration has no PostgreSQL step, and `migrate: apply <label> (<name>)` with the
 * server's error as `cause` when a step fails (that migration is rolled back; the
 * ones before it stay applied, as on SQLite).
 */
export async function applyPgMigrations(
  pool: pg.Pool,
  migrations: readonly OrderedMigration[],
  options: PgMigrateOptions = {},
): Promise<MigrationId[]> {
  const now = options.now ?? (() => new Date().toISOString());
  const lockTimeoutMs = options.lockTimeoutMs;
  if (lockTimeoutMs !== undefined && (!Number.isInteger(lockTimeoutMs) || lockTimeoutMs < 1)) {
    throw new TypeError(`Expected 'lockTimeoutMs' to be an integer from 1 and up, got ${String(lockTimeoutMs)} (${typeof lockTimeoutMs})`);
  }
  const log = options.logger?.child({ component: 'pg-migrations' });
  const client = await pool.connect();
  // After any failure the connection is discarded, not returned to the pool: its
  // session (and the advisory lock, if the unlock did not get through) ends with it.
  let failed = false;
  try {
    const got = await client.query<{ ok: number }>('SELECT pg_try_advisory_lock($1) AS ok', [MIGRATION_LOCK_KEY.toString()]);
    if (got.rows[0]?.ok !== 1) {
      log?.info({ lockTimeoutMs }, 'migrations: another process is migrating this database; waiting for it');
      if (lockTimeoutMs !== undefined) await client.query(`SET lock_timeout = ${lockTimeoutMs}`);
      try {
        await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
      } catch (e) {
        if ((e as { code?: unknown }).code === '55P03') {
          throw new Error(`migrate: another process held the migration lock for more than ${lockTimeoutMs} ms (lockTimeoutMs)`, { cause: e });
        }
        throw e;
      }
      if (lockTimeoutMs !== undefined) await client.query('RESET lock_timeout');
    }
    try {
      await client.query(MIGRATIONS_TABLE);
      const tx = new PgSqlTx(client);
      const applied = await pgAppliedMigrations(tx);
      checkNotNewer(applied, migrations);
      const pending = missingMigrations(applied, migrations);
      checkMigrationsRunOn(pending, 'postgres');
      const done: MigrationId[] = [];
      for (const m of pending) {
        const step = migrationStep(m.migration, 'postgres')!;
        await client.query('BEGIN');
        try {
          if (typeof step === 'string') await client.query(step);
          else await step(tx);
          await tx.run('INSERT INTO _scribe_migrations (plugin, version, name, applied_at) VALUES (?, ?, ?, ?)', [m.plugin, m.version, m.migration.name, now()]);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new Error(`migrate: apply ${migrationLabel(m)} (${m.migration.name})`, { cause: e });
        }
        done.push({ plugin: m.plugin, version: m.version });
      }
      if (done.length > 0) log?.info({ applied: done.map(migrationLabel) }, 'migrations applied');
      return done;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]).catch(() => {
        failed = true;
      });
    }
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    client.release(failed);
  }
}
