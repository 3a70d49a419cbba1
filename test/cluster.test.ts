import { describe, expect, it } from 'vitest';
import { ChildCallError, NodeProcess } from './helpers/node-process.js';
import { useTempCluster } from './helpers/temp-cluster.js';

interface Series {
  acked: string[];
  failed: Array<{ id: string; error: { code?: string } }>;
}
interface Msg {
  id: string;
  session_id: string;
}

const cluster = useTempCluster('cluster');
const spawn = (options: Record<string, unknown>): Promise<NodeProcess> => cluster.spawn(options);

describe('a primary and two secondaries in separate processes', () => {
  it('decides roles by the lock: first process primary, later ones secondaries of it', async () => {
    const p = await spawn({ instanceId: 'p' });
    const a = await spawn({ instanceId: 'a' });
    expect(p.ready.role).toBe('primary');
    expect(a.ready.role).toBe('secondary');
    expect(a.ready.epoch).toBe(p.ready.epoch);
  });

  it('applies concurrent writes from both secondaries exactly once, keeping each source in order', async () => {
    const p = await spawn({ instanceId: 'p' });
    const a = await spawn({ instanceId: 'a' });
    const b = await spawn({ instanceId: 'b' });
    await a.call('createSession', { id: 'shared', title: 'three processes' });
    const count = 300;
    const [ra, rb] = await Promise.all([
      a.send<Series>('writeSeries', { sessionId: 'shared', prefix: 'a', count, concurrency: 8 }),
      b.send<Series>('writeSeries', { sessionId: 'shared', prefix: 'b', count, concurrency: 8 }),
    ]);
    expect(ra.failed).toEqual([]);
    expect(rb.failed).toEqual([]);
    expect(ra.acked).toHaveLength(count);
    expect(rb.acked).toHaveLength(count);

    for (const reader of [p, a, b]) {
      const msgs = await reader.call<Msg[]>('listMessages', 'shared');
      const ids = msgs.map((m) => m.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(2 * count);
      for (const prefix of ['a', 'b']) {
        const mine = ids.filter((id) => id.startsWith(`${prefix}-`));
        expect(mine).toEqual([...mine].sort());
        expect(mine).toHaveLength(count);
      }
      const session = await reader.call<{ message_count: number }>('getSession', 'shared');
      expect(session.message_count).toBe(2 * count);
    }
  });

  it('returns structured errors from the primary to a secondary caller', async () => {
    await spawn({ instanceId: 'p' });
    const a = await spawn({ instanceId: 'a' });
    await a.call('createSession', { id: 's1', title: 'errors' });
    const dup = await a.call('createSession', { id: 's1', title: 'again' }).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(ChildCallError);
    expect((dup as ChildCallError).error).toMatchObject({ name: 'WriteError', code: 'CONFLICT', method: 'CreateSession', retryable: false });
    const bad = await a.call('createMessage', { session_id: 's1', role: 'user', parts: 42 }).catch((e: unknown) => e);
    expect((bad as ChildCallError).error).toMatchObject({ code: 'INVALID_PARAMS', method: 'CreateMessage', field: 'params.parts' });
    const unknown = await a.call('write', 'NoSuchWrite', {}).catch((e: unknown) => e);
    expect((unknown as ChildCallError).error).toMatchObject({ code: 'METHOD_NOT_FOUND', method: 'NoSuchWrite' });
    const session = await a.call<{ title: string; message_count: number }>('getSession', 's1');
    expect(session).toMatchObject({ title: 'errors', message_count: 0 });
  });

  it('gives a secondary UNREACHABLE within its timeout when no primary is left', async () => {
    const p = await spawn({ instanceId: 'p' });
    const a = await spawn({ instanceId: 'a', promote: false, writeTimeoutMs: 1500 });
    await a.call('createSession', { id: 'before', title: 'primary alive' });
    await p.kill('SIGKILL');
    const started = Date.now();
    const err = await a.call('createSession', { id: 'after', title: 'nobody home' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChildCallError);
    expect((err as ChildCallError).error).toMatchObject({ code: 'UNREACHABLE', retryable: true });
    // The call settled by itself (no hang): generous bound, not a speed assertion.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await a.call('getSession', 'after')).toBeNull();
  });
});

describe('schema versions', () => {
  it('a secondary may know a subset of the migrations in the file; one that needs a migration the file lacks refuses to forward writes with SCHEMA_MISMATCH naming it', async () => {
    const migrations = [{ version: 1000, name: 'app table', up: 'CREATE TABLE app_notes (id TEXT PRIMARY KEY, body TEXT)' }];
    await spawn({ instanceId: 'p', migrations });
    const current = await spawn({ instanceId: 'current', migrations });
    const subset = await spawn({ instanceId: 'subset' });
    const ahead = await spawn({ instanceId: 'ahead', migrations: [...migrations, { version: 1001, name: 'app column', up: 'ALTER TABLE app_notes ADD COLUMN tag TEXT' }] });
    await expect(current.call('createSession', { id: 'ok', title: 'same schema' })).resolves.toMatchObject({ id: 'ok' });
    await expect(subset.call('createSession', { id: 'ok2', title: 'a subset' })).resolves.toMatchObject({ id: 'ok2' });
    const err = await ahead.call('createSession', { id: 'no', title: 'other schema' }).catch((e: unknown) => e);
    expect((err as ChildCallError).error).toMatchObject({ name: 'WriteError', code: 'SCHEMA_MISMATCH', retryable: false, method: 'CreateSession' });
    expect((err as ChildCallError).error.message).toMatch(/the database lacks application version 1001 \(app column\), which this process uses \(application@1001\)/);
    // Reads still work for it.
    expect(await ahead.call('getSession', 'ok')).toMatchObject({ title: 'same schema' });
    expect(await ahead.call('getSession', 'no')).toBeNull();
  });
});
