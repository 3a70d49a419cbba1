import type pg from 'pg';
import type { Logger } from 'pino';

/**
 * Runs `work` on a connection checked out of `pool` and gives it back. While the
 * connection is out, an error it emits (the server ended it, the socket dropped) is
 * logged instead of crashing the process (node-postgres emits `error` on a client with
 * no listener, and the pool listens only to idle ones); the query in flight rejects
 * on its own. A connection whose work threw is destroyed, not reused: its session may
 * be mid-transaction or gone.
 */
export async function withConnection<T>(pool: pg.Pool, log: Logger | undefined, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const onError = (error: Error & { code?: string }): void => {
    log?.warn({ code: error.code }, 'postgres: a connection in use failed; its work fails and the connection is discarded');
  };
  client.on('error', onError);
  let failed = false;
  try {
    return await work(client);
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    client.off('error', onError);
    client.release(failed);
  }
}
