import type { Registry } from 'prom-client';
import type { StatusError, StatusSample } from '@scribe/protocol';

/** How many one-second samples the history keeps (five minutes). */
export const DEFAULT_STATUS_SAMPLES = 300;
/** How many seconds-with-errors the history keeps. */
export const DEFAULT_STATUS_ERRORS = 50;
/** How often the history samples the node's metrics. */
export const STATUS_SAMPLE_INTERVAL_MS = 1_000;

/** What the history reads, once a second, from the node. */
export interface StatusHistorySource {
  /** The node's Prometheus registry (`scribe_writes_total{method,code}`, `scribe_commit_seconds`, `scribe_batch_size`). */
  readonly registry: Registry;
  /** True while this node commits writes itself: a primary, or a peer of a PostgreSQL server (not a secondary). */
  commits(): boolean;
  /** Writes waiting in the coordinator queue now (0 on a secondary). */
  queueDepth(): number;
}

/** Options of {@link StatusHistory}. */
export interface StatusHistoryOptions {
  /** Samples kept; default {@link DEFAULT_STATUS_SAMPLES}. */
  samples?: number;
  /** Seconds-with-errors kept; default {@link DEFAULT_STATUS_ERRORS}. */
  errors?: number;
  /** Injected by tests. */
  clock?: () => number;
}

/** One value of a metric as prom-client's `get()` returns it. */
interface MetricValue {
  value: number;
  labels: Partial<Record<string, string | number>>;
  metricName?: string;
}

interface Totals {
  /** Count by `method\u0000outcome`. */
  writes: Map<string, number>;
  /** Cumulative commit-latency bucket counts by upper bound (seconds; Infinity last). */
  latency: Array<[number, number]>;
  batchSum: number;
  batchCount: number;
}

/**
 * The last minutes of the primary's (or a peer's own) write path, for the status page and `scribe top`.
 * It reads the counters the metrics registry already keeps, once a second, and
 * stores the differences: nothing is added to the write path itself.
 */
export class StatusHistory {
  readonly #source: StatusHistorySource;
  readonly #maxSamples: number;
  readonly #maxErrors: number;
  readonly #clock: () => number;
  readonly #samples: StatusSample[] = [];
  readonly #errors: StatusError[] = [];
  #last: { t: number; totals: Totals } | undefined;
  #lastWritesTotal = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #sampling = false;

  constructor(source: StatusHistorySource, options: StatusHistoryOptions = {}) {
    this.#source = source;
    this.#maxSamples = positiveInt('samples', options.samples, DEFAULT_STATUS_SAMPLES);
    this.#maxErrors = positiveInt('errors', options.errors, DEFAULT_STATUS_ERRORS);
    this.#clock = options.clock ?? Date.now;
  }

