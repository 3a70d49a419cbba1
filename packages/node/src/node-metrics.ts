import { readFileSync, statSync } from 'node:fs';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { UNKNOWN_METHOD } from '@scribe/coordinator';
import { isWriteError, type Role } from '@scribe/protocol';

/** The version of `@scribe/node` (its package.json ships beside `dist/`), for `scribe_build_info`. */
export const NODE_PACKAGE_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
})();

/** What the metrics read from a node at scrape time. */
export interface MetricsSource {
  role(): Role | undefined;
  epoch(): number;
  /** The coordinator's counters, when this node is primary. */
  coordinator(): { queueDepth: number; outcomes: Array<{ method: string; outcome: string; count: number }> } | undefined;
  /** Promotions and primary changes this node has seen. */
  failovers(): number;
  /** The database's WAL file. */
  walPath: string;
}

/**
 * The node's Prometheus metrics, in a registry of its own (several nodes in one
 * process do not collide), every series labelled `node="<instance id>"` (not
 * `instance`, which Prometheus sets to the scrape target). Counters that the
 * coordinator keeps are read at scrape time; batch sizes and commit latencies are
 * observed as batches commit. The registry also holds prom-client's default process
 * and Node.js metrics and `scribe_build_info`.
 */
export class NodeMetrics {
  readonly registry = new Registry();
  readonly #batchSize: Histogram;
  readonly #commitSeconds: Histogram;
  /** Writes refused before they reached the coordinator (malformed requests), by method and code. */
  readonly #refused = new Map<string, number>();

  constructor(source: MetricsSource, labels: { node: string }) {
    this.registry.setDefaultLabels(labels);
    collectDefaultMetrics({ register: this.registry });
    const r = [this.registry];
    const refused = this.#refused;
    new Gauge({
      name: 'scribe_build_info',
      help: 'Always 1; the version label is the @scribe/node version this node runs.',
      labelNames: ['version'],
      registers: r,
    }).set({ version: NODE_PACKAGE_VERSION }, 1);
    new Counter({
      name: 'scribe_writes_total',
      help: 'Writes settled by this primary, by write name and code: ok, or the error code, including writes refused before the queue (OVERLOADED, INVALID_PARAMS, SHUTTING_DOWN, ...).',
      labelNames: ['method', 'code'],
      registers: r,
      collect() {
        this.reset();
        for (const o of source.coordinator()?.outcomes ?? []) this.inc({ method: o.method, code: o.outcome }, o.count);
        for (const [key, count] of refused) {
          const [method, code] = JSON.parse(key) as [string, string];
          this.inc({ method, code }, count);
        }
      },
    });
    new Gauge({
      name: 'scribe_queue_depth',
      help: 'Writes waiting in the primary coordinator queue (0 on a secondary).',
      registers: r,
      collect() {
        this.set(source.coordinator()?.queueDepth ?? 0);
      },
    });
    this.#batchSize = new Histogram({
      name: 'scribe_batch_size',
      help: 'Writes per committed transaction (group commit).',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers: r,
    });
    this.#commitSeconds = new Histogram({
      name: 'scribe_commit_seconds',
      help: 'Time to run and commit one batch transaction.',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
      registers: r,
    });
    new Gauge({
      name: 'scribe_role',
      help: '1 for the role this node has now, 0 for the other.',
      labelNames: ['role'],
      registers: r,
      collect() {
        const role = source.role();
        this.set({ role: 'primary' }, role === 'primary' ? 1 : 0);
        this.set({ role: 'secondary' }, role === 'secondary' ? 1 : 0);
        if (role === 'peer') this.set({ role: 'peer' }, 1);
      },
    });
    new Gauge({
      name: 'scribe_epoch',
      help: 'The primary epoch this node knows (grows on every promotion).',
      registers: r,
      collect() {
        this.set(source.epoch());
      },
    });
    new Counter({
      name: 'scribe_failovers_total',
      help: 'Promotions of this node and changes of primary it followed.',
      registers: r,
      collect() {
        this.reset();
        this.inc(source.failovers());
      },
    });
    new Gauge({
      name: 'scribe_wal_bytes',
      help: 'Size of the database WAL file.',
      registers: r,
      collect() {
        let size = 0;
        try {
          size = statSync(source.walPath).size;
        } catch {
          size = 0;
        }
        this.set(size);
      },
    });
  }

  /**
   * Counts a `db.write` refused before it reached the coordinator (a request that
   * could not be parsed). The method label is the write's name only when `known`
   * says it is registered: caller text never becomes a label value.
   */
  countRefused(error: unknown, known: (method: string) => boolean): void {
    const code = isWriteError(error) ? error.code : 'INTERNAL';
    const named = isWriteError(error) ? error.method : null;
    const key = JSON.stringify([named !== null && known(named) ? named : UNKNOWN_METHOD, code]);
    this.#refused.set(key, (this.#refused.get(key) ?? 0) + 1);
  }

  /** Records one committed batch. */
  observeBatch(size: number, durationMs: number): void {
    this.#batchSize.observe(size);
    this.#commitSeconds.observe(durationMs / 1000);
  }
}
