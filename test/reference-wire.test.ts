import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dealer } from 'zeromq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDiscovery, resolveRuntimePaths } from '@scribe/node';
import { Store } from '@scribe/store';
import { NodeProcess } from './helpers/node-process.js';

// A client written to the reference contract (Pando's dbproxy: Go, sqlc-generated
// params marshalled by encoding/json) talks to a real primary process over a raw
// ZeroMQ DEALER socket, not scribe's transport. Every write is sent in the shape Go
// sends it (bare id strings for the id-only writes, sql.Null* objects, int64 flags
// and Unix-second times, string file versions), and the same writes in scribe's
// natural JSON go to a second primary: both files must hold the same rows.

interface Reply {
  id: string;
  result?: unknown;
  error?: { code: number; message: string; data?: { code: string; field?: string; method?: string | null } };
}

/** A raw DEALER client: an empty delimiter frame, then one JSON-RPC message. */
class RawClient {
  readonly #dealer = new Dealer({ receiveTimeout: 10_000, linger: 0 });
  #n = 0;
  constructor(router: string) {
    this.#dealer.connect(router);
  }
  async write(method: string, params: unknown): Promise<Reply> {
    const id = `call-${++this.#n}`;
    // Go's time.RFC3339: whole seconds, no fraction.
    const timestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const meta = { source_instance_id: 'go-client', request_id: `${method}-${this.#n}-${process.pid}`, timestamp };
    await this.#dealer.send(['', JSON.stringify({ jsonrpc: '2.0', id, method: 'db.write', params: { meta, method, params } })]);
    for (;;) {
      const frames = await this.#dealer.receive();
      const reply = JSON.parse(frames[frames.length - 1]!.toString('utf8')) as Reply;
      if (reply.id === id) return reply;
    }
  }
  close(): void {
    this.#dealer.close();
  }
}

const nullString = (s?: string) => (s === undefined ? { String: '', Valid: false } : { String: s, Valid: true });
const nullInt64 = (n?: number) => (n === undefined ? { Int64: 0, Valid: false } : { Int64: n, Valid: true });

/**
 * Every write of the reference querier, in order: [write, params as Go sends them,
 * the same in scribe's natural JSON]. Times are Unix seconds in Go and RFC 3339 in
 * natural JSON; 1764331200 is 2025-11-28T12:00:00Z.
 */
