import { describe, expect, it } from 'vitest';
import { RETRYABLE } from '@scribe/protocol';
import { mapDriverError, sqliteCode } from '@scribe/store';

/** Every code the store maps, as a bare object like a driver error, and the code it must become. */
const CASES = [
  ['SQLITE_CONSTRAINT_PRIMARYKEY', 'CONFLICT'],
  ['SQLITE_CONSTRAINT_UNIQUE', 'CONFLICT'],
  ['SQLITE_CONSTRAINT_FOREIGNKEY', 'CONFLICT'],
  ['SQLITE_CONSTRAINT_NOTNULL', 'INVALID_PARAMS'],
  ['SQLITE_CONSTRAINT_CHECK', 'CONFLICT'],
  ['SQLITE_CONSTRAINT_TRIGGER', 'CONFLICT'],
  ['SQLITE_CONSTRAINT', 'CONFLICT'],
  ['SQLITE_BUSY', 'BUSY'],
  ['SQLITE_BUSY_SNAPSHOT', 'BUSY'],
  ['SQLITE_LOCKED', 'BUSY'],
  ['SQLITE_READONLY', 'NOT_PRIMARY'],
  ['SQLITE_READONLY_DBMOVED', 'DATABASE_GONE'],
  ['SQLITE_MISMATCH', 'INVALID_PARAMS'],
  ['SQLITE_TOOBIG', 'INVALID_PARAMS'],
  ['SQLITE_RANGE', 'INVALID_PARAMS'],
  ['SQLITE_ERROR', 'INVALID_PARAMS'],
  ['SQLITE_FULL', 'STORAGE_FULL'],
  ['SQLITE_IOERR', 'STORAGE_IO'],
  ['SQLITE_IOERR_FSYNC', 'STORAGE_IO'],
  ['SQLITE_CORRUPT', 'INTERNAL'],
  ['SQLITE_NOTADB', 'INTERNAL'],
  ['SQLITE_CANTOPEN', 'INTERNAL'],
  ['SQLITE_PERM', 'INTERNAL'],
] as const;

describe('mapDriverError on a bare { code } object', () => {
  it.each(CASES)('%s → %s, retryable as the code says, no SQLite name or path in the message', (sqlite, code) => {
    const fake = { code: sqlite, message: `${sqlite}: failed at /var/db/app.db` };
    expect(sqliteCode(fake)).toBe(sqlite);
    const mapped = mapDriverError(fake, 'CreateThing');
    expect(mapped).toMatchObject({ code, method: 'CreateThing', retryable: RETRYABLE[code] });
    expect(mapped.message).not.toMatch(/SQLITE/i);
    expect(mapped.message).not.toContain('/var/db');
    expect(mapped.cause).toBe(fake);
  });

  it('maps { code: "SQLITE_BUSY" } without a method to a retryable BUSY about no write', () => {
    expect(mapDriverError({ code: 'SQLITE_BUSY' }, null)).toMatchObject({ code: 'BUSY', method: null, retryable: true });
  });

  it('ignores codes that are not SQLite result codes', () => {
    expect(sqliteCode({ code: 'ENOENT' })).toBeUndefined();
    expect(sqliteCode({ code: 5 })).toBeUndefined();
    expect(sqliteCode(null)).toBeUndefined();
    expect(mapDriverError({ code: 'ENOENT' }, 'X')).toMatchObject({ code: 'INTERNAL' });
    // A code that merely starts like a known one is not taken for it.
    expect(mapDriverError({ code: 'SQLITE_BUSYNESS' }, 'X')).toMatchObject({ code: 'INTERNAL' });
  });
});
