import type { z } from 'zod';
import { describe, WriteError, type ChangeOp, type WriteMeta } from '@scribe/protocol';
import type { SqlTx } from './sql-tx.js';
import { normaliseWireParams } from './wire-params.js';
import { findLoneSurrogate } from './lone-surrogates.js';

/**
 * What a write handler gets besides its params. The handler is engine-neutral: it runs
 * SQL only through `tx` (see {@link SqlTx} for the SQL both engines accept, and branch
 * on `tx.dialect` where they differ) and awaits nothing else while it runs.
 */
export interface WriteContext {
  /** The write's transaction (its own savepoint inside the batch's transaction). */
  readonly tx: SqlTx;
  /** RFC 3339 time of this write's execution; use it for every timestamp it sets. */
  readonly now: string;
  /** Who sent the write and its request id. */
  readonly meta: WriteMeta;
  /** Records a change event; the store appends it to the change log when the write succeeds. */
  change(entity: string, key: string, op: ChangeOp): void;
}

/**
 * One write, defined once: its name, params schema and handler. The params type a
 * caller sends (`I`, the schema's input) and the type the handler gets (`P`, its
 * output) both come from the schema; the name `N` is kept as a literal so the
 * Querier can derive a typed method per write (see {@link WriteMethods}).
 */
export interface WriteDefinition<P = unknown, R = unknown, I = P, N extends string = string, B extends string | undefined = string | undefined> {
  /** PascalCase, e.g. `CreateMessage`. */
  readonly name: N;
  /** One line for the docs. */
  readonly description: string;
  /** Params schema; unknown keys should be refused (strict objects). */
  readonly schema: z.ZodType<P, I>;
  /** A long-running write: callers give it the long timeout (30 s instead of 5 s). */
  readonly long?: boolean;
  /**
   * For a write whose params are one id: the field a bare JSON string fills, so
   * `"params": "s1"` means `{ [bareParam]: "s1" }` (the reference client sends id-only
   * writes that way). Absent: a bare string is refused by the schema.
   */
  readonly bareParam?: B;
  /**
   * Unwrap Go `sql.Null*` objects (`{"String": "x", "Valid": true}`) in the params'
   * top-level fields before the schema (default true). The raw-SQL writes turn it off:
   * their `params` are bind values, whatever their names.
   */
  readonly goNullObjects?: boolean;
  /**
   * Runs inside the write's savepoint of the batch's transaction; throws (or rejects
   * with) a WriteError to fail, which rolls back only this write. Usually `async`,
   * awaiting its `ctx.tx` calls; it may await nothing else (no timers, no network):
   * the transaction is open while it runs.
   */
  handler(ctx: WriteContext, params: P): R | Promise<R>;
}

/** Any write definition, whatever its types (what a registry holds). */
export type AnyWriteDefinition = WriteDefinition<any, any, any, string, string | undefined>;

/**
 * Types a write definition: the handler's params come from the schema, and the name
 * and `bareParam` stay literal types for the Querier's mapped methods.
 */
export function defineWrite<const N extends string, P, R, I = P, const B extends string | undefined = undefined>(
  definition: WriteDefinition<P, R, I, N, B>,
): WriteDefinition<P, R, I, N, B> {
  return definition;
}

/** What a caller sends to write `W`: the schema's input, or a bare id string for an id-only write. */
export type WriteInput<W> =
  W extends WriteDefinition<any, any, infer I, string, infer B> ? I | (B extends string ? string : never) : never;

/** What write `W` resolves with. */
export type WriteResult<W> = W extends WriteDefinition<any, infer R, any, string, string | undefined> ? R : never;

const WRITE_NAME = /^[A-Za-z][A-Za-z0-9_.]{0,99}$/;

/** The set of writes a store executes, by name. */
export class WriteRegistry {
  readonly #writes = new Map<string, AnyWriteDefinition>();

  /** Adds a write; a name registered twice is a programming error (TypeError). */
  register(definition: AnyWriteDefinition): this {
    if (typeof definition?.name !== 'string' || !WRITE_NAME.test(definition.name)) {
      throw new TypeError(`Expected a write name of letters, digits, '_' or '.', got ${describe(definition?.name)}`);
    }
    if (this.#writes.has(definition.name)) {
      throw new TypeError(`Expected write names to be unique, got ${definition.name} twice`);
    }
    if (typeof definition.handler !== 'function') {
      throw new TypeError(`Expected write ${definition.name} to have a handler function`);
    }
    this.#writes.set(definition.name, definition);
    return this;
  }

