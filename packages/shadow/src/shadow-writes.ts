import { z } from 'zod';
import { WriteError, uuidv7 } from '@scribe/protocol';
import {
  forUpdate,
  defineWrite,
  type SqlReader,
  type SqlValue,
  type WriteContext,
  type WriteDefinition,
  type WriteRegistry,
} from '@scribe/store';
import { taggedMessage, type ShadowErrorCode } from './shadow-errors.js';
import { SESSIONS_TABLE, isPlainIdentifier, tableNameProblem } from './identifiers.js';
import { nullSafeWhere } from './null-safe-where.js';

/** The names of the writes this package registers, by what they do. */
export const SHADOW_WRITE_NAMES = Object.freeze({
  open: 'OpenShadowSession',
  close: 'CloseShadowSession',
  insert: 'InsertShadowRows',
  update: 'UpdateShadowRows',
  delete: 'DeleteShadowRows',
} as const);

/** A registered open session, as the registry table holds it. */
export interface ShadowSessionRecord {
  session_id: string;
  shadow_table: string;
  /** Unique per open: a reap closes the session it saw, never a later one reusing the id. */
  open_id: string;
  /** RFC 3339, the primary's time of the open write. */
  opened_at: string;
  /** `source_instance_id` of the process that opened it. */
  opened_by: string;
}

/** What {@link OpenShadowSession} returns. */
export interface OpenShadowSessionResult extends ShadowSessionRecord {
  /** Rows copied from the seed table (0 without one). */
  seeded: number;
}

/** What {@link CloseShadowSession} returns. */
export interface CloseShadowSessionResult {
  /** False when the session was not open (already closed, reaped, or another open_id). */
  closed: boolean;
  /** Rows of the session deleted from its shadow table. */
  rows_deleted: number;
}

/** A value a shadow column can take (booleans are stored as 0/1). */
export type ShadowValue = string | number | boolean | null;
/** A row or condition: column name → value. */
export type ShadowRow = Record<string, ShadowValue>;

const sessionId = z.string().min(1).max(200);
const tableName = z.string().refine((v) => tableNameProblem(v) === undefined, {
  message: 'a plain identifier ([A-Za-z_][A-Za-z0-9_]*) naming a table that is not reserved',
});
const column = z.string().refine(isPlainIdentifier, { message: 'a plain identifier ([A-Za-z_][A-Za-z0-9_]*)' });
const value = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const row = z.record(column, value);

