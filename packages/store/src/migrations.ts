import { WriteError } from '@scribe/protocol';
import type { SqlDialect, SqlTx } from './sql-tx.js';
import type { SqliteDatabase } from './sqlite-database.js';

/*
 * Migrations, engine-neutral: what a migration is, its identity (namespace + version),
 * the order they run in, and the checks every runner makes (newer than the code, a
 * step for the engine). Pure: the SQLite runner is sqlite-migrations.ts, the
 * PostgreSQL one is @scribe/postgres's pg-migrations.ts; both use these.
 */

/** A migration's step on SQLite: SQL (several statements allowed) or a function run inside its transaction. */
export type SqliteMigrationStep = string | ((db: SqliteDatabase) => void);

/** A migration's step on PostgreSQL: SQL (several statements allowed) or a function run inside its transaction. */
export type PostgresMigrationStep = string | ((tx: SqlTx) => Promise<void>);

/**
 * A migration's steps per engine. A migration that runs on both gives both; one that
 * gives only one is refused, with a message naming it, on a database of the other
 * engine (before anything is applied).
 */
export interface MigrationSteps {
  readonly sqlite?: SqliteMigrationStep;
  readonly postgres?: PostgresMigrationStep;
}

/**
 * One schema step of one namespace (scribe's own, a plugin's, or the application's).
 * Versions are positive integers, unique within their namespace; two namespaces may
 * use the same numbers.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /**
   * What the migration does: SQL text or a function (SQLite only, as before engines
   * were plural), or `{ sqlite, postgres }` with each engine's SQL text or function.
   * Table and column names are the same on both; the SQL differs only where the
   * engines do (`INTEGER PRIMARY KEY AUTOINCREMENT` vs `GENERATED ALWAYS AS
   * IDENTITY`, `REAL` vs `DOUBLE PRECISION`, `WITHOUT ROWID`, triggers).
   */
  readonly up: SqliteMigrationStep | MigrationSteps;
}

const isStep = (value: unknown): boolean => typeof value === 'string' || typeof value === 'function';

/** The step of `migration` for `dialect`, or undefined when it has none for that engine. */
export function migrationStep(migration: Migration, dialect: 'sqlite'): SqliteMigrationStep | undefined;
export function migrationStep(migration: Migration, dialect: 'postgres'): PostgresMigrationStep | undefined;
export function migrationStep(migration: Migration, dialect: SqlDialect): SqliteMigrationStep | PostgresMigrationStep | undefined;
export function migrationStep(migration: Migration, dialect: SqlDialect): SqliteMigrationStep | PostgresMigrationStep | undefined {
  const up = migration.up;
  if (typeof up === 'string' || typeof up === 'function') return dialect === 'sqlite' ? up : undefined;
  return up[dialect];
}

/**
 * Refuses, before anything is applied, migrations that have no step for `dialect`
 * (a plain SQL string is SQLite's): the message names each and says what to add.
 */
export function checkMigrationsRunOn(migrations: readonly OrderedMigration[], dialect: SqlDialect): void {
  const lacking = migrations.filter((m) => migrationStep(m.migration, dialect) === undefined);
  if (lacking.length === 0) return;
  const engine = dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  throw new TypeError(
    `Expected every pending migration to have a step for ${engine}, but ${lacking.map((m) => `${migrationLabel(m)} (${m.migration.name})`).join(', ')} ${lacking.length === 1 ? 'has' : 'have'} none; ` +
      `give ${lacking.length === 1 ? 'it' : 'each'} \`up: { sqlite: …, postgres: … }\` (a plain SQL string or function is SQLite's)`,
  );
}

/** The migrations of one namespace: a plugin's name and its steps. A {@link ScribePlugin} is one. */
export interface MigrationSet {
  /** The namespace: the plugin's name (`scribe` for the built-in steps, `application` for the `migrations` option). */
  readonly name: string;
  readonly migrations?: readonly Migration[];
}

/** A migration's identity in the file: its namespace and its version there. */
export interface MigrationId {
  readonly plugin: string;
  readonly version: number;
}

/** A migration recorded in the file. */
export interface AppliedMigration extends MigrationId {
  readonly name: string;
}

/** The namespace of scribe's built-in migrations. No plugin may take this name. */
export const BUILTIN_NAMESPACE = 'scribe';
/** The namespace of the plain `migrations` option of Store.open and openNode. */
export const APPLICATION_NAMESPACE = 'application';
/** The first version the `migrations` option takes (versions below were scribe's before namespaces existed). */
export const FIRST_APPLICATION_MIGRATION = 1000;

/**
 * Before namespaces, every migration shared one numbering: scribe 1–999, applications
 * 1000 and up, and the agent-storage packages took documented ranges. Files made
 * then are re-keyed once, by these ranges, to (namespace, version within it).
 */
const LEGACY_RANGES: ReadonlyArray<{ from: number; to: number; plugin: string }> = [
  { from: 1100, to: 1199, plugin: '@scribe/shadow' },
  { from: 1200, to: 1299, plugin: '@scribe/segments' },
  { from: 1300, to: 1399, plugin: '@scribe/datastores' },
];

