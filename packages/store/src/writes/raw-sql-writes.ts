import { z } from 'zod';
import { WriteError } from '@scribe/protocol';
import { rawSqlOf, type RawSqlTx } from '../raw-sql-engine.js';
import type { SqlParams, SqlValue } from '../sql-tx.js';
import { defineWrite, type AnyWriteDefinition, type WriteContext } from '../write-registry.js';

/** What one raw statement did. */
export interface ExecResult {
  /** Rows the statement inserted, updated or deleted. */
  changes: number;
  /**
   * SQLite: the connection's `last_insert_rowid()` after the statement. PostgreSQL has
   * no rowid: 0 there (give new rows their own key, e.g. a UUID).
   */
  last_insert_rowid: number;
}

const bindable = z.union([z.string(), z.number(), z.null(), z.boolean()]);
const statement = z.strictObject({
  sql: z.string().min(1).max(100_000),
  params: z.union([z.array(bindable), z.record(z.string(), bindable)]).optional(),
});

/** Statements raw SQL may not run: transaction control and connection-level commands. */
const FORBIDDEN_START = /^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE|ATTACH|DETACH|VACUUM|PRAGMA|REINDEX|ANALYZE)\b/i;
const INTERNAL_TABLE = /_scribe_/i;
/** Leading whitespace and SQL comments, which SQLite skips before the first keyword. */
const LEADING_NOISE = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?(?:\*\/|$))*/;

/**
 * Runs one raw statement: the checks every engine shares here, then the engine's own
 * (compile check, bound params, the transaction left open) through its raw-SQL
 * capability ({@link RawSqlTx}); an engine without one answers DISABLED.
 */
async function run(ctx: WriteContext, method: string, field: string, s: z.infer<typeof statement>): Promise<ExecResult> {
  if (FORBIDDEN_START.test(s.sql.replace(LEADING_NOISE, ''))) {
    throw new WriteError('INVALID_PARAMS', `${method}: transaction control, PRAGMA and connection commands are not allowed in raw SQL`, {
      method,
      field,
    });
  }
  if (INTERNAL_TABLE.test(s.sql)) {
    throw new WriteError('INVALID_PARAMS', `${method}: scribe's internal tables (_scribe_*) cannot be touched by raw SQL`, {
      method,
      field,
    });
  }
  const raw = rawSqlOf(ctx.tx);
  if (raw === undefined) {
    throw new WriteError('DISABLED', `${method} is not available on this engine (${ctx.tx.dialect}): it has no raw-SQL support yet`, { method });
  }
  const params: SqlParams | undefined =
    s.params === undefined
      ? undefined
      : Array.isArray(s.params)
        ? s.params.map(bool)
        : Object.fromEntries(Object.entries(s.params).map(([k, v]) => [k, bool(v)]));
  const info = await raw.execRaw(s.sql, params, method, field);
  return { changes: info.changes, last_insert_rowid: info.lastInsertRowid };
}

/** Raw SQL may bind booleans (the wire has them): as 1/0, like every boolean column. */
function bool(v: string | number | boolean | null): SqlValue {
  return v === true ? 1 : v === false ? 0 : v;
}

function disabled(name: string): never {
  throw new WriteError('DISABLED', `${name} is disabled on this cluster (raw SQL writes are turned off)`, { method: name });
}

/** The raw-SQL writes, or their disabled stand-ins that answer DISABLED. */
export function rawSqlWrites(enabled: boolean): AnyWriteDefinition[] {
  const Exec = defineWrite({
    name: 'Exec',
    description:
      'Runs exactly one SQL statement with bound parameters (application tables only). Returns {changes, last_insert_rowid}. Can be disabled (DISABLED).',
    schema: statement,
    goNullObjects: false,
    handler: (ctx, p): Promise<ExecResult> => (enabled ? run(ctx, 'Exec', 'params.sql', p) : disabled('Exec')),
  });
  const ExecBatch = defineWrite({
    name: 'ExecBatch',
    description:
      'Runs several statements atomically: all apply or none does. Returns one {changes, last_insert_rowid} per statement. Can be disabled (DISABLED).',
    schema: z.strictObject({ statements: z.array(statement).min(1).max(1000) }),
    long: true,
    goNullObjects: false,
    async handler(ctx, p): Promise<ExecResult[]> {
      if (!enabled) disabled('ExecBatch');
      const results: ExecResult[] = [];
      // One after another: each statement sees the ones before it.
      for (const [i, s] of p.statements.entries()) results.push(await run(ctx, 'ExecBatch', `params.statements.${i}.sql`, s));
      return results;
    },
  });
  return [Exec, ExecBatch];
}
