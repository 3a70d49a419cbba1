import { existsSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { runPostgresTests, startPostgresServer } from '../../../test/helpers/postgres-server.js';

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
  it('runs durable by default, on a unix socket only, and stop removes it (twice is fine)', async () => {
    const server = await startPostgresServer();
    try {
      expect(await setting(server.url, 'fsync')).toBe('on');
      expect(await setting(server.url, 'synchronous_commit')).toBe('on');
      expect(await setting(server.url, 'listen_addresses')).toBe('');
      expect(await setting(server.url, 'lc_collate')).toBe('C');
      const a = await server.createDatabase();
      const b = await server.createDatabase();
      expect(a).not.toBe(b);
      expect(await setting(a, 'server_encoding')).toBe('UTF8');
    } finally {
      await server.stop();
      await server.stop();
    }
    expect(existsSync(server.dataDir)).toBe(false);
    expect(existsSync(server.socketDir)).toBe(false);
    expect(() => process.kill(server.pid, 0)).toThrow();
  });

  it('has an explicitly faster variant without fsync', async () => {
    const server = await startPostgresServer({ durable: false });
    try {
      expect(await setting(server.url, 'fsync')).toBe('off');
    } finally {
      await server.stop();
    }
  });
});
