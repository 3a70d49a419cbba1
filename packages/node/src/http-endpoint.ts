import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { isLoopbackHost } from '@scribe/transport';
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML } from './status-page.js';

/** Where the optional HTTP listener binds. */
export interface HttpOptions {
  /** Default 127.0.0.1. A non-loopback host needs `allowRemote`. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Allow binding a non-loopback address (the endpoints carry no authentication). */
  allowRemote?: boolean;
}

/** What the listener serves. */
export interface HttpSource {
  /** Whether the node can do its job, and why not. */
  health(): Promise<{ ok: boolean; reason: string; role: string | undefined }>;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** What `/status.json` answers (the status page at `/` polls it); without it both are 404. */
  status?(): Promise<unknown>;
}

/**
 * True for loopback host names and addresses; the transport's
 * {@link isLoopbackHost} under its older name (one definition).
 */
export const isLoopback: (host: string) => boolean = isLoopbackHost;

/**
 * The node's HTTP listener: `GET /healthz` (200 or 503, JSON `{ ok, role, reason }`),
 * `GET /metrics` (Prometheus text), and the status page `GET /` with its data
 * `GET /status.json`. Anything else is 404; a method other than GET is 405.
 */
export class HttpEndpoint {
  readonly #server: Server;
  readonly #options: Required<Pick<HttpOptions, 'host' | 'port'>>;
  #address: { host: string; port: number } | undefined;

  constructor(options: HttpOptions, source: HttpSource, log: Logger) {
    const host = options.host ?? '127.0.0.1';
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
      throw new TypeError(`Expected 'http.port' to be a port number from 0 to 65535, got ${String(options.port)}`);
    }
    if (!isLoopback(host) && options.allowRemote !== true) {
      throw new TypeError(
        `Expected 'http.host' to be a loopback address (127.0.0.1, ::1), got ${host}; set allowRemote (--http-allow-remote) to expose health and metrics beyond this machine`,
      );
    }
    this.#options = { host, port: options.port };
    this.#server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET') {
        res.writeHead(405, { allow: 'GET' }).end();
        return;
      }
      const reply = async (): Promise<void> => {
        if (source.status !== undefined && (path === '/' || path === '/status.json')) {
          await serveStatus(path, req.headers.host, this.#options.host, source.status.bind(source), res);
        } else if (path === '/healthz') {
          const h = await source.health();
          res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' });
          res.end(`${JSON.stringify(h)}\n`);
        } else if (path === '/metrics') {
          const m = await source.metrics();
          res.writeHead(200, { 'content-type': m.contentType });
          res.end(m.body);
        } else {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /, /status.json, /healthz or /metrics\n');
        }
      };
      reply().catch((e: unknown) => {
        log.error({ err: e, path }, 'http handler failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      });
    });
  }

  /** The bound address (after {@link listen}). */
  get address(): { host: string; port: number } | undefined {
    return this.#address;
  }

  /** The bound address as a URL (`http://127.0.0.1:9464`, `http://[::1]:9464`), what members report; null before {@link listen}. */
  get url(): string | null {
    const a = this.#address;
    if (a === undefined) return null;
    return `http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
  }

  /** Binds; rejects with an error naming the address when it cannot (in use, not permitted). */
  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(new Error(`http: listen on ${this.#options.host}:${this.#options.port}`, { cause: e }));
      this.#server.once('error', onError);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off('error', onError);
        const a = this.#server.address() as AddressInfo;
        this.#address = { host: a.address, port: a.port };
        resolve(this.#address);
      });
    });
  }

  /** Stops listening. Safe to call twice. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) return resolve();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

/**
 * The status page and its data. On a loopback listener they answer only requests
 * addressed to a loopback name, so a web page that rebinds its own domain to
 * 127.0.0.1 cannot read the cluster's status from the operator's browser.
 */
async function serveStatus(
  path: string,
  hostHeader: string | undefined,
  boundHost: string,
  status: () => Promise<unknown>,
  res: ServerResponse,
): Promise<void> {
  const asked = (hostHeader ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  if (isLoopback(boundHost) && !isLoopback(asked)) {
    res.writeHead(421, { 'content-type': 'text/plain' }).end(`misdirected: this listener answers for loopback names only, not ${asked || 'no host'}\n`);
    return;
  }
  if (path === '/') {
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': STATUS_PAGE_CSP,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
    res.end(STATUS_PAGE_HTML);
    return;
  }
  const body = await status();
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(`${JSON.stringify(body)}\n`);
}