  /** Takes the baseline now and samples once a second (the timer does not keep the process alive). Safe to call twice. */
  start(): void {
    if (this.#timer !== undefined) return;
    void this.sampleSafely();
    this.#timer = setInterval(() => void this.sampleSafely(), STATUS_SAMPLE_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Stops sampling. Safe to call twice. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The samples, oldest first. */
  samples(): StatusSample[] {
    return this.#samples.slice();
  }

  /** The last seconds that had refused or failed writes, newest first. */
  recentErrors(): StatusError[] {
    return this.#errors.slice().reverse();
  }

  /** Refused and failed writes by error code, as the registry counts them now. */
  errorTotals(): Record<string, number> {
    const totals: Record<string, number> = {};
    for (const [k, n] of this.#lastWritesTotal) {
      const outcome = k.slice(k.indexOf('\u0000') + 1);
      if (outcome !== 'ok' && n > 0) totals[outcome] = (totals[outcome] ?? 0) + n;
    }
    return totals;
  }

  /** One sample, unless one is running; failures are dropped (the next second tries again). */
  async sampleSafely(): Promise<void> {
    if (this.#sampling) return;
    this.#sampling = true;
    try {
      await this.sample();
    } catch {
      // A sample that cannot be read leaves a gap; it never disturbs the node.
    } finally {
      this.#sampling = false;
    }
  }

  /** Reads the registry and appends one sample (the first call only sets the baseline). */
  async sample(): Promise<void> {
    const now = this.#clock();
    const totals = await this.#read();
    this.#lastWritesTotal = totals.writes;
    const last = this.#last;
    this.#last = { t: now, totals };
    if (last === undefined) return;
    const seconds = Math.max((now - last.t) / 1000, 0.001);
    const committing = this.#source.commits();
    let committed = 0;
    const refused: Record<string, number> = {};
    const at = new Date(now).toISOString();
    for (const [k, n] of totals.writes) {
      const before = last.totals.writes.get(k) ?? 0;
      // A new coordinator (this node promoted again) starts its counters at zero.
      const delta = n >= before ? n - before : n;
      if (delta <= 0) continue;
      const sep = k.indexOf('\u0000');
      const method = k.slice(0, sep);
      const outcome = k.slice(sep + 1);
      if (outcome === 'ok') committed += delta;
      else {
        refused[outcome] = round((refused[outcome] ?? 0) + delta / seconds);
        this.#errors.push({ at, code: outcome, method, count: delta });
      }
    }
    while (this.#errors.length > this.#maxErrors) this.#errors.shift();
    const commits = (totals.latency.at(-1)?.[1] ?? 0) - (last.totals.latency.at(-1)?.[1] ?? 0);
    const batches = totals.batchCount - last.totals.batchCount;
    this.#samples.push({
      t: now,
      committed: committing ? round(committed / seconds) : null,
      refused,
      p50_ms: commits > 0 ? quantileMs(0.5, last.totals.latency, totals.latency) : null,
      p99_ms: commits > 0 ? quantileMs(0.99, last.totals.latency, totals.latency) : null,
      queue_depth: this.#source.queueDepth(),
      batch_size: batches > 0 ? round((totals.batchSum - last.totals.batchSum) / batches) : null,
    });
    while (this.#samples.length > this.#maxSamples) this.#samples.shift();
  }

  async #values(name: string): Promise<MetricValue[]> {
    const m = await this.#source.registry.getSingleMetric(name)?.get();
    // Histograms name each value (`_bucket`, `_sum`, `_count`); the union type of get() drops that field.
    return (m?.values ?? []) as MetricValue[];
  }

  async #read(): Promise<Totals> {
    const writes = new Map<string, number>();
    for (const v of await this.#values('scribe_writes_total')) {
      const method = String(v.labels.method ?? '');
      const outcome = String(v.labels.code ?? '');
      const k = `${method}\u0000${outcome}`;
      writes.set(k, (writes.get(k) ?? 0) + v.value);
    }
    const latency: Array<[number, number]> = [];
    for (const v of await this.#values('scribe_commit_seconds')) {
      if (v.metricName !== 'scribe_commit_seconds_bucket') continue;
      const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le);
      latency.push([le, v.value]);
    }
    latency.sort((a, b) => a[0] - b[0]);
    let batchSum = 0;
    let batchCount = 0;
    for (const v of await this.#values('scribe_batch_size')) {
      if (v.metricName === 'scribe_batch_size_sum') batchSum = v.value;
      else if (v.metricName === 'scribe_batch_size_count') batchCount = v.value;
    }
    return { writes, latency, batchSum, batchCount };
  }
}

/**
 * The q-quantile, in ms, of the observations between two cumulative bucket
 * snapshots, interpolated linearly inside the bucket it falls in (the highest
 * finite bound when it falls in +Inf).
 */
export function quantileMs(q: number, before: ReadonlyArray<[number, number]>, after: ReadonlyArray<[number, number]>): number | null {
  const prior = new Map(before);
  const deltas = after.map(([le, n]) => [le, n - (prior.get(le) ?? 0)] as [number, number]);
  const total = deltas.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [le, cum] of deltas) {
    if (cum >= rank) {
      if (le === Infinity) return round(lower * 1000);
      const inBucket = cum - below;
      const share = inBucket > 0 ? (rank - below) / inBucket : 1;
      return round((lower + (le - lower) * share) * 1000);
    }
    lower = le;
    below = cum;
  }
  return round(lower * 1000);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`Expected '${name}' to be an integer from 1 and up, got ${String(value)} (${typeof value})`);
  return value;
}
