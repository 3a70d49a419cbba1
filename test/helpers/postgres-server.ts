/**
 * A real PostgreSQL server for tests: the throwaway cluster of
 * `scripts/lib/postgres-server.js` (one definition, shared with the benchmark), started
 * once per test file ({@link usePostgres}); each test gets its own database, so suites
 * stay fast.
 */
import { afterAll, beforeAll } from 'vitest';
import { hasPostgres, startPostgresServer, type PostgresServer, type PostgresServerOptions } from '../../scripts/lib/postgres-server.js';

export { hasPostgres, POSTGRES_BINDIR, startPostgresServer, TEST_ROLE } from '../../scripts/lib/postgres-server.js';
export type { PostgresServer, PostgresServerOptions, PostgresTls } from '../../scripts/lib/postgres-server.js';

/**
 * Whether the PostgreSQL tests run: when the binaries are here, and always in CI
 * (`.ci/run` installs them, so a missing server there is a failure, not a skip).
 * Use it as `describe.runIf(runPostgresTests)`.
 */
export const runPostgresTests = hasPostgres || process.env['CI'] !== undefined;

/**
 * One server for the calling test file (started in `beforeAll`, stopped in
 * `afterAll`; nothing when {@link runPostgresTests} is false). `database()` gives each
 * test its own fresh database.
 */
export function usePostgres(options: PostgresServerOptions = {}): {
  server: () => PostgresServer;
  database: () => Promise<string>;
} {
  let server: PostgresServer | undefined;
  if (runPostgresTests) {
    beforeAll(async () => {
      server = await startPostgresServer(options);
    }, 60_000);
    afterAll(async () => {
      await server?.stop();
    }, 30_000);
  }
  const current = (): PostgresServer => {
    if (server === undefined) throw new Error('usePostgres: the server is not started (call it at the top of a test file)');
    return server;
  };
  return { server: current, database: () => current().createDatabase() };
}