function fail(method: string, code: ShadowErrorCode, errorCode: WriteError['code'], text: string, field?: string, cause?: unknown): never {
  throw new WriteError(errorCode, taggedMessage(method, code, text), {
    method,
    ...(field === undefined ? {} : { field }),
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * The real name and columns of a table (case as declared), or undefined when there is
 * no such table. The catalogue differs per engine: SQLite's schema table and
 * `pragma_table_info`; PostgreSQL's information_schema, in the current schema.
 */
async function tableColumns(db: SqlReader, table: string): Promise<{ name: string; columns: string[] } | undefined> {
  if (db.dialect === 'postgres') {
    const t = await db.get<{ name: string }>(
      'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND lower(table_name) = lower(?)',
      [table],
    );
    if (t === undefined) return undefined;
    const cols = await db.all<{ name: string }>(
      'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position',
      [t.name],
    );
    return { name: t.name, columns: cols.map((c) => c.name) };
  }
  const t = await db.get<{ name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ? COLLATE NOCASE", [table]);
  if (t === undefined) return undefined;
  const cols = await db.all<{ name: string }>('SELECT name FROM pragma_table_info(?)', [t.name]);
  return { name: t.name, columns: cols.map((c) => c.name) };
}

function hasColumn(columns: readonly string[], name: string): boolean {
  const lower = name.toLowerCase();
  return columns.some((c) => c.toLowerCase() === lower);
}

async function registered(ctx: WriteContext, method: string, id: string): Promise<ShadowSessionRecord> {
  // Locked to this write (see forUpdate): a close in another process waits for it, and it for a close.
  const rec = await ctx.tx.get<ShadowSessionRecord>(`SELECT * FROM ${SESSIONS_TABLE} WHERE session_id = ?${forUpdate(ctx.tx)}`, [id]);
  if (rec === undefined) fail(method, 'SESSION_NOT_FOUND', 'NOT_FOUND', `no shadow session ${JSON.stringify(id)} is open`, 'params.session_id');
  return rec;
}

/** Checks that every column exists in the session's shadow table and is not session_id. */
async function checkColumns(ctx: WriteContext, method: string, rec: ShadowSessionRecord, field: string, names: readonly string[]): Promise<void> {
  const cols = await tableColumns(ctx.tx, rec.shadow_table);
  if (cols === undefined) {
    fail(method, 'TABLE_NOT_FOUND', 'NOT_FOUND', `shadow table ${rec.shadow_table} of session ${JSON.stringify(rec.session_id)} no longer exists`);
  }
  for (const name of names) {
    if (name.toLowerCase() === 'session_id') {
      fail(method, 'INVALID_ROW', 'INVALID_PARAMS', 'session_id is set by the session and cannot be given', `${field}.session_id`);
    }
    if (!hasColumn(cols.columns, name)) {
      fail(method, 'INVALID_ROW', 'INVALID_PARAMS', `shadow table ${rec.shadow_table} has no column ${name}`, `${field}.${name}`);
    }
  }
}

function bind(v: ShadowValue): SqlValue {
  return v === true ? 1 : v === false ? 0 : v;
}

/**
 * ` AND a IS NOT DISTINCT FROM ? …` and its values: null-safe equality, so null matches
 * NULL. Both engines take it (SQLite since 3.39, as an alias of its `IS`; PostgreSQL's
 * `IS` takes only NULL and booleans). The session's reads use the same.
 */
function whereClause(where: ShadowRow | undefined): { sql: string; values: SqlValue[] } {
  return { sql: nullSafeWhere(Object.keys(where ?? {})), values: Object.values(where ?? {}).map(bind) };
}

/** The driver's own code of a driver error (SQLite's result code, PostgreSQL's SQLSTATE), for a message. */
function driverCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'driver error';
}

/** Runs a statement that carries caller values; a driver refusal is INVALID_ROW with the engine's mapped error as cause. */
async function runValues(ctx: WriteContext, method: string, field: string, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof WriteError) throw e;
    const mapped = ctx.tx.mapError(e, method);
    throw new WriteError(mapped.code, taggedMessage(method, 'INVALID_ROW', `${mapped.message.replace(`${method}: `, '')} (${driverCode(e)})`), {
      method,
      field,
      cause: mapped,
    });
  }
}

/**
 * `OpenShadowSession`: checks the shadow table (exists, has a `session_id` column),
 * registers the session, and copies the seed table's rows into the shadow table
 * tagged with the session id, all in one write: a failure leaves nothing behind.
 */
export const OpenShadowSession = defineWrite({
  name: SHADOW_WRITE_NAMES.open,
  description:
    'Opens a shadow session: registers it (CONFLICT when open already) and copies the seed table\'s rows into the shadow table tagged with session_id. Returns the registry record with `seeded`.',
  schema: z.strictObject({
    session_id: sessionId,
    shadow_table: tableName,
    seed_from_table: tableName.optional(),
  }),
  async handler(ctx, p): Promise<OpenShadowSessionResult> {
    const method = SHADOW_WRITE_NAMES.open;
    const duplicate = async (): Promise<never> => {
      const existing = await ctx.tx.get<{ opened_by: string; opened_at: string }>(
        `SELECT opened_by, opened_at FROM ${SESSIONS_TABLE} WHERE session_id = ?`,
        [p.session_id],
      );
      const by = existing === undefined ? '' : ` (opened by ${existing.opened_by} at ${existing.opened_at})`;
      fail(method, 'DUPLICATE_SESSION', 'CONFLICT', `session ${JSON.stringify(p.session_id)} is already open${by}`, 'params.session_id');
    };
    if ((await ctx.tx.get(`SELECT 1 FROM ${SESSIONS_TABLE} WHERE session_id = ?`, [p.session_id])) !== undefined) await duplicate();
    const shadow = await tableColumns(ctx.tx, p.shadow_table);
    if (shadow === undefined) {
      fail(method, 'TABLE_NOT_FOUND', 'NOT_FOUND', `shadow table ${p.shadow_table} does not exist`, 'params.shadow_table');
    }
    if (!hasColumn(shadow.columns, 'session_id')) {
      fail(method, 'MISSING_SESSION_ID_COLUMN', 'INVALID_PARAMS', `shadow table ${shadow.name} has no session_id column`, 'params.shadow_table.session_id');
    }
    const rec: ShadowSessionRecord = {
      session_id: p.session_id,
      shadow_table: shadow.name,
      open_id: uuidv7(),
      opened_at: ctx.now,
      opened_by: ctx.meta.source_instance_id,
    };
    // The id is claimed before the seed is copied. On PostgreSQL another peer may be opening
    // the same id at this moment: the claim waits for its transaction and, when that one
    // commits, inserts nothing, so this open is DUPLICATE_SESSION as on SQLite (whose one
    // writer ran the two one after the other), not a clash of the two seeds' rows.
    const claimed = await ctx.tx.run(
      `INSERT INTO ${SESSIONS_TABLE} (session_id, shadow_table, open_id, opened_at, opened_by) VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_id) DO NOTHING`,
      [rec.session_id, rec.shadow_table, rec.open_id, rec.opened_at, rec.opened_by],
    );
    if (claimed.changes === 0) await duplicate();
    let seeded = 0;
    if (p.seed_from_table !== undefined) {
      const seed = await tableColumns(ctx.tx, p.seed_from_table);
      if (seed === undefined) {
        fail(method, 'TABLE_NOT_FOUND', 'NOT_FOUND', `seed table ${p.seed_from_table} does not exist`, 'params.seed_from_table');
      }
      if (seed.name.toLowerCase() === shadow.name.toLowerCase()) {
        fail(method, 'INVALID_IDENTIFIER', 'INVALID_PARAMS', 'the seed table cannot be the shadow table itself', 'params.seed_from_table');
      }
      // Columns line up by name; the seed's own session_id (if any) is replaced by the tag.
      const cols = seed.columns.filter((c) => c.toLowerCase() !== 'session_id');
      const list = cols.map((c) => `"${c.replaceAll('"', '""')}"`).join(', ');
      const sql =
        `INSERT INTO ${shadow.name} (session_id${cols.length > 0 ? `, ${list}` : ''}) ` +
        `SELECT ?${cols.length > 0 ? `, ${list}` : ''} FROM ${seed.name}`;
      try {
        seeded = (await ctx.tx.run(sql, [p.session_id])).changes;
      } catch (e) {
        // The driver's own refusal (no such column, NOT NULL, type, constraint), mapped by the store and kept as cause.
        const mapped = ctx.tx.mapError(e, method);
        const missing = cols.filter((c) => !hasColumn(shadow.columns, c));
        const detail = missing.length > 0 ? `; the shadow table lacks ${missing.join(', ')}` : '';
        fail(
          method,
          'SEED_MISMATCH',
          mapped.code,
          `the rows of seed table ${seed.name} do not fit shadow table ${shadow.name} (${driverCode(e)}: ${mapped.message.replace(`${method}: `, '')}${detail})`,
          'params.seed_from_table',
          mapped,
        );
      }
    }
    ctx.change('shadow_sessions', rec.session_id, 'created');
    return { ...rec, seeded };
  },
});

/**
 * `CloseShadowSession`: deletes the session's rows and its registry entry. Closing a
 * session that is not open (or, with `open_id`, not that open of it) changes nothing
 * and answers `closed: false`: two reapers racing, or a reaper and the owner, are fine.
 */
export const CloseShadowSession = defineWrite({
  name: SHADOW_WRITE_NAMES.close,
  description:
    'Closes a shadow session: deletes its rows from the shadow table and its registry entry. With open_id, only that open of it. Returns {closed, rows_deleted}; closed is false when it was not open.',
  schema: z.strictObject({ session_id: sessionId, open_id: z.string().min(1).optional() }),
  async handler(ctx, p): Promise<CloseShadowSessionResult> {
    const rec = await ctx.tx.get<ShadowSessionRecord>(`SELECT * FROM ${SESSIONS_TABLE} WHERE session_id = ?${forUpdate(ctx.tx)}`, [p.session_id]);
    if (rec === undefined || (p.open_id !== undefined && rec.open_id !== p.open_id)) return { closed: false, rows_deleted: 0 };
    // A shadow table dropped since the open holds no rows to delete: the session just ends.
    const rows =
      (await tableColumns(ctx.tx, rec.shadow_table)) === undefined
        ? 0
        : (await ctx.tx.run(`DELETE FROM ${rec.shadow_table} WHERE session_id = ?`, [rec.session_id])).changes;
    await ctx.tx.run(`DELETE FROM ${SESSIONS_TABLE} WHERE session_id = ?`, [rec.session_id]);
    ctx.change('shadow_sessions', rec.session_id, 'deleted');
    return { closed: true, rows_deleted: rows };
  },
});

/** `InsertShadowRows`: rows into the session's shadow table, each tagged with the session id. */
export const InsertShadowRows = defineWrite({
  name: SHADOW_WRITE_NAMES.insert,
  description: "Inserts rows into the session's shadow table with session_id set (a row may not give session_id). Returns {inserted}; NOT_FOUND when the session is not open.",
  schema: z.strictObject({ session_id: sessionId, rows: z.array(row).min(1).max(10_000) }),
  async handler(ctx, p): Promise<{ inserted: number }> {
    const method = SHADOW_WRITE_NAMES.insert;
    const rec = await registered(ctx, method, p.session_id);
    let inserted = 0;
    for (const [i, r] of p.rows.entries()) {
      const cols = Object.keys(r);
      await checkColumns(ctx, method, rec, `params.rows.${i}`, cols);
      const sql = `INSERT INTO ${rec.shadow_table} (session_id${cols.map((c) => `, ${c}`).join('')}) VALUES (?${', ?'.repeat(cols.length)})`;
      inserted += await runValues(
        ctx,
        method,
        `params.rows.${i}`,
        async () => (await ctx.tx.run(sql, [rec.session_id, ...cols.map((c) => bind(r[c]!))])).changes,
      );
    }
    return { inserted };
  },
});

/** `UpdateShadowRows`: `UPDATE … SET … WHERE session_id = ? AND col IS NOT DISTINCT FROM ? …`. */
export const UpdateShadowRows = defineWrite({
  name: SHADOW_WRITE_NAMES.update,
  description: "Updates the session's rows matching `where` (column IS value, all of them; every row of the session without it). Returns {changed}.",
  schema: z.strictObject({ session_id: sessionId, set: row, where: row.optional() }),
  async handler(ctx, p): Promise<{ changed: number }> {
    const method = SHADOW_WRITE_NAMES.update;
    const rec = await registered(ctx, method, p.session_id);
    const sets = Object.keys(p.set);
    if (sets.length === 0) fail(method, 'INVALID_ROW', 'INVALID_PARAMS', 'set names no column', 'params.set');
    await checkColumns(ctx, method, rec, 'params.set', sets);
    await checkColumns(ctx, method, rec, 'params.where', Object.keys(p.where ?? {}));
    const w = whereClause(p.where);
    const sql = `UPDATE ${rec.shadow_table} SET ${sets.map((c) => `${c} = ?`).join(', ')} WHERE session_id = ?${w.sql}`;
    const changed = await runValues(
      ctx,
      method,
      'params.set',
      async () => (await ctx.tx.run(sql, [...sets.map((c) => bind(p.set[c]!)), rec.session_id, ...w.values])).changes,
    );
    return { changed };
  },
});

/** `DeleteShadowRows`: `DELETE … WHERE session_id = ? AND col IS NOT DISTINCT FROM ? …`. */
export const DeleteShadowRows = defineWrite({
  name: SHADOW_WRITE_NAMES.delete,
  description: "Deletes the session's rows matching `where` (every row of the session without it); the session stays open. Returns {deleted}.",
  schema: z.strictObject({ session_id: sessionId, where: row.optional() }),
  async handler(ctx, p): Promise<{ deleted: number }> {
    const method = SHADOW_WRITE_NAMES.delete;
    const rec = await registered(ctx, method, p.session_id);
    await checkColumns(ctx, method, rec, 'params.where', Object.keys(p.where ?? {}));
    const w = whereClause(p.where);
    const deleted = await runValues(
      ctx,
      method,
      'params.where',
      async () => (await ctx.tx.run(`DELETE FROM ${rec.shadow_table} WHERE session_id = ?${w.sql}`, [rec.session_id, ...w.values])).changes,
    );
    return { deleted };
  },
});

/** Every write of this package, in registration order. */
export const SHADOW_WRITES: readonly WriteDefinition<any, any>[] = Object.freeze([
  OpenShadowSession,
  CloseShadowSession,
  InsertShadowRows,
  UpdateShadowRows,
  DeleteShadowRows,
]);

/** Registers the shadow-session writes in `registry` (a TypeError if one is registered already). Returns it. */
export function registerShadowWrites(registry: WriteRegistry): WriteRegistry {
  for (const w of SHADOW_WRITES) registry.register(w);
  return registry;
}
