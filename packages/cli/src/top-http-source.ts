import type { StatusReport } from '@scribe/node';
import type { TopView } from './top-render.js';

/**
 * `scribe top --http HOST:PORT`: reads any node's `/status.json` (the view its status
 * page shows), which is how `top` watches peers of a PostgreSQL server (they have no
 * discovery file and no sockets); it works against a SQLite node's listener too.
 */
export class HttpTopSource {
  readonly #base: string;
  readonly #timeoutMs: number;

  constructor(address: { host: string; port: number }, timeoutMs: number) {
    this.#base = `http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
    this.#timeoutMs = timeoutMs;
  }

  /** One view: the node's status, or in words why there is none. */
  async view(): Promise<TopView> {
    let report: StatusReport;
    try {
      const res = await fetch(`${this.#base}/status.json`, { signal: AbortSignal.timeout(this.#timeoutMs) });
      if (!res.ok) return { ok: false, db: this.#base, reason: `${this.#base}/status.json answered HTTP ${res.status}` };
      report = (await res.json()) as StatusReport;
    } catch (e) {
      const why = e instanceof Error && e.name === 'TimeoutError' ? `no answer within ${this.#timeoutMs} ms` : 'no answer';
      return { ok: false, db: this.#base, reason: `the node at ${this.#base} does not answer (${why})` };
    }
    const where = report.cluster?.server ?? this.#base;
    if (report.cluster === null) return { ok: false, db: where, reason: report.problem ?? 'no view' };
    return { ok: true, db: where, status: report.cluster, ...(report.problem === null ? {} : { problem: report.problem }) };
  }

  /** Nothing to close (each view is one request). */
  async close(): Promise<void> {}
}
