import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WriteError } from '@scribe/protocol';
import { mapDriverError, sqliteCode } from '@scribe/store';
import { tempDir } from './helpers.js';

/** A real driver error: runs `sql` on a scratch database set up by `setup`, returns what better-sqlite3 threw. */
function driverError(setup: string, sql: string): unknown {
  const dir = tempDir();
  const db = new Database(path.join(dir, 'scratch.db'));
  try {
    db.pragma('foreign_keys = ON');
    db.exec(setup);
    db.exec(sql);
  } catch (e) {
    return e;
  } finally {
    db.close();
  }
  throw new Error(`expected ${sql} to fail`);
}

const SCHEMA = `
  CREATE TABLE parent (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, n INTEGER CHECK (n > 0));
  CREATE TABLE child (id TEXT PRIMARY KEY, parent_id TEXT NOT NULL REFERENCES parent (id));
  INSERT INTO parent (id, name, n) VALUES ('a', 'alpha', 1);
`;

describe('mapDriverError maps by the SQLite result code, never by message text', () => {
  it.each([
    ['a duplicate primary key', "INSERT INTO parent (id, name) VALUES ('a', 'other')", 'SQLITE_CONSTRAINT_PRIMARYKEY', 'CONFLICT', /already exists/],
    ['a duplicate unique value', "INSERT INTO parent (id, name) VALUES ('b', 'alpha')", 'SQLITE_CONSTRAINT_UNIQUE', 'CONFLICT', /already exists/],
    ['a missing referenced row', "INSERT INTO child (id, parent_id) VALUES ('c', 'nope')", 'SQLITE_CONSTRAINT_FOREIGNKEY', 'CONFLICT', /referenced row/],
    ['a broken check', "INSERT INTO parent (id, name, n) VALUES ('b', 'beta', 0)", 'SQLITE_CONSTRAINT_CHECK', 'CONFLICT', /check constraint/],
    ['a missing required value', "INSERT INTO parent (id, name) VALUES ('b', NULL)", 'SQLITE_CONSTRAINT_NOTNULL', 'INVALID_PARAMS', /required value/],
    ['SQL that does not fit the schema', 'INSERT INTO nowhere VALUES (1)', 'SQLITE_ERROR', 'INVALID_PARAMS', /not valid SQL/],
  ])('%s → %s', (_, sql, sqlite, code, message) => {
    const e = driverError(SCHEMA, sql);
    expect(sqliteCode(e)).toBe(sqlite);
    const mapped = mapDriverError(e, 'CreateThing');
    expect(mapped).toBeInstanceOf(WriteError);
    expect(mapped).toMatchObject({ code, method: 'CreateThing', retryable: false });
    expect(mapped.message).toMatch(/^CreateThing: /);
    expect(mapped.message).toMatch(message);
    expect(mapped.cause).toBe(e);
  });

  it('never puts the raw driver message or a file path into the mapped message', () => {
    const e = driverError(SCHEMA, "INSERT INTO parent (id, name) VALUES ('b', 'alpha')") as Error;
    const mapped = mapDriverError(e, 'CreateThing');
    expect(mapped.message).not.toContain(e.message);
    expect(mapped.message).not.toContain('parent.name');
    expect(mapped.message).not.toMatch(/\/|\\/);
  });

  it('a lock held by another connection → BUSY (retryable)', () => {
    const dir = tempDir();
    const file = path.join(dir, 'locked.db');
    const holder = new Database(file);
    const other = new Database(file, { timeout: 0 });
    try {
      holder.exec('CREATE TABLE t (x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)');
      let e: unknown;
      try {
        other.exec('BEGIN IMMEDIATE');
      } catch (err) {
        e = err;
      }
      expect(sqliteCode(e)).toBe('SQLITE_BUSY');
      expect(mapDriverError(e, null)).toMatchObject({ code: 'BUSY', retryable: true, method: null });
    } finally {
      holder.close();
      other.close();
    }
  });

  it('a write on a read-only connection → NOT_PRIMARY (retryable: send it to the primary)', () => {
    const dir = tempDir();
    const file = path.join(dir, 'ro.db');
    new Database(file).exec('CREATE TABLE t (x)');
    const ro = new Database(file, { readonly: true });
    let e: unknown;
    try {
      ro.exec('INSERT INTO t VALUES (1)');
    } catch (err) {
      e = err;
    } finally {
      ro.close();
    }
    expect(sqliteCode(e)).toBe('SQLITE_READONLY');
    expect(mapDriverError(e, 'Exec')).toMatchObject({ code: 'NOT_PRIMARY', retryable: true });
  });

  it('codes it does not list fall back by family, and errors without a code are INTERNAL', () => {
    const ioerr = Object.assign(new Error('disk I/O error at /secret/path'), { code: 'SQLITE_IOERR_WRITE' });
    expect(mapDriverError(ioerr, 'W')).toMatchObject({ code: 'STORAGE_IO', message: 'W: the disk reported an I/O error; nothing was applied' });
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    expect(mapDriverError(full, 'W').code).toBe('STORAGE_FULL');
    const odd = Object.assign(new Error('x'), { code: 'SQLITE_CONSTRAINT_SOMETHING_NEW' });
    expect(mapDriverError(odd, 'W').code).toBe('CONFLICT');
    const plain = new Error('boom at /home/me/db.sqlite');
    const mapped = mapDriverError(plain, 'W');
    expect(mapped).toMatchObject({ code: 'INTERNAL', message: 'W: the write failed inside the store' });
    expect(mapped.cause).toBe(plain);
  });

  it('passes a WriteError through, adding the method when it had none', () => {
    const e = new WriteError('NOT_FOUND', 'gone');
    expect(mapDriverError(e, 'UpdateThing')).toMatchObject({ code: 'NOT_FOUND', method: 'UpdateThing', message: 'gone' });
    const named = new WriteError('CONFLICT', 'taken', { method: 'A' });
    expect(mapDriverError(named, 'B')).toBe(named);
  });
});
