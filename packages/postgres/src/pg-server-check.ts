import type { SqlReader } from '@scribe/store';

/** The oldest PostgreSQL major version scribe accepts: its DDL uses `CREATE TRIGGER … EXECUTE FUNCTION` (11). Tested: 15 and 18. */
export const MIN_POSTGRES_MAJOR = 11;

/** What the server says about itself: `version()` and `server_version_num`. */
export interface PgServerVersion {
  readonly version: string;
  readonly versionNum: number;
}

/**
 * Why scribe cannot run on this server, or undefined when it can. CockroachDB speaks
 * PostgreSQL's protocol but its `pg_advisory_lock` takes no lock and it has no
 * LISTEN/NOTIFY: migrations could run twice and the change feed would only poll, so
 * it is refused rather than half-working. Servers older than {@link MIN_POSTGRES_MAJOR}
 * lack parts of the schema's DDL.
 */
export function unsupportedServer(server: PgServerVersion): string | undefined {
  if (/cockroach/i.test(server.version)) {
    return `the server is CockroachDB (${server.version.split('\n')[0]}); scribe needs PostgreSQL: CockroachDB's advisory locks take no lock and it has no LISTEN/NOTIFY`;
  }
  const major = Math.floor(server.versionNum / 10_000);
  if (!Number.isInteger(major) || major < MIN_POSTGRES_MAJOR) {
    return `the server is PostgreSQL ${server.versionNum > 0 ? major : 'of an unknown version'}; scribe needs PostgreSQL ${MIN_POSTGRES_MAJOR} or newer`;
  }
  return undefined;
}

/** Reads the server's version (one query). */
export async function pgServerVersion(reader: SqlReader): Promise<PgServerVersion> {
  const row = await reader.get<{ version: string; num: string | number }>("SELECT version() AS version, current_setting('server_version_num') AS num");
  return { version: row?.version ?? '', versionNum: Number(row?.num ?? 0) };
}
