import { uuidv7 } from '@scribe/protocol';
import { AGENT_WRITES } from './default-registry.js';
import type { Store } from './store.js';
import { StoreReads } from './store-reads.js';
import type { AnyWriteDefinition, WriteInput, WriteResult } from './write-registry.js';
import type { ExecResult } from './writes/raw-sql-writes.js';

/** Per-call options of a write. */
export interface WriteOptions {
  /** Budget for the whole write, retries included (forwarded writes). */
  timeoutMs?: number;
  /** Absolute deadline; the primary never starts the write after it. */
  deadline?: Date;
  /** Reuse a request id, e.g. one persisted before a crash, so the write applies at most once. */
  requestId?: string;
}

/** Sends one write (by registered name) and resolves with its result; rejects with a WriteError. */
export type WriteFn = (method: string, params: unknown, options?: WriteOptions) => Promise<unknown>;

/** One SQL statement with bound parameters. */
export interface SqlStatement {
  sql: string;
  params?: ReadonlyArray<string | number | boolean | null> | Record<string, string | number | boolean | null>;
}

/** The built-in agent writes, by name: `WriteParams['CreateMessage']` is what `createMessage` takes. */
export type AgentWrite = (typeof AGENT_WRITES)[number];

/**
 * The params of each built-in write as a caller sends them, derived from its schema
 * (`z.input`): `WriteParams['CreateMessage']`. Id-only writes also take a bare id string.
 */
export type WriteParams = { [W in AgentWrite as W['name']]: WriteInput<W> };

/**
 * One typed method per write, named by the write in camelCase (`CreateMessage` →
 * `createMessage`), taking the write's params (optional when the write needs none)
 * and resolving with its result.
 */
export type WriteMethods<W extends AnyWriteDefinition> = {
  [D in W as Uncapitalize<D['name']>]: undefined extends WriteInput<D>
    ? (params?: WriteInput<D>, options?: WriteOptions) => Promise<WriteResult<D>>
    : (params: WriteInput<D>, options?: WriteOptions) => Promise<WriteResult<D>>;
};

/** The names of the typed reads: every public method of {@link StoreReads}. */
export type ReadName = keyof StoreReads;

/** The typed reads: the methods of {@link StoreReads} themselves (each already async; see there for each). */
export type QuerierReads = Pick<StoreReads, ReadName>;

/** What every Querier has besides the typed writes and reads. */
export interface QuerierBase {
  /** Any registered write by name (application writes). */
  write<R = unknown>(method: string, params: unknown, options?: WriteOptions): Promise<R>;
  /** One raw SQL statement on application tables (the `Exec` write). */
  exec(sql: string, params?: SqlStatement['params'], options?: WriteOptions): Promise<ExecResult>;
  /** Several raw statements, all or nothing (the `ExecBatch` write). */
  execBatch(statements: readonly SqlStatement[], options?: WriteOptions): Promise<ExecResult[]>;
  /** A read-only SQL statement on the local connection. */
  query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]>;
}

/** The values of a raw read-only query: positional (`?`) or named (`:name`, `@name`, `$name`). */
export type QueryParams = readonly unknown[] | Record<string, unknown>;

/**
 * Where a Querier's reads go, whatever the engine: the typed reads and the raw
 * read-only query. SQLite's `Store` is one (its `query` answers synchronously, with its
 * read-only guards); the PostgreSQL engine supplies its own (`reads` over its
 * reader, `query` as a promise). The Querier awaits either.
 */
export interface QuerierReadSource {
  /** The typed reads, on this source's connection. */
  readonly reads: StoreReads;
  /** Runs one read-only statement; refuses anything that writes (INVALID_PARAMS). */
  query<T = Record<string, unknown>>(sql: string, params?: QueryParams): T[] | Promise<T[]>;
}

/**
 * The one interface agents use, whatever their process's role: typed writes (sent
 * through the write path; one per built-in write, derived from {@link AGENT_WRITES})
 * and typed reads (on the local connection; one per {@link StoreReads} method). Every
 * method is async so a remote implementation fits the same callers.
 */
