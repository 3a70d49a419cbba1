import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WriteError, type WriteRequest } from '@scribe/protocol';
import { Store } from '@scribe/store';
import { WriteCoordinator, type CoordinatorEvent } from '@scribe/coordinator';

// Group commit against a real SQLite file: the coordinator and the store together,
// without sockets (those are covered by the multi-process tests).

let dir: string;
let store: Store;
let coordinator: WriteCoordinator;
let events: CoordinatorEvent[];
let n = 0;

const APP_MIGRATION = {
  version: 1000,
  name: 'deferred foreign key',
  // A constraint SQLite checks only at COMMIT: violating it makes the COMMIT fail.
  up: `CREATE TABLE parents (id TEXT PRIMARY KEY);
       CREATE TABLE children (id TEXT PRIMARY KEY, parent_id TEXT REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED);`,
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scribe-group-'));
  store = Store.open({ path: join(dir, 'g.db'), migrations: [APP_MIGRATION] });
  coordinator = new WriteCoordinator({
    store: { validate: (m, p) => store.registry.validate(m, p), executeBatch: (items) => store.executeBatch(items, { validated: true }) },
  });
  events = [];
  coordinator.on((e) => events.push(e));
});

afterEach(async () => {
  await coordinator.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function req(method: string, params: unknown): WriteRequest {
  return { meta: { source_instance_id: 't', request_id: `g-${++n}`, timestamp: new Date().toISOString() }, method, params };
}

async function outcome(p: Promise<unknown>): Promise<['ok', unknown] | ['error', WriteError]> {
  try {
    return ['ok', await p];
  } catch (e) {
    return ['error', e as WriteError];
  }
}

describe('group commit on a real database', () => {
  it('commits a batch in one transaction while a failing write amid it fails alone', async () => {
    await coordinator.submit(req('CreateSession', { id: 's', title: 'group' }));
    const submitted = [
      coordinator.submit(req('CreateMessage', { id: 'm1', session_id: 's', role: 'user', parts: '[]' })),
      coordinator.submit(req('CreateMessage', { id: 'm2', session_id: 'missing', role: 'user', parts: '[]' })),
      coordinator.submit(req('CreateMessage', { id: 'm1', session_id: 's', role: 'user', parts: '[]' })),
      coordinator.submit(req('CreateMessage', { id: 'm3', session_id: 's', role: 'user', parts: '[]' })),
    ];
    const results = await Promise.all(submitted.map(outcome));
    expect(results.map(([kind, v]) => (kind === 'ok' ? 'ok' : (v as WriteError).code))).toEqual(['ok', 'CONFLICT', 'CONFLICT', 'ok']);
    const committed = events.filter((e) => e.type === 'batch:committed');
    expect(committed.at(-1)).toMatchObject({ type: 'batch:committed', size: 4 });
    expect((await store.reads.listMessages('s')).map((m) => m.id)).toEqual(['m1', 'm3']);
    expect((await store.reads.getSession('s'))?.message_count).toBe(2);
  });

  it('fails a whole batch with a retryable error when its COMMIT fails, applying none of it, then isolates the culprit', async () => {
    await coordinator.submit(req('CreateSession', { id: 's', title: 'commit fails' }));
    const good1 = req('CreateMessage', { id: 'a', session_id: 's', role: 'user', parts: '[]' });
    const poison = req('Exec', { sql: "INSERT INTO children (id, parent_id) VALUES ('c', 'nobody')" });
    const good2 = req('CreateMessage', { id: 'b', session_id: 's', role: 'user', parts: '[]' });
    const first = await Promise.all([good1, poison, good2].map((r) => outcome(coordinator.submit(r))));
    for (const [kind, e] of first) {
      expect(kind).toBe('error');
      expect((e as WriteError).isRetryable()).toBe(true);
    }
    expect(events.some((e) => e.type === 'batch:failed' && e.size === 3)).toBe(true);
    expect(await store.reads.listMessages('s')).toEqual([]);
    expect(store.findRequest(good1.meta.request_id)).toBeUndefined();

    // The callers retry with the same request ids: each now runs in its own
    // transaction, so the good writes commit and only the culprit fails.
    const retried = await Promise.all([good1, poison, good2].map((r) => outcome(coordinator.submit(r))));
    expect(retried.map(([kind]) => kind)).toEqual(['ok', 'error', 'ok']);
    expect((await store.reads.listMessages('s')).map((m) => m.id)).toEqual(['a', 'b']);
    expect(store.query('SELECT * FROM children')).toEqual([]);
  });

  it('acknowledges only after commit: a write answered ok is visible to a new read-only connection at once', async () => {
    await coordinator.submit(req('CreateSession', { id: 's', title: 'visible' }));
    const reader = Store.open({ path: join(dir, 'g.db'), readonly: true, migrations: [APP_MIGRATION] });
    try {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => coordinator.submit(req('CreateMessage', { id: `v${i}`, session_id: 's', role: 'user', parts: '[]' }))),
      );
      expect(results).toHaveLength(50);
      expect(await reader.reads.listMessages('s')).toHaveLength(50);
    } finally {
      reader.close();
    }
  });
});
