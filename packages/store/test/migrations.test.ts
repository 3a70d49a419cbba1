import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { WriteError } from '@scribe/protocol';
import {
  BUILTIN_MIGRATIONS,
  SCHEMA_VERSION,
  Store,
  createDefaultRegistry,
  createQuerier,
  defineWrite,
  directWriteFn,
  migrationStep,
  type Migration,
} from '@scribe/store';
import { openStore, rejection, tempDir } from './helpers.js';

function tables(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
  } finally {
    db.close();
  }
}

function recordVersion(file: string, version: number, plugin = 'scribe'): void {
  const db = new Database(file);
  try {
    db.prepare("INSERT INTO _scribe_migrations (plugin, version, name, applied_at) VALUES (?, ?, 'from newer code', '2030-01-01T00:00:00.000Z')").run(plugin, version);
  } finally {
    db.close();
  }
}

function openError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected Store.open to throw');
}

const NOTES: Migration = { version: 1000, name: 'notes', up: 'CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)' };

describe('built-in migrations', () => {
  it('bring a fresh file to SCHEMA_VERSION with every agent table and record each step', async () => {
    const file = path.join(tempDir(), 'fresh.db');
    const store = openStore({ path: file, clock: () => new Date('2025-05-05T00:00:00.000Z') });
    expect(SCHEMA_VERSION).toBe(Math.max(...BUILTIN_MIGRATIONS.map((m) => m.version)));
    expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
    expect(store.query('SELECT version, applied_at FROM _scribe_migrations ORDER BY version')).toEqual(
      BUILTIN_MIGRATIONS.map((m) => ({ version: m.version, applied_at: '2025-05-05T00:00:00.000Z' })),
    );
    expect(tables(file)).toEqual(
      expect.arrayContaining(['projects', 'sessions', 'messages', 'files', 'skill_library', 'prompt_templates', 'session_scores', '_scribe_requests', '_scribe_changes']),
    );
  });

  it('apply nothing on a second open, and migrate() applies nothing again', async () => {
    const file = path.join(tempDir(), 'twice.db');
    const first = Store.open({ path: file });
    expect(first.migrate()).toEqual({ applied: [] });
    first.close();
    const second = openStore({ path: file });
    expect(second.migrate()).toEqual({ applied: [] });
    expect(second.schemaVersion()).toBe(SCHEMA_VERSION);
  });

  it('are skipped with autoMigrate: false until migrate() is called', async () => {
    const file = path.join(tempDir(), 'manual.db');
    const store = openStore({ path: file, autoMigrate: false });
    expect(store.schemaVersion()).toBe(0);
    expect(store.migrate()).toEqual({ applied: BUILTIN_MIGRATIONS.map((m) => ({ plugin: 'scribe', version: m.version })) });
  });
});

