// A real, throwaway PostgreSQL server: a fresh cluster in a temp directory, listening
// only on a unix socket in that directory (owner-only), stopped and removed on stop().
// One definition for the tests (test/helpers/postgres-server.ts adds vitest's
// beforeAll/afterAll around it) and the benchmark (scripts/bench.js). Types:
// postgres-server.d.ts beside this file.
//
// The binaries are the system's (Debian's `postgresql` package; `.ci/run` installs it
// when missing): `$SCRIBE_PG_BINDIR`, else the newest `/usr/lib/postgresql/N/bin`,
// else `/usr/local/pgsql/bin`, else `initdb` on the PATH. `initdb` and `postgres`
// refuse to run as root, so as root the cluster belongs to an unprivileged user
// (`$SCRIBE_PG_USER`, else `postgres`, which Debian's package creates, else `nobody`)
// and the server is started through `setpriv` (util-linux), which also gives it a
// parent-death signal: a process killed with -9 does not leave a server behind.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The directory holding `initdb` and `postgres`, or undefined when none is installed. */
export const POSTGRES_BINDIR = findBindir();

/** True when a PostgreSQL server can be started here. */
export const hasPostgres = POSTGRES_BINDIR !== undefined;

/** The role clients connect as (a superuser of the throwaway cluster). */
export const TEST_ROLE = 'scribe';

/** What to install (or set) when no server can be started here. */
export const NO_POSTGRES_MESSAGE = "no PostgreSQL binaries found (install Debian's postgresql package, or set SCRIBE_PG_BINDIR)";

function findBindir() {
  const env = process.env['SCRIBE_PG_BINDIR'];
  if (env !== undefined && env !== '') return existsSync(join(env, 'initdb')) ? env : undefined;
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v) && existsSync(join(debian, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(debian, versions[0], 'bin');
  }
  if (existsSync('/usr/local/pgsql/bin/initdb')) return '/usr/local/pgsql/bin';
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  const found = which.status === 0 ? which.stdout.trim() : '';
  return found === '' ? undefined : found.replace(/\/initdb$/, '');
}

/** As root: the unprivileged user that owns the cluster, with its uid and gid. */
function clusterUser() {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of [process.env['SCRIBE_PG_USER'], 'postgres', 'nobody']) {
    if (name === undefined || name === '') continue;
    const id = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (id.status === 0 && gid.status === 0) return { name, uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
  }
  throw new Error('postgres-server: running as root and found no unprivileged user to own the cluster (set SCRIBE_PG_USER)');
}

/** util-linux's setpriv (Debian has it in its essential set); without it a normal user runs the binaries directly. */
const SETPRIV = process.platform === 'linux' && spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).status === 0;

/** The command line that runs `bin` as the cluster's owner (setpriv as root), dying with its parent. */
function asOwner(user, bin, args, pdeathsig) {
  if (user === undefined) {
    // setpriv is Linux-only; elsewhere a normal user runs the binaries directly.
    if (pdeathsig && SETPRIV) return ['setpriv', ['--pdeathsig', 'SIGQUIT', '--', bin, ...args]];
    return [bin, args];
  }
  if (!SETPRIV) throw new Error('postgres-server: running as root needs setpriv (util-linux) to run the cluster as an unprivileged user');
  const drop = ['--reuid', String(user.uid), '--regid', String(user.gid), '--clear-groups'];
  return ['setpriv', [...drop, ...(pdeathsig ? ['--pdeathsig', 'SIGQUIT'] : []), '--', bin, ...args]];
}

/** A TCP port nobody listens on right now (the server binds it a moment later). */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Makes a certificate authority and a server certificate for `localhost`/127.0.0.1 in
 * `root` (with `openssl`), and a `pg_hba.conf` that accepts TCP only over TLS with a
 * password. Returns the server settings that use them and the authority's PEM.
 */
