import type { z } from 'zod';
import { describe, WriteError, type ChangeOp, type WriteMeta } from '@scribe/protocol';
import type { SqliteDatabase } from './sqlite-database.js';

/** What a write handler gets besides its params. */
export interface WriteContext {
  /** The connection, inside the write's own savepoint. */
  readonly db: SqliteDatabase;
  /** RFC 3339 time of this write's execution; use it for every timestamp it sets. */
  readonly now: string;
  /** Who sent the write and its request id. */
  readonly meta: WriteMeta;
  /** Records a change event; the store appends it to the change log when the write succeeds. */
  change(entity: string, key: string, op: ChangeOp): void;
}

/** One write, defined once: its name, params schema and handler. */
export interface WriteDefinition<P = unknown, R = unknown> {
  /** PascalCase, e.g. `CreateMessage`. */
  readonly name: string;
  /** One line for the docs. */
  readonly description: string;
  /** Params schema; unknown keys should be refused (strict objects). */
  readonly schema: z.ZodType<P>;
  /** A long-running write: callers give it the long timeout (30 s instead of 5 s). */
  readonly long?: boolean;
  /** Runs inside a savepoint of the primary's transaction; throws a WriteError to fail. */
  handler(ctx: WriteContext, params: P): R;
}

/** Identity function that types a write definition. */
export function defineWrite<P, R>(definition: WriteDefinition<P, R>): WriteDefinition<P, R> {
  return definition;
}

const WRITE_NAME = /^[A-Za-z][A-Za-z0-9_.]{0,99}$/;

/** The set of writes a store executes, by name. */
export class WriteRegistry {
  readonly #writes = new Map<string, WriteDefinition>();

  /** Adds a write; a name registered twice is a programming error (TypeError). */
  register(definition: WriteDefinition<any, any>): this {
    if (typeof definition?.name !== 'string' || !WRITE_NAME.test(definition.name)) {
      throw new TypeError(`Expected a write name of letters, digits, '_' or '.', got ${describe(definition?.name)}`);
    }
    if (this.#writes.has(definition.name)) {
      throw new TypeError(`Expected write names to be unique, got ${definition.name} twice`);
    }
    if (typeof definition.handler !== 'function') {
      throw new TypeError(`Expected write ${definition.name} to have a handler function`);
    }
    this.#writes.set(definition.name, definition as WriteDefinition);
    return this;
  }

  /** The write called `name`, if registered. */
  get(name: string): WriteDefinition | undefined {
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
   * Checks a write's params without running it and returns them parsed. Throws
   * METHOD_NOT_FOUND for an unknown name and INVALID_PARAMS naming the field.
   */
  validate(name: string, params: unknown): unknown {
    const definition = this.#writes.get(name);
    if (definition === undefined) {
      throw new WriteError('METHOD_NOT_FOUND', `Unknown write ${JSON.stringify(name)}`, { method: name });
    }
    const parsed = definition.schema.safeParse(params);
    if (parsed.success) return parsed.data;
    throw paramsError(name, params, parsed.error);
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
    case 'custom':
      // Refinements carry what they expect as their message (e.g. 'an RFC 3339 time').
      expected = issue.message;
      break;
    default:
      expected = `valid (${issue.message})`;
  }
  return new WriteError('INVALID_PARAMS', `Expected ${field} to be ${expected}, got ${got}`, { method, field });
}
