import { z } from 'zod';
import { WriteError } from '@scribe/protocol';
import { defineWrite, type AnyWriteDefinition, type WriteContext } from '../write-registry.js';

/** What one raw statement did. */
export interface ExecResult {
  changes: number;
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

function run(ctx: WriteContext, method: string, field: string, s: z.infer<typeof statement>): ExecResult {
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
  let stmt;
  try {
    stmt = ctx.db.prepare(s.sql);
  } catch (e) {
    // More than one statement (RangeError) or SQL that does not compile against the schema.
    throw new WriteError('INVALID_PARAMS', `${method}: ${field} is not one valid SQL statement for this schema`, { method, field, cause: e });
  }
  const info =
    s.params === undefined
      ? stmt.run()
      : Array.isArray(s.params)
        ? stmt.run(...s.params.map(bool))
        : stmt.run(Object.fromEntries(Object.entries(s.params).map(([k, v]) => [k, bool(v)])));
  if (!ctx.db.inTransaction) {
    // Defence in depth: nothing that ends the transaction may slip past the checks above.
    throw new WriteError('INTERNAL', `${method}: the statement ended the write's transaction`, { method });
  }
  return { changes: info.changes, last_insert_rowid: Number(info.lastInsertRowid) };
}

function bool(v: unknown): unknown {
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
    handler: (ctx, p): ExecResult => (enabled ? run(ctx, 'Exec', 'params.sql', p) : disabled('Exec')),
  });
  const ExecBatch = defineWrite({
    name: 'ExecBatch',
    description:
      'Runs several statements atomically: all apply or none does. Returns one {changes, last_insert_rowid} per statement. Can be disabled (DISABLED).',
    schema: z.strictObject({ statements: z.array(statement).min(1).max(1000) }),
    long: true,
    goNullObjects: false,
    handler: (ctx, p): ExecResult[] =>
      enabled ? p.statements.map((s, i) => run(ctx, 'ExecBatch', `params.statements.${i}.sql`, s)) : disabled('ExecBatch'),
  });
  return [Exec, ExecBatch];
}
