import { existsSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { runPostgresTests, startPostgresServer, usePostgres } from '../../../test/helpers/postgres-server.js';

const shared = usePostgres();

async function setting(url: string, name: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return ((await c.query(`SELECT current_setting('${name}') AS v`)).rows[0] as { v: string }).v;
  } finally {
    await c.end();
  }
}

describe.runIf(runPostgresTests)('the test PostgreSQL server', () => {
  it('runs durable by default, on a unix socket only, in the C locale, a fresh database each time', async () => {
    const server = shared.server();
    expect(await setting(server.url, 'fsync')).toBe('on');
    expect(await setting(server.url, 'synchronous_commit')).toBe('on');
    expect(await setting(server.url, 'listen_addresses')).toBe('');
    // The database's collation (lc_collate is no setting from PostgreSQL 16 on).
    const c = new pg.Client({ connectionString: server.url });
    await c.connect();
    try {
      expect((await c.query('SELECT datcollate FROM pg_database WHERE datname = current_database()')).rows[0]).toEqual({ datcollate: 'C' });
    } finally {
      await c.end();
    }
    const a = await shared.database();
    const b = await shared.database();
    expect(a).not.toBe(b);
    expect(await setting(a, 'server_encoding')).toBe('UTF8');
  });

  it('has an explicitly faster variant without fsync; stop removes the server and its directory, and is safe twice', async () => {
    const server = await startPostgresServer({ durable: false });
    try {
      expect(await setting(server.url, 'fsync')).toBe('off');
    } finally {
      await server.stop();
      await server.stop();
    }
    expect(existsSync(server.dataDir)).toBe(false);
    expect(existsSync(server.socketDir)).toBe(false);
    expect(() => process.kill(server.pid, 0)).toThrow();
  });
});
