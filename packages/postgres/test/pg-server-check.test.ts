import { describe, expect, it } from 'vitest';
import { MIN_POSTGRES_MAJOR, PgStore, pgServerVersion, unsupportedServer } from '../src/index.js';
import { PgSqlTx, createPgPool } from '../src/index.js';
import { runPostgresTests, usePostgres } from '../../../test/helpers/postgres-server.js';

const server = usePostgres({ durable: false });

describe('unsupportedServer', () => {
  it('refuses CockroachDB (advisory locks that take no lock, no LISTEN) and servers older than the minimum, saying why', () => {
    expect(unsupportedServer({ version: 'CockroachDB CCL v24.1.0 (x86_64-pc-linux-gnu, built 2024/05/15, go1.22.2)', versionNum: 130000 })).toMatch(
      /CockroachDB .*advisory locks take no lock .*no LISTEN\/NOTIFY/,
    );
    expect(unsupportedServer({ version: 'PostgreSQL 10.23 on x86_64-pc-linux-gnu', versionNum: 100023 })).toBe(
      `the server is PostgreSQL 10; scribe needs PostgreSQL ${MIN_POSTGRES_MAJOR} or newer`,
    );
    expect(unsupportedServer({ version: '', versionNum: 0 })).toMatch(/unknown version/);
    expect(unsupportedServer({ version: 'PostgreSQL 15.8 (Debian 15.8-0+deb12u1)', versionNum: 150008 })).toBeUndefined();
    expect(unsupportedServer({ version: 'PostgreSQL 18.4 on x86_64-pc-linux-gnu', versionNum: 180004 })).toBeUndefined();
  });
});

describe.runIf(runPostgresTests)('on the test server', () => {
  it('reads the version of a real server, which is supported, and PgStore opens on it', async () => {
    const url = await server.database();
    const pool = createPgPool({ url });
    try {
      const v = await pgServerVersion(new PgSqlTx(pool));
      expect(v.version).toMatch(/^PostgreSQL \d+/);
      expect(v.versionNum).toBeGreaterThanOrEqual(MIN_POSTGRES_MAJOR * 10_000);
      expect(unsupportedServer(v)).toBeUndefined();
    } finally {
      await pool.end();
    }
    const store = await PgStore.open({ url });
    await store.close();
  });
});
