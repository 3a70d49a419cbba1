// Types of postgres-server.js (a plain ES module so scripts/bench.js can run it without a build).

/** The directory holding `initdb` and `postgres`, or undefined when none is installed. */
export declare const POSTGRES_BINDIR: string | undefined;

/** True when a PostgreSQL server can be started here. */
export declare const hasPostgres: boolean;

/** The role clients connect as (a superuser of the throwaway cluster). */
export declare const TEST_ROLE: 'scribe';

/** What to install (or set) when no server can be started here. */
export declare const NO_POSTGRES_MESSAGE: string;

/** Options of {@link startPostgresServer}. */
export interface PostgresServerOptions {
  /**
   * `fsync` and `synchronous_commit` of the cluster. On by default: scribe's guarantees
   * are about durability and the tests should run with them. `false` is the explicitly
   * faster variant for tests that only check SQL shapes.
   */
  readonly durable?: boolean;
  /** Extra `-c name=value` settings of the server. */
  readonly settings?: Readonly<Record<string, string | number>>;
  /**
   * Also listen on 127.0.0.1 (a free port), for TLS only: a certificate authority and a
   * server certificate for `localhost` and 127.0.0.1 are made with `openssl`, the role gets
   * a password, and `pg_hba.conf` accepts TCP connections only over TLS with that password
   * (SCRAM); a connection without TLS is refused. See {@link PostgresServer.tls}.
   */
  readonly tls?: boolean;
}

/** How to reach a server started with `tls: true` over TCP. */
export interface PostgresTls {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The PEM of the authority that signed the server's certificate (for `ssl: { ca }`). */
  readonly ca: string;
  /** The password of {@link TEST_ROLE} (required over TCP). */
  readonly password: string;
  /** A TCP URL of the named database, with the password (TLS options are given apart). */
  urlOf(database: string): string;
}

/** A running throwaway server. */
export interface PostgresServer {
  /** The server's `postgres` database (for administration: CREATE DATABASE and such). */
  readonly url: string;
  /** The unix socket directory (the host part of every URL). */
  readonly socketDir: string;
  /** The data directory. */
  readonly dataDir: string;
  /** The server process id. */
  readonly pid: number;
  /** The uid and gid the cluster runs as, when not this process's (as root); for a directory the server must own (a tablespace). */
  readonly owner: { readonly uid: number; readonly gid: number } | undefined;
  /** The `-c` settings the server was started with (the defaults and {@link PostgresServerOptions.settings}). */
  readonly settings: Readonly<Record<string, string | number>>;
  /** A URL of the named database on this server. */
  urlOf(database: string): string;
  /** TCP with TLS, when started with `tls: true`. */
  readonly tls: PostgresTls | undefined;
  /**
   * Creates a fresh, empty database and returns its URL. By default it has the
   * cluster's C locale; `icuLocale` (`en-US`) gives it a linguistic default collation,
   * as many production servers have, to show what does not depend on the locale.
   * `template` copies another database of the server (one nobody is connected to):
   * a schema migrated once for many tests.
   */
  createDatabase(options?: string | { readonly name?: string; readonly icuLocale?: string; readonly template?: string }): Promise<string>;
  /** Stops the server (immediate shutdown) and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
  /**
   * Stops the server (fast shutdown: clients are disconnected with 57P01) and keeps its
   * data; the returned `start` brings it back on the same socket with the same data.
   */
  halt(): Promise<{ start: () => Promise<void> }>;
}

/** Starts a fresh cluster (a temp directory, a unix socket only). Rejects (with the server's own output) when it cannot. */
export declare function startPostgresServer(options?: PostgresServerOptions): Promise<PostgresServer>;