function makeTlsFiles(root, user) {
  const openssl = (args) => {
    const r = spawnSync('openssl', args, { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`postgres-server: openssl ${args[0]} failed: ${r.stderr || String(r.error)}`);
  };
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=scribe test CA', '-keyout', 'ca.key', '-out', 'ca.crt']);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr']);
  writeFileSync(join(root, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'server.ext', '-out', 'server.crt']);
  writeFileSync(
    join(root, 'pg_hba.conf'),
    ['local all all trust', 'hostssl all all 127.0.0.1/32 scram-sha-256', 'hostnossl all all 0.0.0.0/0 reject', ''].join('\n'),
  );
  for (const f of ['server.key', 'server.crt', 'pg_hba.conf']) {
    // The server refuses a key others can read; as root the files belong to the cluster's user.
    chmodSync(join(root, f), 0o600);
    if (user !== undefined) chownSync(join(root, f), user.uid, user.gid);
  }
  return {
    settings: {
      ssl: 'on',
      ssl_cert_file: join(root, 'server.crt'),
      ssl_key_file: join(root, 'server.key'),
      hba_file: join(root, 'pg_hba.conf'),
      password_encryption: 'scram-sha-256',
    },
    ca: readFileSync(join(root, 'ca.crt'), 'utf8'),
  };
}

/** Keeps the last few KB of a stream, for the message of a failed start. */
function tail(limit = 8192) {
  let text = '';
  return {
    push: (chunk) => {
      text = (text + chunk.toString('utf8')).slice(-limit);
    },
    text: () => text,
  };
}

