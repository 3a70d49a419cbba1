/**
 * The engine factory of the parametrised suites: one suite per claim, run on every
 * engine scribe has (`describe.each(TEST_ENGINES)`), never a copy per engine.
 *
 * - {@link useEngines} at the top of a test file: starts one PostgreSQL server for the
 *   file (when {@link runPostgresTests}) and gives each test a fresh database of it, or a
 *   fresh SQLite file in a temp dir.
 * - `openTestNode(engine, options)`: a node as an application opens it (`openNode`):
 *   a SQLite primary in a temp dir, or a peer of the PostgreSQL server.
 * - `openTestStore(engine, options)`: the store below the node with a manual clock
 *   (the querier suites assert the times the store writes), the same methods on both
 *   engines (async), and a Querier whose writes run directly on it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { onTestFinished } from 'vitest';
import {
  Store,
  StoreReads,
  createQuerier,
  directWriteFn,
  type BatchItem,
  type BatchResult,
  type Migration,
  type MigrationSet,
  type Querier,
  type RequestRecord,
  type StoredChange,
  type WriteRegistry,
} from '@scribe/store';
import { PgStore } from '@scribe/postgres';
import { openNode, type OpenNodeOptions, type OpenPgNodeOptions, type PgScribeNode, type ScribeNode } from '@scribe/node';
import { ManualClock } from './manual-clock.js';
import { runPostgresTests, usePostgres, type PostgresServerOptions } from './postgres-server.js';

export { ManualClock } from './manual-clock.js';

/** Every engine scribe runs on. */
export const ENGINES = ['sqlite', 'postgres'] as const;
/** One of {@link ENGINES}. */
export type Engine = (typeof ENGINES)[number];

/**
 * The engines this run tests: SQLite always, PostgreSQL where {@link runPostgresTests}
 * says (its binaries are installed; always in CI, where a missing server fails).
 * `SCRIBE_TEST_ENGINES=postgres` (a comma-separated subset of {@link ENGINES}) narrows
 * it, e.g. to run the suites against another PostgreSQL version only
 * (`npm run test:postgres-newest`).
 */
export const TEST_ENGINES: readonly Engine[] = chosenEngines(process.env['SCRIBE_TEST_ENGINES'], runPostgresTests ? ENGINES : ['sqlite']);

function chosenEngines(setting: string | undefined, available: readonly Engine[]): readonly Engine[] {
  if (setting === undefined || setting.trim() === '') return available;
  const chosen = setting.split(',').map((e) => e.trim());
  for (const e of chosen) {
    if (!(ENGINES as readonly string[]).includes(e)) throw new Error(`SCRIBE_TEST_ENGINES: unknown engine '${e}' (engines: ${ENGINES.join(', ')})`);
    if (e === 'postgres' && !runPostgresTests) throw new Error('SCRIBE_TEST_ENGINES: postgres was asked for, but no PostgreSQL binaries were found (set SCRIBE_PG_BINDIR)');
  }
  return ENGINES.filter((e) => chosen.includes(e));
}

/** The options both engines' nodes take (the engine-specific ones are the factory's). */
export type TestNodeOptions = Omit<OpenNodeOptions, 'dbPath' | keyof OpenPgNodeOptions> &
  Pick<OpenPgNodeOptions, 'instanceId' | 'logger' | 'plugins' | 'registry' | 'migrations' | 'autoMigrate' | 'writeTimeoutMs' | 'maintenance' | 'changeRetention' | 'requestRetention'> & {
    /** PostgreSQL only: how often the change feed reads while LISTEN is down. */
    readonly changePollMs?: number;
  };

/** A node of either engine: the API the suites use is the same on both. */
export type TestNode = ScribeNode | PgScribeNode;

/** Options of {@link EngineFactory.openTestStore}. */
export interface TestStoreOptions {
  readonly registry?: WriteRegistry;
  readonly plugins?: readonly MigrationSet[];
  /** Application migrations; give PostgreSQL DDL (`up: { sqlite, postgres }`) where the suite runs on both. */
  readonly migrations?: readonly Migration[];
  readonly clock?: ManualClock;
  readonly requestRetention?: number;
  readonly changeRetention?: number;
}

