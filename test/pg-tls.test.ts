// openNode({ url, ssl }) against a real PostgreSQL server that accepts TCP only over TLS
// with a password (test/helpers/postgres-server.ts, `tls: true`): every connection a
// peer opens (the pool, the change listener, the maintenance lease) is encrypted and
// checks the server's certificate, and a peer that cannot verify it, or does not use
// TLS, is refused with an error that says so.
import pg from 'pg';
import { openNode, type PgScribeNode } from '@scribe/node';
import { datastoresPlugin } from '@scribe/datastores';
import { afterEach, describe, expect, it } from 'vitest';
import { runPostgresTests, usePostgres } from './helpers/postgres-server.js';

const server = usePostgres({ tls: true });
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A fresh database, and its TCP URL (with the password). */
async function database(): Promise<{ name: string; url: string }> {
  const socketUrl = await server.database();
  const name = decodeURIComponent(new URL(socketUrl).pathname.slice(1));
  return { name, url: server.server().tls!.urlOf(name) };
}

/** What the server says about the sessions of one application: encrypted or not. */
async function sessions(applicationPrefix: string): Promise<Array<{ application_name: string; ssl: boolean }>> {
  const client = new pg.Client({ connectionString: server.server().url });
  await client.connect();
  try {
    const r = await client.query<{ application_name: string; ssl: boolean }>(
      `SELECT a.application_name, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid
        WHERE a.application_name LIKE $1 || '%' ORDER BY a.application_name`,
      [applicationPrefix],
    );
    return r.rows;
  } finally {
    await client.end();
  }
}

describe.runIf(runPostgresTests)('openNode({ url, ssl }) over TLS', () => {
  it('writes, reads and follows changes with every connection encrypted and the certificate checked', async () => {
    const { url } = await database();
    const tls = server.server().tls!;
    const node: PgScribeNode = await openNode({
      url,
      ssl: { ca: tls.ca, rejectUnauthorized: true },
      applicationName: 'tls-peer',
      plugins: [datastoresPlugin()],
    });
    cleanups.push(() => node.close());
    await node.querier.createSession({ id: 's1', title: 'over tls' });
    expect((await node.querier.getSession('s1'))?.title).toBe('over tls');
    for await (const change of node.changes({ since: 0 })) {
      if (change.key === 's1') break;
    }
    const seen = await sessions('tls-peer');
    // The pool's connection(s), the change listener's and the maintenance lease's.
    expect(seen.map((s) => s.application_name)).toEqual(expect.arrayContaining(['tls-peer', 'tls-peer (changes)', 'tls-peer (maintenance)']));
    expect(seen.every((s) => s.ssl)).toBe(true);
  });

  it('refuses a server certificate it cannot verify, saying so, and leaves nothing behind', async () => {
    const { url } = await database();
    // No `ca`: the test authority is not one the process trusts.
    const failed = await openNode({ url, ssl: { rejectUnauthorized: true }, applicationName: 'tls-untrusted', connectTimeoutMs: 5_000 }).then(
      (n) => n.close().then(() => undefined),
      (e: unknown) => e,
    );
    expect(failed).toBeInstanceOf(Error);
    expect(String((failed as Error).message) + String((failed as { cause?: Error }).cause?.message ?? '')).toMatch(/certificate/i);
    expect(await sessions('tls-untrusted')).toEqual([]);
  });

  it('is refused by a server that requires TLS when it does not use it, and the password never shows in the error', async () => {
    const { url } = await database();
    const failed = await openNode({ url, applicationName: 'tls-plain', connectTimeoutMs: 5_000 }).then(
      (n) => n.close().then(() => undefined),
      (e: unknown) => e,
    );
    expect(failed).toBeInstanceOf(Error);
    const text = `${(failed as Error).message} ${String((failed as { cause?: Error }).cause?.message ?? '')}`;
    expect(text).toMatch(/no encryption|pg_hba/);
    expect(text).not.toContain(server.server().tls!.password);
  });
});
