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

function recordVersion(file: string, version: number): void {
  const db = new Database(file);
  try {
    db.prepare("INSERT INTO _scribe_migrations (version, name, applied_at) VALUES (?, 'from newer code', '2030-01-01T00:00:00.000Z')").run(version);
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
  it('bring a fresh file to SCHEMA_VERSION with every agent table and record each step', () => {
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

  it('apply nothing on a second open, and migrate() applies nothing again', () => {
    const file = path.join(tempDir(), 'twice.db');
    const first = Store.open({ path: file });
    expect(first.migrate()).toEqual({ applied: [] });
    first.close();
    const second = openStore({ path: file });
    expect(second.migrate()).toEqual({ applied: [] });
    expect(second.schemaVersion()).toBe(SCHEMA_VERSION);
  });

  it('are skipped with autoMigrate: false until migrate() is called', () => {
    const file = path.join(tempDir(), 'manual.db');
    const store = openStore({ path: file, autoMigrate: false });
    expect(store.schemaVersion()).toBe(0);
    expect(store.migrate()).toEqual({ applied: BUILTIN_MIGRATIONS.map((m) => m.version) });
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
        handler(ctx, p): { id: number } {
          const info = ctx.db.prepare('INSERT INTO notes (body) VALUES (?)').run(p.body);
          const id = Number(info.lastInsertRowid);
          ctx.change('notes', String(id), 'created');
          return { id };
        },
      }),
    );
    const store = openStore({ path: file, registry, migrations: [NOTES] });
    expect(store.schemaVersion()).toBe(1000);
    const q = createQuerier({ store, write: directWriteFn(store) });
    expect(await q.write('AddNote', { body: 'hello' })).toEqual({ id: 1 });
    expect(await q.query('SELECT * FROM notes')).toEqual([{ id: 1, body: 'hello' }]);
    expect(store.changesSince(0)).toEqual([expect.objectContaining({ entity: 'notes', key: '1', op: 'created' })]);
    expect(await rejection(q.write('AddNote', { body: '' }))).toMatchObject({ code: 'INVALID_PARAMS', field: 'params.body', method: 'AddNote' });
  });

  it('are applied in version order after the built-in ones, one at a time, including function migrations', () => {
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

  it('refuse a version below 1000 (or a duplicate) with a TypeError before creating the file', () => {
    const file = path.join(tempDir(), 'low.db');
    expect(() => Store.open({ path: file, migrations: [{ version: 999, name: 'too low', up: 'SELECT 1' }] })).toThrow(TypeError);
    expect(() => Store.open({ path: file, migrations: [{ version: 3, name: 'builtin range', up: 'SELECT 1' }] })).toThrow(/1000 or more/);
    expect(() => Store.open({ path: file, migrations: [{ version: 1000.5, name: 'fraction', up: 'SELECT 1' }] })).toThrow(TypeError);
    expect(() => Store.open({ path: file, migrations: [NOTES, { ...NOTES, name: 'again' }] })).toThrow(/unique/);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('roll back a failing migration whole: no partial schema, no record, and a later open retries it', () => {
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
    expect(store.schemaVersion()).toBe(1000);
    expect(tables(file)).toContain('half_a');
  });

  it('roll back a function migration that throws after changing the schema', () => {
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
  it('is refused with SCHEMA_MISMATCH when it records a built-in version this code does not know (read-write and read-only)', () => {
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

  it('is refused with SCHEMA_MISMATCH when it records an application version newer than the application migrations given', () => {
    const file = path.join(tempDir(), 'newer-app.db');
    Store.open({ path: file, migrations: [NOTES] }).close();
    recordVersion(file, 1001);
    expect(openError(() => Store.open({ path: file, migrations: [NOTES] }))).toMatchObject({ code: 'SCHEMA_MISMATCH' });
    expect(openError(() => Store.open({ path: file, migrations: [NOTES], readonly: true }))).toMatchObject({ code: 'SCHEMA_MISMATCH' });
    // A generic opener that knows no application migrations (the CLI, a probe) may still open it.
    const generic = openStore({ path: file, readonly: true });
    expect(generic.schemaVersion()).toBe(1001);
  });
});