/** The (namespace, version) a row of the single-numbering table stands for. */
export function legacyMigrationId(version: number): MigrationId {
  if (version < FIRST_APPLICATION_MIGRATION) return { plugin: BUILTIN_NAMESPACE, version };
  const range = LEGACY_RANGES.find((r) => version >= r.from && version <= r.to);
  return range === undefined ? { plugin: APPLICATION_NAMESPACE, version } : { plugin: range.plugin, version: version - range.from + 1 };
}

/** `@scribe/shadow@1`: how messages and logs name a migration. */
export function migrationLabel(id: MigrationId): string {
  return `${id.plugin}@${id.version}`;
}

/** A migration with its namespace, in the order it is applied. */
export interface OrderedMigration extends MigrationId {
  readonly migration: Migration;
}

/**
 * Checks the namespaces and returns their migrations in the order they are applied:
 * the namespaces in the order given, each one's steps by version. Versions must be
 * positive integers, unique within their namespace; a namespace may appear once.
 */
export function orderMigrations(sets: readonly MigrationSet[]): OrderedMigration[] {
  const names = new Set<string>();
  const out: OrderedMigration[] = [];
  for (const set of sets) {
    if (names.has(set.name)) throw new TypeError(`Expected migration namespaces to be unique, got '${set.name}' twice`);
    names.add(set.name);
    const versions = new Set<number>();
    for (const m of set.migrations ?? []) {
      if (!Number.isInteger(m?.version) || m.version < 1) {
        throw new TypeError(`Expected migration '${String(m?.name)}' of '${set.name}' to have an integer version from 1 and up, got ${String(m?.version)}`);
      }
      const up: unknown = m.up;
      const steps = typeof up === 'object' && up !== null ? (up as Record<string, unknown>) : undefined;
      const validSteps =
        steps !== undefined &&
        (steps['sqlite'] !== undefined || steps['postgres'] !== undefined) &&
        (steps['sqlite'] === undefined || isStep(steps['sqlite'])) &&
        (steps['postgres'] === undefined || isStep(steps['postgres']));
      if (!isStep(up) && !validSteps) {
        throw new TypeError(
          `Expected migration ${migrationLabel({ plugin: set.name, version: m.version })} to have an 'up' of SQL text, a function, or { sqlite, postgres } of those`,
        );
      }
      if (versions.has(m.version)) {
        throw new TypeError(`Expected migration versions to be unique within '${set.name}', got ${m.version} twice`);
      }
      versions.add(m.version);
    }
    const sorted = [...(set.migrations ?? [])].sort((a, b) => a.version - b.version);
    for (const m of sorted) out.push({ plugin: set.name, version: m.version, migration: m });
  }
  return out;
}

/** Checks the `migrations` option (the application namespace): versions 1000 and up. */
export function checkApplicationMigrations(application: readonly Migration[]): void {
  for (const m of application) {
    if (!Number.isInteger(m?.version) || m.version < FIRST_APPLICATION_MIGRATION) {
      throw new TypeError(
        `Expected application migration '${String(m?.name)}' to have an integer version of ${FIRST_APPLICATION_MIGRATION} or more, got ${String(m?.version)} (a plugin's migrations go in the plugin, numbered from 1)`,
      );
    }
  }
}

/** The highest version recorded per namespace. */
export function versionsByNamespace(applied: readonly MigrationId[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of applied) out.set(a.plugin, Math.max(out.get(a.plugin) ?? 0, a.version));
  return out;
}

/**
 * Refuses a file that records a version newer than this code knows, namespace by
 * namespace, for the namespaces this code has migrations in: the file was migrated by
 * newer code, and writing to it could break what that code relies on. Namespaces this
 * code does not know (another process's plugins) are not its business, so a generic
 * tool (the `scribe` CLI, a status probe) or a process using a subset of the plugins
 * can still open the file.
 */
export function checkNotNewer(applied: readonly MigrationId[], known: readonly OrderedMigration[]): void {
  const newestKnown = versionsByNamespace(known);
  for (const [plugin, version] of versionsByNamespace(applied)) {
    const knows = newestKnown.get(plugin);
    if (knows === undefined || version <= knows) continue;
    const whose = plugin === BUILTIN_NAMESPACE ? 'scribe' : plugin === APPLICATION_NAMESPACE ? 'the application' : `plugin '${plugin}'`;
    throw new WriteError(
      'SCHEMA_MISMATCH',
      `the database has ${plugin} schema version ${version} but this code knows ${plugin} versions up to ${knows}; upgrade ${whose} before opening it`,
    );
  }
}

/** The known migrations the file does not record, in the order they would be applied. */
export function missingMigrations(applied: readonly MigrationId[], known: readonly OrderedMigration[]): OrderedMigration[] {
  const have = new Set(applied.map(migrationLabel));
  return known.filter((m) => !have.has(migrationLabel(m)));
}
