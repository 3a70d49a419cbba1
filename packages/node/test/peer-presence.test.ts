import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PeerPresence, peerMember, type PeerTable } from '@scribe/node';
import type { PeerRecord, PeerRow } from '@scribe/postgres';

/** The peer table in memory: records every call, and fails or hangs beats when told to. */
class FakeTable implements PeerTable {
  readonly beats: PeerRecord[] = [];
  readonly left: string[] = [];
  fail = false;
  hang: Promise<void> | undefined;
  async beat(peer: PeerRecord): Promise<void> {
    this.beats.push(peer);
    if (this.hang !== undefined) await this.hang;
    if (this.fail) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  }
  async leave(instanceId: string): Promise<void> {
    this.left.push(instanceId);
  }
  async list(): Promise<PeerRow[]> {
    return this.beats.map((b) => ({ ...b, seen_at: '2026-11-28T12:00:00.000Z', age_ms: 0 }));
  }
}

function record(): PeerRecord {
  return {
    instance_id: 'me',
    pid: 42,
    host: 'h1',
    http: null,
    schema_version: 4,
    plugins: [],
    load: { queue_depth: 0, committed_per_s: null },
    interval_ms: 1_000,
    uptime_s: 1,
    started_at: '2026-11-28T12:00:00.000Z',
  };
}

function presence(table: FakeTable) {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), cb()) }));
  return { p: new PeerPresence({ table, intervalMs: 1_000, record, log }), lines };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('PeerPresence', () => {
  it('records itself at start and once an interval, never two statements at once', async () => {
    vi.useFakeTimers();
    const table = new FakeTable();
    const { p } = presence(table);
    await p.start();
    expect(table.beats).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(table.beats).toHaveLength(4);
    // A heartbeat that hangs (a pool with no free connection) is not stacked upon.
    let release!: () => void;
    table.hang = new Promise((r) => (release = r));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(table.beats).toHaveLength(5);
    table.hang = undefined;
    release();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(table.beats).toHaveLength(6);
    await p.close();
  });

  it('logs an outage once with its code, and the recovery; close() leaves only after a heartbeat that went through', async () => {
    vi.useFakeTimers();
    const table = new FakeTable();
    const { p, lines } = presence(table);
    await p.start();
    table.fail = true;
    await vi.advanceTimersByTimeAsync(3_000);
    const warnings = lines.filter((l) => l['level'] === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: 'UNREACHABLE', msg: expect.stringContaining('could not record this peer') });
    table.fail = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(lines.at(-1)).toMatchObject({ level: 30, msg: 'recording this peer in the peer table again' });

    await p.close();
    await p.close();
    expect(table.left).toEqual(['me']);
    const beats = table.beats.length;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(table.beats).toHaveLength(beats);
  });

  it('does not try to leave when its last heartbeat failed (the server is away: the row goes silent instead)', async () => {
    const table = new FakeTable();
    table.fail = true;
    const { p } = presence(table);
    await p.start();
    await p.close();
    expect(table.left).toEqual([]);
  });
});

describe('peerMember', () => {
  const row = (age_ms: number): PeerRow => ({ ...record(), http: 'http://127.0.0.1:1', load: { queue_depth: 3, committed_per_s: 12.5 }, seen_at: '2026-11-28T12:00:00.000Z', age_ms });

  it('is answering while seen within three of its own intervals, by the age the server computed', () => {
    expect(peerMember(row(3_000)).answering).toBe(true);
    expect(peerMember(row(3_001)).answering).toBe(false);
  });

  it('carries the row as a status member of role peer', () => {
    expect(peerMember(row(10))).toEqual({
      instance_id: 'me',
      role: 'peer',
      pid: 42,
      epoch: 0,
      uptime_s: 1,
      schema_version: 4,
      plugins: [],
      last_heartbeat_at: null,
      seen_at: '2026-11-28T12:00:00.000Z',
      answering: true,
      http: 'http://127.0.0.1:1',
      host: 'h1',
      queue_depth: 3,
      committed_per_s: 12.5,
    });
  });
});