/** The store of one engine, as the suites see it: the same (async) methods on both. */
export interface TestStore {
  readonly engine: Engine;
  readonly clock: ManualClock;
  /** Reads and writes (writes run directly on the store: `directWriteFn`, source `local`, a fresh request id unless given). */
  readonly q: Querier;
  /** The store's typed reads (what the querier's reads answer from). */
  readonly reads: StoreReads;
  readonly registry: WriteRegistry;
  executeBatch(items: readonly BatchItem[], options?: { validated?: boolean }): Promise<BatchResult>;
  executeWrite(item: BatchItem): Promise<unknown>;
  findRequest(requestId: string): Promise<RequestRecord | undefined>;
  changesSince(seq: number, limit?: number): Promise<StoredChange[]>;
  latestChangeSeq(): Promise<number>;
  /** The oldest seq still in the change log, undefined when it is empty. */
  oldestChangeSeq(): Promise<number | undefined>;
  /** Closes the store (it is closed again, harmlessly, when the test finishes). */
  close(): Promise<void>;
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[] | Record<string, unknown>): Promise<T[]>;
  /** Every row of the agent tables and the change log, in insertion order (equal before and after: nothing changed). */
  snapshot(): Promise<Record<string, unknown[]>>;
}

const AGENT_TABLES = ['projects', 'sessions', 'messages', 'files', 'skill_library', 'prompt_templates', 'session_scores'];

/** What {@link useEngines} gives a test file. */
export interface EngineFactory {
  /** A fresh SQLite file path (temp dir) or PostgreSQL database URL of the file's server (with `schema` migrated when given). */
  location(engine: Engine, schema?: { plugins?: readonly MigrationSet[]; migrations?: readonly Migration[] }): Promise<{ dbPath: string } | { url: string }>;
  /** Opens a node on a fresh database of `engine`, closed when the test finishes. */
  openTestNode(engine: Engine, options?: TestNodeOptions): Promise<TestNode>;
  /** Opens another node on the same database as `node` (SQLite: a secondary; PostgreSQL: another peer). */
  openPeer(engine: Engine, of: { dbPath: string } | { url: string }, options?: TestNodeOptions): Promise<TestNode>;
  /** Opens a store on a fresh database of `engine`, closed when the test finishes. */
  openTestStore(engine: Engine, options?: TestStoreOptions): Promise<TestStore>;
}

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scribe-engine-'));
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Call once at the top of a test file: one PostgreSQL server for the file (started in
 * `beforeAll` when {@link runPostgresTests}; `durable: false` only where durability is
 * not what the file claims) and a fresh database per test.
 */
