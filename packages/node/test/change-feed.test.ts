import { describe, expect, it } from 'vitest';
import { ChangeFeed, ResyncNeededError, type ChangeLog } from '@scribe/node';
import type { StoredChange } from '@scribe/store';

/** An in-memory change log with pruning. */
class FakeLog implements ChangeLog {
  rows: StoredChange[] = [];
  seq = 0;
  add(entity: string, key: string, op: StoredChange['op'] = 'created'): void {
    this.rows.push({ seq: ++this.seq, entity, key, op, request_id: `r${this.seq}`, source_instance_id: 'x', at: 't' });
  }
  prune(upTo: number): void {
    this.rows = this.rows.filter((r) => r.seq > upTo);
  }
  changesSince(seq: number, limit: number): StoredChange[] {
    return this.rows.filter((r) => r.seq > seq).slice(0, limit);
  }
  oldestChangeSeq(): number | undefined {
    return this.rows[0]?.seq;
  }
  latestChangeSeq(): number {
    return this.seq;
  }
}

async function take(it: AsyncGenerator<StoredChange>, n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value.seq);
  }
  return out;
}

describe('ChangeFeed', () => {
  it('delivers everything after `since` in order, then waits for the doorbell', async () => {
    const log = new FakeLog();
    for (let i = 0; i < 5; i++) log.add('messages', `m${i}`);
    const feed = new ChangeFeed(() => log, 60_000);
    const it = feed.changes({ since: 2 });
    expect(await take(it, 3)).toEqual([3, 4, 5]);
    const next = it.next();
    log.add('messages', 'm5');
    feed.notify();
    expect((await next).value?.seq).toBe(6);
    feed.close();
    expect((await it.next()).done).toBe(true);
  });

  it('starts after the latest seq by default', async () => {
    const log = new FakeLog();
    log.add('sessions', 's0');
    const feed = new ChangeFeed(() => log, 60_000);
    const it = feed.changes();
    const next = it.next();
    log.add('sessions', 's1');
    feed.notify();
    expect((await next).value).toMatchObject({ seq: 2, key: 's1' });
    feed.close();
  });

  it('filters by topic prefix but still advances past what it skips', async () => {
    const log = new FakeLog();
    log.add('sessions', 's');
    log.add('messages', 'm1');
    log.add('messages', 'm1', 'deleted');
    log.add('messages', 'm2');
    const feed = new ChangeFeed(() => log, 60_000);
    const it = feed.changes({ since: 0, topics: ['db.messages.created'] });
    const got = [(await it.next()).value?.key, (await it.next()).value?.key];
    expect(got).toEqual(['m1', 'm2']);
    feed.close();
  });

  it('says resync is needed when the changes after `since` were pruned', async () => {
    const log = new FakeLog();
    for (let i = 0; i < 10; i++) log.add('messages', `m${i}`);
    log.prune(6);
    const feed = new ChangeFeed(() => log, 60_000);
    const err = await feed.changes({ since: 3 }).next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResyncNeededError);
    expect(err).toMatchObject({ code: 'RESYNC_NEEDED', since: 3, oldest: 7, latest: 10 });
    log.prune(10);
    const err2 = await feed.changes({ since: 8 }).next().catch((e: unknown) => e);
    expect(err2).toMatchObject({ code: 'RESYNC_NEEDED', since: 8, latest: 10 });
  });

  it('ends when its signal aborts', async () => {
    const log = new FakeLog();
    const feed = new ChangeFeed(() => log, 60_000);
    const ac = new AbortController();
    const it = feed.changes({ since: 0, signal: ac.signal });
    const next = it.next();
    ac.abort();
    expect((await next).done).toBe(true);
  });
});