export type Querier = QuerierBase & WriteMethods<AgentWrite> & QuerierReads;

/** Querier method name → write name, for every built-in write (derived from {@link AGENT_WRITES}). */
export const QUERIER_WRITES: Readonly<{ [W in AgentWrite as Uncapitalize<W['name']>]: W['name'] }> = Object.freeze(
  Object.fromEntries(AGENT_WRITES.map((w) => [methodName(w.name), w.name])),
) as { [W in AgentWrite as Uncapitalize<W['name']>]: W['name'] };

/** The names of the typed reads, from {@link StoreReads}' prototype (its public methods). */
export const READ_NAMES: readonly ReadName[] = Object.freeze(
  Object.getOwnPropertyNames(StoreReads.prototype).filter(
    (n): n is ReadName => n !== 'constructor' && typeof Object.getOwnPropertyDescriptor(StoreReads.prototype, n)?.value === 'function',
  ),
);

/** Options of {@link createQuerier}. */
export interface QuerierOptions {
  /**
   * Where reads go: a `Store`, or any other {@link QuerierReadSource} (PostgreSQL).
   * Its `reads` is looked up at each call.
   */
  store: QuerierReadSource;
  /** Where writes go: the coordinator, a forwarder, or {@link directWriteFn}. */
  write: WriteFn;
}

/** Builds a Querier over a store (reads) and a write function (writes). */
export function createQuerier(options: QuerierOptions): Querier {
  const { store, write } = options;
  const base: QuerierBase = {
    write: async <R>(method: string, params: unknown, o?: WriteOptions) => (await write(method, params, o)) as R,
    exec: async (sql, params, o) => (await write('Exec', params === undefined ? { sql } : { sql, params }, o)) as ExecResult,
    execBatch: async (statements, o) => (await write('ExecBatch', { statements }, o)) as ExecResult[],
    query: async <T>(sql: string, params?: QueryParams) => store.query<T>(sql, params),
  };
  return Object.freeze({ ...base, ...bindWrites(AGENT_WRITES, write), ...bindReads(store) });
}

/** `CreateMessage` → `createMessage`. */
function methodName<N extends string>(name: N): Uncapitalize<N> {
  return (name.charAt(0).toLowerCase() + name.slice(1)) as Uncapitalize<N>;
}

/**
 * One method per definition, from the same list the {@link WriteMethods} type maps
 * over, so the type and the object cannot disagree. The object is built by a loop,
 * which the compiler cannot follow key by key: this is the one place that states
 * its type.
 */
function bindWrites<W extends AnyWriteDefinition>(definitions: readonly W[], write: WriteFn): WriteMethods<W> {
  const methods: Record<string, (params?: unknown, options?: WriteOptions) => Promise<unknown>> = {};
  for (const d of definitions) {
    const name = d.name;
    methods[methodName(name)] = (params, o) => write(name, params === undefined ? null : params, o);
  }
  return methods as WriteMethods<W>;
}

/**
 * One method per {@link StoreReads} method, calling it on `store.reads` (looked up at
 * each call). Built by a loop, which the compiler cannot follow key by key: this is
 * the one place that states its type.
 */
function bindReads(store: Pick<QuerierReadSource, 'reads'>): QuerierReads {
  const reads: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const name of READ_NAMES) {
    reads[name] = (...args) => Reflect.apply(store.reads[name], store.reads, args);
  }
  return reads as QuerierReads;
}

/**
 * A write function that runs writes on a read-write store directly, each in its own
 * transaction: for a single process with no cluster (tests, tools, migrations). Any
 * store with `executeWrite` will do: a SQLite {@link Store} or `@scribe/postgres`'s `PgStore`.
 */
export function directWriteFn(store: Pick<Store, 'executeWrite'>, sourceInstanceId = 'local'): WriteFn {
  return async (method, params, options) =>
    store.executeWrite({
      meta: {
        source_instance_id: sourceInstanceId,
        request_id: options?.requestId ?? uuidv7(),
        timestamp: new Date().toISOString(),
      },
      method,
      params: params === undefined ? null : params,
    });
}
