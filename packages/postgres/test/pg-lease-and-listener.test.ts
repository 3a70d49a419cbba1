import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PgAdvisoryLease } from '../src/pg-advisory-lease.js';
import { CHANGES_CHANNEL } from '../src/pg-change-log.js';
import { PgChangeListener } from '../src/pg-change-listener.js';
import { runPostgresTests, usePostgres } from '../../../test/helpers/postgres-server.js';

const server = usePostgres();
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function sql(url: string, text: string): Promise<unknown[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text)).rows;
  } finally {
    await c.end();
  }
}

describe.runIf(runPostgresTests)('PgAdvisoryLease and PgChangeListener', () => {
  it('lets one holder at a time hold the lease; when its connection ends, another takes it over', async () => {
    const url = await server.database();
    // The first holder does not try again within the test (as a process killed with -9 never
    // does): so the lease can only come back through another peer, never through its own retry.
    const first = new PgAdvisoryLease({ url, retryMs: 600_000, applicationName: 'lease-a' });
    cleanups.push(() => first.close());
    await first.start();
    expect(first.held).toBe(true);
    const others = ['b', 'c'].map((name) => new PgAdvisoryLease({ url, retryMs: 50, applicationName: `lease-${name}` }));
    for (const l of others) cleanups.push(() => l.close());
    await Promise.all(others.map((l) => l.start()));
    const all = [first, ...others];
    // Never two at once, over a few retry rounds of the others.
    for (let i = 0; i < 10; i++) {
      expect(all.filter((l) => l.held)).toEqual([first]);
      await new Promise((r) => setTimeout(r, 20));
    }
    // The holder's connection dies (as when its process is killed): the server releases the lock.
    await sql(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'lease-a (maintenance)'");
    await waitFor(() => !first.held);
    await waitFor(() => others.some((l) => l.held));
    expect(all.filter((l) => l.held)).toHaveLength(1);
  });

  it('rings on every NOTIFY, goes down when its connection is ended, comes back by itself and rings again', async () => {
    const url = await server.database();
    let rings = 0;
    const states: boolean[] = [];
    const listener = new PgChangeListener({ url, applicationName: 'bell', onNotify: () => rings++, onState: (s) => states.push(s) });
    cleanups.push(() => listener.close());
    await listener.start();
    expect(listener.listening).toBe(true);
    const afterConnect = rings;
    await sql(url, `NOTIFY ${CHANGES_CHANNEL}, '1'`);
    await waitFor(() => rings === afterConnect + 1);
    await sql(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'bell (changes)'");
    await waitFor(() => states.includes(false));
    await waitFor(() => listener.listening);
    expect(states).toEqual([true, false, true]);
    const before = rings;
    await sql(url, `NOTIFY ${CHANGES_CHANNEL}, '2'`);
    await waitFor(() => rings > before);
  });
});