/** Starts a fresh cluster. Rejects (with the server's own output) when it cannot. See postgres-server.d.ts. */
export async function startPostgresServer(options = {}) {
  if (POSTGRES_BINDIR === undefined) throw new Error(`postgres-server: ${NO_POSTGRES_MESSAGE}`);
  const bindir = POSTGRES_BINDIR;
  const user = clusterUser();
  const root = mkdtempSync(join(tmpdir(), 'scribe-pg-'));
  const dataDir = join(root, 'data');
  const socketDir = root; // mode 0700 (mkdtemp): only its owner (and root) can reach the socket
  const removeRoot = () => rmSync(root, { recursive: true, force: true });
  try {
    if (user !== undefined) chownSync(root, user.uid, user.gid);
    const [cmd, args] = asOwner(
      user,
      join(bindir, 'initdb'),
      // The C locale: byte-order text comparison, the same order as SQLite's BINARY collation.
      // --no-sync: initdb's own flush of the new cluster guards against a machine crash in the
      // next seconds, which a throwaway cluster does not outlive anyway; the server itself
      // runs with fsync on (a killed process loses nothing the OS page cache holds).
      ['-D', dataDir, '-U', TEST_ROLE, '--auth-local=trust', '--auth-host=reject', '-E', 'UTF8', '--no-locale', '--no-instructions', '--no-sync'],
      false,
    );
    const init = spawnSync(cmd, args, { encoding: 'utf8', cwd: root });
    if (init.status !== 0) throw new Error(`postgres-server: initdb failed (${init.status}): ${init.stderr || init.stdout || String(init.error)}`);
  } catch (e) {
    removeRoot();
    throw e;
  }

  // Without TLS the port is only the socket file's name: the server listens on no TCP address.
  const tcpPort = options.tls === true ? await freePort() : undefined;
  const port = tcpPort ?? 5432;
  let tlsSettings = {};
  let ca = '';
  const password = randomBytes(12).toString('hex');
  if (options.tls === true) {
    try {
      ({ settings: tlsSettings, ca } = makeTlsFiles(root, user));
    } catch (e) {
      removeRoot();
      throw e;
    }
  }
  const settings = {
    listen_addresses: tcpPort === undefined ? '' : '127.0.0.1',
    ...tlsSettings,
    unix_socket_directories: socketDir,
    unix_socket_permissions: '0700',
    port,
    fsync: options.durable === false ? 'off' : 'on',
    synchronous_commit: options.durable === false ? 'off' : 'on',
    full_page_writes: options.durable === false ? 'off' : 'on',
    max_connections: 100,
    shared_buffers: '32MB',
    lc_messages: 'C',
    logging_collector: 'off',
    ...options.settings,
  };
  /** A URL of the named database over the unix socket. */
  function urlOf(database) {
    return `postgresql://${TEST_ROLE}@localhost:${port}/${encodeURIComponent(database)}?host=${encodeURIComponent(socketDir)}`;
  }
  const serverArgs = ['-D', dataDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const [cmd, args] = asOwner(user, join(bindir, 'postgres'), serverArgs, true);
  let child;
  let exited;
  const launch = async () => {
    child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: root });
    const log = tail();
    child.stderr?.on('data', (chunk) => log.push(chunk));
    exited = new Promise((resolve) => child.once('exit', () => resolve()));

    const ready = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 30_000);
      const onData = () => {
        if (log.text().includes('ready to accept connections')) {
          clearTimeout(timer);
          child.stderr?.off('data', onData);
          resolve(true);
        }
      };
      child.stderr?.on('data', onData);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (!ready) {
      child.kill('SIGKILL');
      await exited;
      removeRoot();
      throw new Error(`postgres-server: the server did not start:\n${log.text()}`);
    }
  };
  await launch();
  if (options.tls === true) {
    const admin = new pg.Client({ connectionString: urlOf('postgres') });
    await admin.connect();
    try {
      await admin.query(`ALTER ROLE ${TEST_ROLE} PASSWORD ${pg.escapeLiteral(password)}`);
    } finally {
      await admin.end();
    }
  }
  const shutdown = async (signal) => {
    if (child.exitCode === null && child.signalCode === null) {
      // SIGINT: fast shutdown (disconnects clients, no waiting for them, a checkpoint);
      // SIGQUIT: immediate shutdown (no checkpoint: for a cluster about to be removed).
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
  };

  const url = urlOf('postgres');
  let stopped;
  let databases = 0;
  const durable = options.durable !== false;
  return {
    url,
    socketDir,
    dataDir,
    get pid() {
      return child.pid ?? -1;
    },
    owner: user === undefined ? undefined : { uid: user.uid, gid: user.gid },
    settings: Object.freeze({ ...settings }),
    urlOf,
    tls:
      tcpPort === undefined
        ? undefined
        : {
            host: '127.0.0.1',
            port: tcpPort,
            ca,
            password,
            urlOf: (database) => `postgresql://${TEST_ROLE}:${password}@127.0.0.1:${tcpPort}/${encodeURIComponent(database)}`,
          },
    async createDatabase(options) {
      const { name, icuLocale, template } = typeof options === 'string' ? { name: options, icuLocale: undefined, template: undefined } : (options ?? {});
      const db = name ?? `t${process.pid}_${++databases}_${randomBytes(3).toString('hex')}`;
      const locale = icuLocale === undefined ? '' : ` LOCALE_PROVIDER icu ICU_LOCALE ${pg.escapeLiteral(icuLocale)} LOCALE 'C'`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        // A copy of a template: file by file (a checkpoint first, cheap without fsync) on the
        // faster variant; through the WAL on a durable cluster, where a checkpoint per copy costs seconds.
        const strategy = template === undefined ? '' : ` STRATEGY ${durable ? 'WAL_LOG' : 'FILE_COPY'}`;
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(db)} TEMPLATE ${pg.escapeIdentifier(template ?? 'template0')} ENCODING 'UTF8'${locale}${strategy}`);
      } finally {
        await client.end();
      }
      return urlOf(db);
    },
    stop() {
      stopped ??= (async () => {
        // The data is removed next: no shutdown checkpoint (after many test databases on a
        // durable cluster it takes tens of seconds on a loaded machine).
        await shutdown('SIGQUIT');
        removeRoot();
      })();
      return stopped;
    },
    async halt() {
      await shutdown('SIGINT');
      return { start: launch };
    },
  };
}
