/**
 * Shared fixtures for the store's tests: a real SQLite file in a fresh temp dir per
 * test (removed when the test finishes), a manual clock, and small assertion helpers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import { WriteError } from '@scribe/protocol';
import {
  Store,
  createQuerier,
  directWriteFn,
  type BatchItem,
  type Querier,
  type StoreOptions,
} from '@scribe/store';

import { ManualClock, T0 } from '../../../test/helpers/manual-clock.js';

/** The manual clock every test store starts on (at `T0`): one definition for every suite. */
export { ManualClock, T0 };

/** A fresh temp dir, removed (with everything in it) when the current test finishes. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scribe-store-'));
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Opens a store and closes it when the current test finishes (before the dir goes). */
export function openStore(options: StoreOptions): Store {
  const store = Store.open(options);
  onTestFinished(() => store.close());
  return store;
}

/** A read-write store on a new file with a manual clock, and a Querier whose writes run directly on it. */
export interface Harness {
  dir: string;
  path: string;
  clock: ManualClock;
  store: Store;
  q: Querier;
}

/** Builds a {@link Harness}; `options` are passed to `Store.open`. */
export function harness(options: Partial<StoreOptions> = {}): Harness {
  const dir = tempDir();
  const file = path.join(dir, 'scribe.db');
  const clock = new ManualClock();
  const store = openStore({ path: file, clock: clock.fn, ...options });
  const q = createQuerier({ store, write: directWriteFn(store) });
  return { dir, path: file, clock, store, q };
}

/** Awaits `p`, expects it to reject with a WriteError, and returns that error. */
export async function rejection(p: Promise<unknown>): Promise<WriteError> {
  let value: unknown;
  try {
    value = await p;
  } catch (e) {
    if (e instanceof WriteError) return e;
    throw new Error(`expected a WriteError, got ${String(e)}`, { cause: e });
  }
  throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
}

/** Runs `fn`, expects it to throw a WriteError, and returns that error. */
export function thrown(fn: () => unknown): WriteError {
  try {
    fn();
  } catch (e) {
    if (e instanceof WriteError) return e;
    throw new Error(`expected a WriteError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected a throw');
}

const AGENT_TABLES = ['projects', 'sessions', 'messages', 'files', 'skill_library', 'prompt_templates', 'session_scores'];

/**
 * Every row of the agent tables and the change log: equal snapshots before and
 * after a write mean the write changed nothing an application can see.
 */
export function snapshot(store: Store): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const t of [...AGENT_TABLES, '_scribe_changes']) out[t] = store.query(`SELECT * FROM ${t} ORDER BY rowid`);
  return out;
}

let requestCounter = 0;

/** A batch item with a fresh (or the given) request id. */
export function item(method: string, params: unknown, requestId = `req-${++requestCounter}`): BatchItem {
  return {
    meta: { source_instance_id: 'test', request_id: requestId, timestamp: new Date(T0).toISOString() },
    method,
    params,
  };
}

/** Minimal valid params of each agent write, for the table-driven tests (ids refer to rows `seedParents` makes). */
export const MINIMAL_PARAMS: Readonly<Record<string, Record<string, unknown> | null>> = Object.freeze({
  CreateProject: { name: 'p', path: '/p' },
  UpdateProjectStatus: { id: 'proj', status: 'archived' },
  UpdateProjectLastOpened: { id: 'proj' },
  MarkProjectInitialized: { id: 'proj' },
  DeleteProject: { id: 'proj' },
  CreateSession: { title: 't' },
  UpdateSession: { id: 'sess' },
  DeleteSession: { id: 'sess' },
  DeleteSessionMessages: { session_id: 'sess' },
  CreateMessage: { session_id: 'sess', role: 'user', parts: '[]' },
  UpdateMessage: { id: 'msg' },
  DeleteMessage: { id: 'msg' },
  CreateFile: { session_id: 'sess', path: 'a.ts', content: '' },
  UpdateFile: { id: 'file', content: 'x' },
  DeleteFile: { id: 'file' },
  DeleteSessionFiles: { session_id: 'sess' },
  InsertPromptTemplate: { name: 'n', section: 's', content: 'c' },
  InsertSessionScore: { session_id: 'sess' },
  InsertSkill: { title: 't', content: 'c' },
  IncrementSkillUsage: { id: 'skill' },
  DeactivateLowestSkill: null,
});

/** Rows with the ids {@link MINIMAL_PARAMS} refers to: project `proj`, session `sess`, message `msg`, file `file`, skill `skill`. */
export async function seedParents(q: Querier): Promise<void> {
  await q.createProject({ id: 'proj', name: 'seed', path: '/seed' });
  await q.createSession({ id: 'sess', title: 'seed' });
  await q.createMessage({ id: 'msg', session_id: 'sess', role: 'user', parts: '[]' });
  await q.createFile({ id: 'file', session_id: 'sess', path: 'seed.ts', content: '' });
  await q.insertSkill({ id: 'skill', title: 'seed', content: '' });
}

/** Waits for `promise`, failing after `ms` instead of hanging (a bound, not a sleep). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}
