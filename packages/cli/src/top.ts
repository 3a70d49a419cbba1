import { RPC_METHODS, WriteError, type ClusterStatus } from '@scribe/protocol';
import { readDiscovery, resolveRuntimePaths } from '@scribe/node';
import { RpcClient } from '@scribe/transport';
import { HttpTopSource } from './top-http-source.js';
import { renderTop, type TopView } from './top-render.js';

/** How often `scribe top` refreshes. */
export const TOP_REFRESH_MS = 1_000;

/** Options of {@link runTop}. */
export interface TopOptions {
  db: string;
  /** Watch this node's `/status.json` instead of asking the primary of `db` (peers of a PostgreSQL server). */
  http?: { host: string; port: number } | undefined;
  /** Print one frame without escapes and exit (for scripts). */
  once: boolean;
  /** How long to wait for the primary each refresh. */
  timeoutMs: number;
  curve?: { publicKey: string; secretKey: string } | undefined;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
}

/** Where `scribe top` gets its views: the primary of a file ({@link TopSource}) or a node's listener ({@link HttpTopSource}). */
export interface TopViewSource {
  view(): Promise<TopView>;
  close(): Promise<void>;
}

/**
 * Asks the primary named in the discovery file for `db.status`, following a new
 * primary as soon as the discovery file names one.
 */
export class TopSource implements TopViewSource {
  readonly #db: string;
  readonly #timeoutMs: number;
  readonly #curve: TopOptions['curve'];
  #client: { router: string; client: RpcClient } | undefined;

  constructor(db: string, timeoutMs: number, curve?: TopOptions['curve']) {
    this.#db = db;
    this.#timeoutMs = timeoutMs;
    this.#curve = curve;
  }

  /** The database path as the cluster knows it. */
  get dbPath(): string {
    return resolveRuntimePaths(this.#db).dbPath;
  }

  /** One view: the primary's status, or in words why there is none. */
  async view(): Promise<TopView> {
    const paths = resolveRuntimePaths(this.#db);
    const discovery = readDiscovery(paths.discoveryPath);
    if (discovery === undefined) {
      await this.close();
      return { ok: false, db: paths.dbPath, reason: `no primary answers: no scribe cluster runs on ${paths.dbPath} (no primary has published itself)` };
    }
    if (this.#client?.router !== discovery.router) {
      await this.close();
      const c = this.#curve;
      const client = new RpcClient({
        endpoint: discovery.router,
        defaultTimeoutMs: this.#timeoutMs,
        ...(c === undefined ? {} : { curve: { serverKey: c.publicKey, publicKey: c.publicKey, secretKey: c.secretKey } }),
      });
      client.connect();
      this.#client = { router: discovery.router, client };
    }
    try {
      const status = await this.#client.client.call<ClusterStatus>(RPC_METHODS.status, null, { timeoutMs: this.#timeoutMs });
      return { ok: true, db: paths.dbPath, status };
    } catch (e) {
      const code = e instanceof WriteError ? e.code : 'INTERNAL';
      return {
        ok: false,
        db: paths.dbPath,
        reason: `no primary answers: the primary named in the discovery file (${discovery.instance_id}, pid ${discovery.pid}, epoch ${discovery.epoch}) did not answer (${code})`,
      };
    }
  }

  /** Closes the connection. Safe to call twice. */
  async close(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    await c?.client.close().catch(() => undefined);
  }
}

/**
 * `scribe top`: the cluster's status in the terminal, refreshed in place once a
 * second until `q` or Ctrl-C; with `once`, one plain frame. Resolves with the exit
 * code: 0, or 1 when `once` found no answering primary.
 */
export async function runTop(options: TopOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stdin = options.stdin ?? process.stdin;
  const source: TopViewSource = options.http === undefined ? new TopSource(options.db, options.timeoutMs, options.curve) : new HttpTopSource(options.http, options.timeoutMs);
  try {
    if (options.once) {
      const view = await source.view();
      const lines = renderTop(view, { columns: 200, rows: 200, color: false });
      stdout.write(`${lines.join('\n')}\n`);
      return view.ok ? 0 : 1;
    }
    if (!stdout.isTTY) {
      process.stderr.write('scribe top: the output is not a terminal; use --once for scripts\n');
      return 2;
    }
    return await interactive(source, stdin, stdout);
  } finally {
    await source.close();
  }
}

async function interactive(source: TopViewSource, stdin: NodeJS.ReadStream, stdout: NodeJS.WriteStream): Promise<number> {
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const onKey = (data: Buffer | string): void => {
    const s = data.toString();
    if (s.includes('q') || s.includes('Q') || s.includes('\x03')) stop();
  };
  const onSignal = (): void => stop();
  let view: TopView | undefined;
  const draw = (): void => {
    if (view === undefined) return;
    const lines = renderTop(view, { columns: stdout.columns || 100, rows: (stdout.rows || 40) - 1, color: true });
    lines.push('\x1b[2mq or Ctrl-C to quit\x1b[22m');
    stdout.write(`\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\n')}\x1b[J`);
  };
  // Alternate screen, cursor hidden; both undone on the way out.
  stdout.write('\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J');
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.on('data', onKey);
  stdin.resume();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  stdout.on('resize', draw);
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  const refresh = async (): Promise<void> => {
    view = await source.view();
    if (done) return;
    draw();
    timer = setTimeout(() => void refresh(), TOP_REFRESH_MS);
  };
  try {
    void refresh();
    await stopped;
  } finally {
    done = true;
    if (timer !== undefined) clearTimeout(timer);
    stdout.off('resize', draw);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    stdin.off('data', onKey);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
    stdout.write('\x1b[?25h\x1b[?1049l');
  }
  return 0;
}