  /** The write called `name`, if registered. */
  get(name: string): AnyWriteDefinition | undefined {
    return this.#writes.get(name);
  }

  /** True when a write called `name` is registered. */
  has(name: string): boolean {
    return this.#writes.has(name);
  }

  /** Every registered name, in registration order. */
  names(): string[] {
    return [...this.#writes.keys()];
  }

  /**
   * Checks a write's params without running it and returns them parsed. The
   * reference client's shapes (a bare id string, Go `sql.Null*` objects) are first
   * turned into scribe's natural JSON by {@link normaliseWireParams}. Throws
   * METHOD_NOT_FOUND for an unknown name and INVALID_PARAMS naming the field,
   * also for a string holding a lone surrogate (see {@link findLoneSurrogate}).
   */
  validate(name: string, params: unknown): unknown {
    const definition = this.#writes.get(name);
    if (definition === undefined) {
      throw new WriteError('METHOD_NOT_FOUND', `Unknown write ${JSON.stringify(name)}`, { method: name });
    }
    const natural = normaliseWireParams(params, definition.bareParam, definition.goNullObjects ?? true);
    const parsed = definition.schema.safeParse(natural);
    if (!parsed.success) {
      if (definition.bareParam !== undefined && (natural === null || typeof natural !== 'object' || Array.isArray(natural))) {
        // An id-only write: say both shapes it takes.
        throw new WriteError(
          'INVALID_PARAMS',
          `Expected params to be an id string or an object {"${definition.bareParam}": …}, got ${describe(natural)}`,
          { method: name, field: 'params' },
        );
      }
      throw paramsError(name, natural, parsed.error);
    }
    const lone = findLoneSurrogate(parsed.data);
    if (lone !== undefined) {
      throw new WriteError(
        'INVALID_PARAMS',
        `Expected ${lone} to be valid Unicode text, got a string with a lone surrogate (an unpaired UTF-16 half, which cannot be stored as UTF-8)`,
        { method: name, field: lone },
      );
    }
    return parsed.data;
  }
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function fieldName(path: readonly PropertyKey[]): string {
  return ['params', ...path.map(String)].join('.');
}

/** Turns the first zod issue into an INVALID_PARAMS WriteError that names the field. */
export function paramsError(method: string, params: unknown, error: z.ZodError): WriteError {
  const issue = error.issues[0];
  if (issue === undefined) return new WriteError('INVALID_PARAMS', `Invalid params for ${method}`, { method, field: 'params' });
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '?';
    const field = fieldName([...issue.path, key]);
    const got = describe(valueAt(params, [...issue.path, key]));
    return new WriteError('INVALID_PARAMS', `Expected ${field} to be absent (${method} has no such field), got ${got}`, {
      method,
      field,
    });
  }
  const field = fieldName(issue.path);
  const got = describe(valueAt(params, issue.path)).replace(/^undefined \(undefined\)$/, 'nothing');
  let expected: string;
  switch (issue.code) {
    case 'invalid_type':
      expected = issue.expected === 'int' ? 'an integer' : `${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
      break;
    case 'too_small':
      expected =
        issue.origin === 'string'
          ? `a string of at least ${String(issue.minimum)} characters`
          : issue.origin === 'array'
            ? `a list of at least ${String(issue.minimum)} items`
            : `at least ${String(issue.minimum)}`;
      break;
    case 'too_big':
      expected =
        issue.origin === 'string'
          ? `a string of at most ${String(issue.maximum)} characters`
          : issue.origin === 'array'
            ? `a list of at most ${String(issue.maximum)} items`
            : `at most ${String(issue.maximum)}`;
      break;
    case 'invalid_union':
    case 'custom':
      // Refinements and unions carry what they expect as their message (e.g. 'an RFC 3339 time').
      expected = issue.message;
      break;
    default:
      expected = `valid (${issue.message})`;
  }
  return new WriteError('INVALID_PARAMS', `Expected ${field} to be ${expected}, got ${got}`, { method, field });
}