const WRITES: Array<[string, unknown, unknown]> = [
  ['CreateProject',
    { id: 'p1', name: 'proj', path: '/work/p1', status: 'stopped', initialized: 0, acp_pid: nullInt64(), acp_port: nullInt64(), last_opened: nullInt64() },
    { id: 'p1', name: 'proj', path: '/work/p1', status: 'stopped' }],
  ['CreateProject',
    { id: 'p2', name: 'gone', path: '/work/p2', status: 'stopped', initialized: 1, acp_pid: nullInt64(), acp_port: nullInt64(), last_opened: nullInt64(1_764_331_200) },
    { id: 'p2', name: 'gone', path: '/work/p2', status: 'stopped', initialized: true, last_opened: '2025-11-28T12:00:00.000Z' }],
  ['UpdateProjectStatus',
    { status: 'running', acp_pid: nullInt64(4242), acp_port: nullInt64(8765), id: 'p1' },
    { id: 'p1', status: 'running', acp_pid: 4242, acp_port: 8765 }],
  ['UpdateProjectLastOpened', { last_opened: nullInt64(1_764_331_200), id: 'p1' }, { id: 'p1', last_opened: '2025-11-28T12:00:00.000Z' }],
  ['MarkProjectInitialized', 'p1', { id: 'p1' }],
  ['DeleteProject', 'p2', { id: 'p2' }],
  ['CreateSession',
    { id: 's1', parent_session_id: nullString(), title: 'root', message_count: 0, prompt_tokens: 0, completion_tokens: 0, cost: 0 },
    { id: 's1', title: 'root' }],
  ['CreateSession',
    { id: 's2', parent_session_id: nullString('s1'), title: 'child', message_count: 0, prompt_tokens: 0, completion_tokens: 0, cost: 0 },
    { id: 's2', parent_session_id: 's1', title: 'child' }],
  ['UpdateSession',
    { title: 'renamed', prompt_tokens: 120, completion_tokens: 80, summary_message_id: nullString(), cost: 0.25, id: 's1' },
    { id: 's1', title: 'renamed', prompt_tokens: 120, completion_tokens: 80, summary_message_id: null, cost: 0.25 }],
  ['CreateMessage', { id: 'm1', session_id: 's1', role: 'user', parts: '[]', model: nullString('gpt-5') }, { id: 'm1', session_id: 's1', role: 'user', parts: '[]', model: 'gpt-5' }],
  ['CreateMessage', { id: 'm2', session_id: 's1', role: 'assistant', parts: '[]', model: nullString() }, { id: 'm2', session_id: 's1', role: 'assistant', parts: '[]' }],
  ['CreateMessage', { id: 'm3', session_id: 's2', role: 'user', parts: '[]', model: nullString() }, { id: 'm3', session_id: 's2', role: 'user', parts: '[]' }],
  ['UpdateMessage',
    { parts: '[{"type":"finish"}]', finished_at: nullInt64(1_764_331_260), id: 'm1' },
    { id: 'm1', parts: '[{"type":"finish"}]', finished_at: '2025-11-28T12:01:00.000Z' }],
  ['DeleteMessage', 'm2', { id: 'm2' }],
  ['DeleteSessionMessages', 's2', { session_id: 's2' }],
  ['CreateFile', { id: 'f1', session_id: 's1', path: 'main.go', content: 'package main', version: 'initial' }, { id: 'f1', session_id: 's1', path: 'main.go', content: 'package main', version: 0 }],
  ['CreateFile', { id: 'f2', session_id: 's1', path: 'main.go', content: 'package main // 1', version: 'v1' }, { id: 'f2', session_id: 's1', path: 'main.go', content: 'package main // 1', version: 1 }],
  ['CreateFile', { id: 'f3', session_id: 's2', path: 'x.go', content: 'x', version: 'initial' }, { id: 'f3', session_id: 's2', path: 'x.go', content: 'x', version: 0 }],
  ['UpdateFile', { content: 'package main // 2', version: 'v2', id: 'f2' }, { id: 'f2', content: 'package main // 2', version: 2 }],
  ['DeleteFile', 'f1', { id: 'f1' }],
  ['DeleteSessionFiles', 's2', { session_id: 's2' }],
  ['InsertPromptTemplate',
    { id: 't1', name: 'sys', section: 'system', content: 'be brief', version: 1, is_active: 1, is_default: 0 },
    { id: 't1', name: 'sys', section: 'system', content: 'be brief', version: 1, is_active: true, is_default: false }],
  ['InsertSessionScore',
    {
      id: 'sc1', session_id: 's1', template_id: nullString('t1'), reward: 0.8, success_score: 0.9, efficiency_score: 0.7,
      judge_analysis: nullString('good'), judge_model: nullString(), prompt_tokens: 120, completion_tokens: 80, message_count: 2, user_corrections: 0,
    },
    { id: 'sc1', session_id: 's1', template_id: 't1', reward: 0.8, success_score: 0.9, efficiency_score: 0.7, judge_analysis: 'good', prompt_tokens: 120, completion_tokens: 80, message_count: 2 }],
  ['InsertSkill',
    { id: 'k1', title: 'grep first', content: 'search before reading', source_session_id: nullString('s1'), source_template_id: nullString(), task_type: 'code' },
    { id: 'k1', title: 'grep first', content: 'search before reading', source_session_id: 's1', task_type: 'code' }],
  ['InsertSkill',
    { id: 'k2', title: 'plan', content: 'write a plan', source_session_id: nullString(), source_template_id: nullString('t1'), task_type: 'general' },
    { id: 'k2', title: 'plan', content: 'write a plan', source_template_id: 't1', task_type: 'general' }],
  ['IncrementSkillUsage', 'k1', { id: 'k1' }],
  ['DeactivateLowestSkill', null, null],
  ['DeleteSession', 's2', { id: 's2' }],
];

/** The reference querier's 21 writes: the list above covers each. */
const REFERENCE_WRITES = [
  'CreateFile', 'CreateMessage', 'CreateProject', 'CreateSession', 'DeactivateLowestSkill', 'DeleteFile', 'DeleteMessage', 'DeleteProject',
  'DeleteSession', 'DeleteSessionFiles', 'DeleteSessionMessages', 'IncrementSkillUsage', 'InsertPromptTemplate', 'InsertSessionScore',
  'InsertSkill', 'MarkProjectInitialized', 'UpdateFile', 'UpdateMessage', 'UpdateProjectLastOpened', 'UpdateProjectStatus', 'UpdateSession',
];
const ID_ONLY = ['DeleteSession', 'DeleteSessionMessages', 'DeleteMessage', 'DeleteFile', 'DeleteSessionFiles', 'IncrementSkillUsage', 'MarkProjectInitialized', 'DeleteProject'];

/** Columns holding the time a write ran, which differ between the two runs by nature. */
const WRITE_TIME = new Set(['created_at', 'updated_at', 'evaluated_at', 'last_used_at']);
const TABLES = ['projects', 'sessions', 'messages', 'files', 'prompt_templates', 'session_scores', 'skill_library', 'prompt_ucb_stats'];

