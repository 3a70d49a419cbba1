import { closeSync, fsyncSync, openSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { BUILTIN_NAMESPACE, versionsByNamespace } from './migrations.js';
import { appliedMigrations } from './sqlite-migrations.js';
import type { SqliteDatabase } from './sqlite-database.js';

/** What a database file holds, as `scribe backup` and `scribe restore` report it. */
export interface DatabaseFacts {
  /** The file. */
  readonly path: string;
  /** Its size in bytes (the main file only). */
  readonly bytes: number;
  /** `PRAGMA page_count`. */
  readonly pages: number;
  /** `PRAGMA page_size`. */
  readonly pageSize: number;
  /** scribe's own schema version recorded in the file; 0 when it has none (not a scribe database). */
  readonly schemaVersion: number;
  /** The highest version recorded per migration namespace (`scribe`, each plugin's name, `application`). */
  readonly versions: Readonly<Record<string, number>>;
  /** `ok`, or the problems `PRAGMA integrity_check` found (at most 10). */
  readonly integrity: 'ok' | string[];
}

/**
 * Reads a database's facts and checks its integrity (`PRAGMA integrity_check`) on a
 * read-only connection. Throws when the file is missing or is not a SQLite database.
 */
export function inspectDatabase(path: string): DatabaseFacts {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new Error(`inspect: open ${path} read-only`, { cause: e });
  }
  try {
    const versions = Object.fromEntries(versionsByNamespace(appliedMigrations(db as unknown as SqliteDatabase)));
    const problems = (db.pragma('integrity_check(10)') as Array<{ integrity_check: string }>).map((r) => r.integrity_check);
    return {
      path,
      bytes: statSync(path).size,
      pages: db.pragma('page_count', { simple: true }) as number,
      pageSize: db.pragma('page_size', { simple: true }) as number,
      schemaVersion: versions[BUILTIN_NAMESPACE] ?? 0,
      versions,
      integrity: problems.length === 1 && problems[0] === 'ok' ? 'ok' : problems,
    };
  } catch (e) {
    throw new Error(`inspect: check ${path}`, { cause: e });
  } finally {
    db.close();
  }
}

/**
 * Copies a live database into `destination`, a path that must not exist, as one
 * consistent snapshot (`VACUUM INTO` inside one read transaction): writes that other
 * connections commit meanwhile are simply not in it. It runs on a read-only
 * connection, so it needs no lock and works beside a running primary as well as on
 * a database no node has open. The copy is created owner-only (0600), is
 * self-contained (no WAL), compacted, and flushed to disk before this returns.
 */
export function backupDatabase(source: string, destination: string): void {
  // VACUUM INTO writes into an existing file when it is empty: create it ourselves, 0600.
  closeSync(openSync(destination, 'wx', 0o600));
  let db: Database.Database | undefined;
  try {
    db = new Database(source, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    db.prepare('VACUUM INTO ?').run(destination);
    db.close();
    db = undefined;
    const fd = openSync(destination, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    db?.close();
    rmSync(destination, { force: true });
    throw new Error(`backup: copy ${source} into ${destination}`, { cause: e });
  }
}