describe('application migrations', () => {
  it('work end to end with an application write registered in the same registry', async () => {
    const file = path.join(tempDir(), 'app.db');
    const registry = createDefaultRegistry().register(
      defineWrite({
        name: 'AddNote',
        description: 'Adds a note. Returns its id.',
        schema: z.strictObject({ body: z.string().min(1) }),
        async handler(ctx, p): Promise<{ id: number }> {
          const row = await ctx.tx.get<{ id: number }>('INSERT INTO notes (body) VALUES (?) RETURNING id', [p.body]);
          const id = Number(row!.id);
          ctx.change('notes', String(id), 'created');
          return { id };
        },
      }),
    );
    const store = openStore({ path: file, registry, migrations: [NOTES] });
    expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
    expect(store.schemaVersions().get('application')).toBe(1000);
    const q = createQuerier({ store, write: directWriteFn(store) });
    expect(await q.write('AddNote', { body: 'hello' })).toEqual({ id: 1 });
    expect(await q.query('SELECT * FROM notes')).toEqual([{ id: 1, body: 'hello' }]);
    expect(store.changesSince(0)).toEqual([expect.objectContaining({ entity: 'notes', key: '1', op: 'created' })]);
    expect(await rejection(q.write('AddNote', { body: '' }))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.body', method: 'AddNote' });
  });

  it('are applied in version order after the built-in ones, one at a time, including function migrations', async () => {
    const file = path.join(tempDir(), 'order.db');
    const seen: number[] = [];
    const store = openStore({
      path: file,
      migrations: [
        { version: 1002, name: 'second', up: (db) => void (seen.push(1002), db.exec('ALTER TABLE notes ADD COLUMN tag TEXT')) },
        { version: 1000, name: 'first', up: (db) => void (seen.push(1000), db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY)')) },
      ],
    });
    expect(seen).toEqual([1000, 1002]);
    expect(store.query('SELECT version FROM _scribe_migrations WHERE version >= 1000 ORDER BY version')).toEqual([{ version: 1000 }, { version: 1002 }]);
  });

  it('refuse a version below 1000 (or a duplicate) with a TypeError before creating the file', async () => {
    const file = path.join(tempDir(), 'low.db');
    expect(() => Store.open({ path: file, migrations: [{ version: 999, name: 'too low', up: 'SELECT 1' }] })).toThrow(TypeError);
    expect(() => Store.open({ path: file, migrations: [{ version: 3, name: 'builtin range', up: 'SELECT 1' }] })).toThrow(/1000 or more/);
    expect(() => Store.open({ path: file, migrations: [{ version: 1000.5, name: 'fraction', up: 'SELECT 1' }] })).toThrow(TypeError);
    expect(() => Store.open({ path: file, migrations: [NOTES, { ...NOTES, name: 'again' }] })).toThrow(/unique/);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('roll back a failing migration whole: no partial schema, no record, and a later open retries it', async () => {
    const file = path.join(tempDir(), 'fail.db');
    const broken: Migration = {
      version: 1000,
      name: 'half',
      up: 'CREATE TABLE half_a (id INTEGER PRIMARY KEY); CREATE TABLE half_b (id INTEGER PRIMARY KEY, broken SYNTAX HERE (;',
    };
    const err = openError(() => Store.open({ path: file, migrations: [broken] }));
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/1000/);
    expect((err as Error).cause).toBeDefined();
    expect(tables(file)).not.toContain('half_a');
    // The built-in steps before it committed on their own.
    const store = openStore({ path: file, migrations: [{ ...broken, up: 'CREATE TABLE half_a (id INTEGER PRIMARY KEY)' }] });
    expect(store.schemaVersions().get('application')).toBe(1000);
    expect(tables(file)).toContain('half_a');
  });

  it('roll back a function migration that throws after changing the schema', async () => {
    const file = path.join(tempDir(), 'fail-fn.db');
    const err = openError(() =>
      Store.open({
        path: file,
        migrations: [
          {
            version: 1000,
            name: 'throws',
            up: (db) => {
              db.exec('CREATE TABLE partial (id INTEGER PRIMARY KEY)');
              throw new Error('data fix failed');
            },
          },
        ],
      }),
    );
    expect(((err as Error).cause as Error).message).toBe('data fix failed');
    expect(tables(file)).not.toContain('partial');
    const store = openStore({ path: file });
    expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
  });
});

describe('a file migrated by newer code', () => {
  it('is refused with SCHEMA_MISMATCH when it records a built-in version this code does not know (read-write and read-only)', async () => {
    const file = path.join(tempDir(), 'newer.db');
    Store.open({ path: file }).close();
    recordVersion(file, SCHEMA_VERSION + 1);
    for (const readonly of [false, true]) {
      const err = openError(() => Store.open({ path: file, readonly }));
      expect(err).toBeInstanceOf(WriteError);
      expect(err).toMatchObject({ code: 'SCHEMA_MISMATCH' });
    }
    // Read-write open refused before migrating anything: no application table appeared.
    expect(openError(() => Store.open({ path: file, migrations: [NOTES] }))).toMatchObject({ code: 'SCHEMA_MISMATCH' });
    expect(tables(file)).not.toContain('notes');
  });

  it('is refused with SCHEMA_MISMATCH when it records an application version newer than the application migrations given', async () => {
    const file = path.join(tempDir(), 'newer-app.db');
    Store.open({ path: file, migrations: [NOTES] }).close();
    recordVersion(file, 1001, 'application');
    expect(openError(() => Store.open({ path: file, migrations: [NOTES] }))).toMatchObject({ code: 'SCHEMA_MISMATCH' });
    expect(openError(() => Store.open({ path: file, migrations: [NOTES], readonly: true }))).toMatchObject({ code: 'SCHEMA_MISMATCH' });
    // A generic opener that knows no application migrations (the CLI, a probe) may still open it.
    const generic = openStore({ path: file, readonly: true });
    expect(generic.schemaVersions().get('application')).toBe(1001);
  });
});

describe('plugin migrations (one namespace per plugin)', () => {
  const shadowish = { name: '@acme/sessions', migrations: [{ version: 1, name: 'sessions', up: 'CREATE TABLE acme_sessions (id TEXT PRIMARY KEY)' }] };
  const other = {
    name: 'other',
    migrations: [
      { version: 2, name: 'second', up: 'ALTER TABLE other_t ADD COLUMN b TEXT' },
      { version: 1, name: 'first', up: 'CREATE TABLE other_t (a TEXT)' },
    ],
  };

  it('record (plugin, version) and let two plugins use the same numbers; applied after scribe, in the order given, each by version', async () => {
    const file = path.join(tempDir(), 'plugins.db');
    const store = Store.open({ path: file, autoMigrate: false, plugins: [shadowish, other], migrations: [NOTES] });
    expect(store.migrate().applied).toEqual([
      ...BUILTIN_MIGRATIONS.map((m) => ({ plugin: 'scribe', version: m.version })),
      { plugin: '@acme/sessions', version: 1 },
      { plugin: 'other', version: 1 },
      { plugin: 'other', version: 2 },
      { plugin: 'application', version: 1000 },
    ]);
    expect(Object.fromEntries(store.schemaVersions())).toEqual({ scribe: SCHEMA_VERSION, '@acme/sessions': 1, other: 2, application: 1000 });
    expect(store.migrate().applied).toEqual([]);
    store.close();
  });

  it('let a process that knows a subset of the plugins open the file, and refuse one whose plugin is older than the file', async () => {
    const file = path.join(tempDir(), 'subset.db');
    Store.open({ path: file, plugins: [shadowish, other] }).close();
    const subset = openStore({ path: file, plugins: [shadowish] });
    expect(subset.migrate().applied).toEqual([]);
    subset.close();
    const older = { name: 'other', migrations: [other.migrations[1]!] };
    for (const readonly of [false, true]) {
      const err = openError(() => Store.open({ path: file, readonly, plugins: [older] }));
      expect(err).toBeInstanceOf(WriteError);
      expect((err as WriteError).code).toBe('SCHEMA_MISMATCH');
      expect((err as WriteError).message).toMatch(/the database has other schema version 2 but this code knows other versions up to 1; upgrade plugin 'other'/);
    }
  });

  it('refuse a version below 1, a duplicate within a plugin, the name scribe, and a namespace given twice', async () => {
    const file = path.join(tempDir(), 'bad.db');
    expect(() => Store.open({ path: file, plugins: [{ name: 'p', migrations: [{ version: 0, name: 'zero', up: '' }] }] })).toThrow(/integer version from 1 and up, got 0/);
    expect(() => Store.open({ path: file, plugins: [{ name: 'p', migrations: [other.migrations[1]!, other.migrations[1]!] }] })).toThrow(
      /unique within 'p', got 1 twice/,
    );
    expect(() => Store.open({ path: file, plugins: [{ name: 'scribe', migrations: [] }] })).toThrow(/namespaces to be unique, got 'scribe' twice/);
    expect(() => Store.open({ path: file, plugins: [shadowish, shadowish] })).toThrow(/'@acme\/sessions' twice/);
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe('the migration of the migrations table (files made before namespaces)', () => {
  /** A file in the single numbering: the built-ins as 1, 2, an application step 1000 and shadow's 1100. */
  function legacyFile(): string {
    const file = path.join(tempDir(), 'legacy.db');
    const db = new Database(file);
    db.exec('CREATE TABLE _scribe_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    for (const m of BUILTIN_MIGRATIONS) {
      db.exec(migrationStep(m, 'sqlite') as string);
      db.prepare('INSERT INTO _scribe_migrations VALUES (?, ?, ?)').run(m.version, m.name, '2026-01-01T00:00:00.000Z');
    }
    db.exec(NOTES.up as string);
    db.prepare('INSERT INTO _scribe_migrations VALUES (1000, ?, ?)').run(NOTES.name, '2026-01-02T00:00:00.000Z');
    db.exec('CREATE TABLE _shadow_sessions (session_id TEXT PRIMARY KEY)');
    db.prepare("INSERT INTO _scribe_migrations VALUES (1100, 'shadow: open-session registry', '2026-01-03T00:00:00.000Z')").run();
    db.close();
    return file;
  }

  it('is read in either shape: a read-only opener sees the legacy rows by namespace without changing the file', async () => {
    const file = legacyFile();
    const reader = openStore({ path: file, readonly: true });
    expect(reader.appliedMigrations()).toEqual([
      ...BUILTIN_MIGRATIONS.map((m) => ({ plugin: 'scribe', version: m.version, name: m.name })),
      { plugin: 'application', version: 1000, name: 'notes' },
      { plugin: '@scribe/shadow', version: 1, name: 'shadow: open-session registry' },
    ]);
    expect(reader.schemaVersion()).toBe(SCHEMA_VERSION);
    reader.close();
    const db = new Database(file, { readonly: true });
    expect((db.prepare('PRAGMA table_info(_scribe_migrations)').all() as Array<{ name: string }>).map((c) => c.name)).toEqual(['version', 'name', 'applied_at']);
    db.close();
  });

  it('re-keys every row once on the first read-write open, keeping names and times, and re-runs nothing', async () => {
    const file = legacyFile();
    const shadow = { name: '@scribe/shadow', migrations: [{ version: 1, name: 'shadow: open-session registry', up: 'CREATE TABLE _shadow_sessions (x)' }] };
    // Had any step run again, its CREATE TABLE would fail on the existing table.
    const store = openStore({ path: file, plugins: [shadow], migrations: [NOTES] });
    expect(store.query('SELECT plugin, version, name, applied_at FROM _scribe_migrations ORDER BY applied_at, version')).toEqual([
      ...BUILTIN_MIGRATIONS.map((m) => ({ plugin: 'scribe', version: m.version, name: m.name, applied_at: '2026-01-01T00:00:00.000Z' })),
      { plugin: 'application', version: 1000, name: 'notes', applied_at: '2026-01-02T00:00:00.000Z' },
      { plugin: '@scribe/shadow', version: 1, name: 'shadow: open-session registry', applied_at: '2026-01-03T00:00:00.000Z' },
    ]);
    expect(store.migrate().applied).toEqual([]);
  });
});

describe('migrations per engine', () => {
  it('runs the sqlite step of a { sqlite, postgres } migration, string or function, and never the postgres one', () => {
    const file = path.join(tempDir(), 'dialects.db');
    const store = openStore({
      path: file,
      migrations: [
        { version: 1000, name: 'both as text', up: { sqlite: 'CREATE TABLE a (id INTEGER PRIMARY KEY)', postgres: 'this is not SQLite SQL' } },
        {
          version: 1001,
          name: 'both as functions',
          up: {
            sqlite: (db) => void db.exec('CREATE TABLE b (id INTEGER PRIMARY KEY)'),
            postgres: async () => {
              throw new Error('the postgres step ran on SQLite');
            },
          },
        },
      ],
    });
    store.close();
    expect(tables(file)).toEqual(expect.arrayContaining(['a', 'b']));
  });

  it('refuses, before applying anything, a pending migration that has no SQLite step', () => {
    const file = path.join(tempDir(), 'pg-only.db');
    expect(() =>
      Store.open({
        path: file,
        migrations: [
          { version: 1000, name: 'fine', up: 'CREATE TABLE fine (id INTEGER PRIMARY KEY)' },
          { version: 1001, name: 'pg only', up: { postgres: 'CREATE TABLE p (id BIGINT)' } },
        ],
      }),
    ).toThrow(/application@1001 \(pg only\) has none; give it `up: \{ sqlite: …, postgres: … \}`/);
    expect(tables(file)).not.toContain('fine');
  });

  it('refuses an up that is neither SQL, a function nor { sqlite, postgres } of those', () => {
    const bad = (up: unknown): (() => unknown) => () =>
      Store.open({ path: path.join(tempDir(), 'bad.db'), migrations: [{ version: 1000, name: 'bad', up } as Migration] });
    expect(bad({})).toThrow(/an 'up' of SQL text, a function, or \{ sqlite, postgres \}/);
    expect(bad({ sqlite: 1 })).toThrow(/an 'up' of SQL text/);
    expect(bad(42)).toThrow(/an 'up' of SQL text/);
  });

  it('gives every built-in migration a step for both engines; a plain string is SQLite only', () => {
    for (const m of BUILTIN_MIGRATIONS) {
      expect(typeof migrationStep(m, 'sqlite')).toBe('string');
      expect(typeof migrationStep(m, 'postgres')).toBe('string');
    }
    const plain: Migration = { version: 1, name: 'plain', up: 'CREATE TABLE x (id INTEGER)' };
    expect(migrationStep(plain, 'sqlite')).toBe('CREATE TABLE x (id INTEGER)');
    expect(migrationStep(plain, 'postgres')).toBeUndefined();
  });
});