function rows(dbPath: string): Record<string, unknown[]> {
  const store = Store.open({ path: dbPath, readonly: true });
  try {
    const out: Record<string, unknown[]> = {};
    for (const t of TABLES) {
      out[t] = store.query<Record<string, unknown>>(`SELECT * FROM ${t} ORDER BY rowid`).map((r) =>
        Object.fromEntries(Object.entries(r).filter(([k]) => !WRITE_TIME.has(k))),
      );
    }
    return out;
  } finally {
    store.close();
  }
}

let dir: string;
const primaries: NodeProcess[] = [];
let goDb: string;
let naturalDb: string;
let go: RawClient;
let natural: RawClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scribe-refwire-'));
  goDb = join(dir, 'go.db');
  naturalDb = join(dir, 'natural.db');
  const [a, b] = await Promise.all([
    NodeProcess.spawn({ dbPath: goDb, instanceId: 'go-primary' }),
    NodeProcess.spawn({ dbPath: naturalDb, instanceId: 'natural-primary' }),
  ]);
  primaries.push(a, b);
  go = new RawClient(readDiscovery(resolveRuntimePaths(goDb).discoveryPath)!.router);
  natural = new RawClient(readDiscovery(resolveRuntimePaths(naturalDb).discoveryPath)!.router);
});

afterAll(async () => {
  go?.close();
  natural?.close();
  for (const p of primaries) await p.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('the reference wire contract over a raw DEALER socket', () => {
  it('covers every write of the reference querier, and the id-only ones with a bare string', () => {
    expect([...new Set(WRITES.map(([w]) => w))].sort()).toEqual([...REFERENCE_WRITES].sort());
    for (const w of ID_ONLY) expect(WRITES.some(([name, params]) => name === w && typeof params === 'string')).toBe(true);
  });

  it('accepts every write in the reference shape and stores exactly what the natural JSON stores', async () => {
    for (const [method, goParams, naturalParams] of WRITES) {
      const [g, n] = [await go.write(method, goParams), await natural.write(method, naturalParams)];
      expect({ method, error: g.error }).toEqual({ method, error: undefined });
      expect({ method, error: n.error }).toEqual({ method, error: undefined });
    }
    const stored = rows(goDb);
    expect(stored).toEqual(rows(naturalDb));
    // And what was stored is what the reference client meant:
    expect(stored.projects).toEqual([
      { id: 'p1', name: 'proj', path: '/work/p1', status: 'running', initialized: 1, acp_pid: 4242, acp_port: 8765, last_opened: '2025-11-28T12:00:00.000Z' },
    ]);
    expect(stored.sessions).toEqual([
      { id: 's1', parent_session_id: null, title: 'renamed', message_count: 1, prompt_tokens: 120, completion_tokens: 80, cost: 0.25, summary_message_id: null },
    ]);
    expect(stored.messages).toEqual([
      { id: 'm1', session_id: 's1', role: 'user', parts: '[{"type":"finish"}]', model: 'gpt-5', finished_at: '2025-11-28T12:01:00.000Z' },
    ]);
    expect(stored.files).toEqual([{ id: 'f2', session_id: 's1', path: 'main.go', content: 'package main // 2', version: 2 }]);
    expect(stored.prompt_templates).toEqual([{ id: 't1', name: 'sys', section: 'system', content: 'be brief', version: 1, is_active: 1, is_default: 0 }]);
    expect(stored.session_scores).toMatchObject([{ id: 'sc1', template_id: 't1', judge_analysis: 'good', judge_model: null, reward: 0.8 }]);
    expect(stored.prompt_ucb_stats).toEqual([{ template_id: 't1', times_used: 1, total_reward: 0.8, avg_reward: 0.8, ucb_score: 0.8 }]);
    expect(stored.skill_library).toMatchObject([
      { id: 'k1', source_session_id: 's1', source_template_id: null, usage_count: 1, is_active: 1 },
      { id: 'k2', source_session_id: null, source_template_id: 't1', is_active: 0 },
    ]);
  });

  it('answers INVALID_PARAMS naming params for a bare non-string where an id is expected, and changes nothing', async () => {
    const before = rows(goDb);
    for (const method of ID_ONLY) {
      for (const bad of [42, true, ['s1'], null]) {
        const reply = await go.write(method, bad);
        expect({ method, bad, data: reply.error?.data }).toEqual({ method, bad, data: { code: 'INVALID_PARAMS', field: 'params', method, retryable: false } });
        expect(reply.error?.code).toBe(-32602);
      }
    }
    // A bare string is only for the id-only writes.
    const reply = await go.write('CreateSession', 's9');
    expect(reply.error?.data).toMatchObject({ code: 'INVALID_PARAMS', field: 'params' });
    expect(rows(goDb)).toEqual(before);
  });
});