export function useEngines(serverOptions: PostgresServerOptions = {}): EngineFactory {
  const server = usePostgres(serverOptions);
  // Migrating a fresh database runs dozens of DDL statements; each schema is migrated
  // once per file into a template database and every test gets a copy of it.
  const templates = new Map<string, Promise<string>>();
  const database = (schema: { plugins?: readonly MigrationSet[] | undefined; migrations?: readonly Migration[] | undefined }): Promise<string> => {
    const key = JSON.stringify([schema.plugins?.map((p) => [p.name, p.migrations]) ?? [], schema.migrations ?? []], (_, v: unknown) =>
      typeof v === 'function' ? String(v) : v,
    );
    let template = templates.get(key);
    if (template === undefined) {
      template = (async () => {
        const name = `template_${templates.size}_${process.pid}`;
        const url = await server.server().createDatabase(name);
        const store = await PgStore.open({
          url,
          max: 1,
          ...(schema.plugins === undefined ? {} : { plugins: schema.plugins }),
          ...(schema.migrations === undefined ? {} : { migrations: schema.migrations }),
        });
        await store.close();
        return name;
      })();
      templates.set(key, template);
    }
    return template.then((name) => server.server().createDatabase({ template: name }));
  };
  const location = async (engine: Engine, schema: Parameters<typeof database>[0] = {}): Promise<{ dbPath: string } | { url: string }> =>
    engine === 'sqlite' ? { dbPath: path.join(tempDir(), 'scribe.db') } : { url: await database(schema) };
  const open = async (at: { dbPath: string } | { url: string }, options: TestNodeOptions): Promise<TestNode> => {
    const { changePollMs, ...common } = options;
    const node: TestNode =
      'url' in at
        ? await openNode({ ...common, url: at.url, ...(changePollMs === undefined ? {} : { changePollMs }) } as OpenPgNodeOptions)
        : await openNode({ ...common, dbPath: at.dbPath } as OpenNodeOptions);
    onTestFinished(() => node.close());
    return node;
  };
  return {
    location,
    openTestNode: async (engine, options = {}) => open(await location(engine, options), options),
    openPeer: (_engine, at, options = {}) => open(at, options),
    async openTestStore(engine, options = {}) {
      const clock = options.clock ?? new ManualClock();
      const common = {
        clock: clock.fn,
        ...(options.registry === undefined ? {} : { registry: options.registry }),
        ...(options.plugins === undefined ? {} : { plugins: options.plugins }),
        ...(options.migrations === undefined ? {} : { migrations: options.migrations }),
        ...(options.requestRetention === undefined ? {} : { requestRetention: options.requestRetention }),
        ...(options.changeRetention === undefined ? {} : { changeRetention: options.changeRetention }),
      };
      if (engine === 'sqlite') {
        const store = Store.open({ path: path.join(tempDir(), 'scribe.db'), ...common });
        onTestFinished(() => store.close());
        return testStore(engine, clock, store, {
          reads: store.reads,
          query: async (sql, params) => store.query(sql, params),
          findRequest: async (id) => store.findRequest(id),
          changesSince: async (seq, limit) => store.changesSince(seq, limit),
          latestChangeSeq: async () => store.latestChangeSeq(),
          oldestChangeSeq: async () => store.oldestChangeSeq(),
          close: async () => store.close(),
        });
      }
      const store = await PgStore.open({ url: await database(options), max: 4, ...common });
      onTestFinished(() => store.close());
      return testStore(engine, clock, store, {
        reads: new StoreReads(store.reader),
        query: (sql, params) => store.query(sql, params),
        findRequest: (id) => store.findRequest(id),
        changesSince: (seq, limit) => store.changesSince(seq, limit),
        latestChangeSeq: () => store.latestChangeSeq(),
        oldestChangeSeq: () => store.oldestChangeSeq(),
        close: () => store.close(),
      });
    },
  };
}

interface StoreParts {
  reads: StoreReads;
  query<T>(sql: string, params?: readonly unknown[] | Record<string, unknown>): Promise<T[]>;
  findRequest(id: string): Promise<RequestRecord | undefined>;
  changesSince(seq: number, limit?: number): Promise<StoredChange[]>;
  latestChangeSeq(): Promise<number>;
  oldestChangeSeq(): Promise<number | undefined>;
  close(): Promise<void>;
}

function testStore(
  engine: Engine,
  clock: ManualClock,
  store: {
    registry: WriteRegistry;
    executeBatch(items: readonly BatchItem[], options?: { validated?: boolean }): Promise<BatchResult>;
    executeWrite(item: BatchItem): Promise<unknown>;
  },
  parts: StoreParts,
): TestStore {
  const q = createQuerier({ store: { reads: parts.reads, query: (sql, params) => parts.query(sql, params) }, write: directWriteFn(store) });
  return {
    engine,
    clock,
    q,
    reads: parts.reads,
    registry: store.registry,
    executeBatch: (items, options) => store.executeBatch(items, options),
    executeWrite: (item) => store.executeWrite(item),
    findRequest: parts.findRequest,
    changesSince: parts.changesSince,
    latestChangeSeq: parts.latestChangeSeq,
    oldestChangeSeq: parts.oldestChangeSeq,
    close: parts.close,
    query: (sql, params) => parts.query(sql, params),
    async snapshot() {
      const out: Record<string, unknown[]> = {};
      for (const t of AGENT_TABLES) out[t] = await parts.query(`SELECT * FROM ${t} ORDER BY rowid`);
      out['_scribe_changes'] = await parts.query('SELECT * FROM _scribe_changes ORDER BY seq');
      return out;
    },
  };
}

/**
 * Runs one statement on the database at `at` behind scribe's back (its own connection,
 * not a node's), as a bug or a bad disk would change a row. Positional `?` values on
 * SQLite; write PostgreSQL's `$1` where the statement takes values there.
 */
export async function writeBehindTheBack(at: { dbPath: string } | { url: string }, sql: string): Promise<void> {
  if ('dbPath' in at) {
    const db = new Database(at.dbPath);
    try {
      db.pragma('busy_timeout = 5000');
      db.prepare(sql).run();
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: at.url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
