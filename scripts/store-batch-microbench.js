#!/usr/bin/env node
// In-process microbenchmark of the SQLite batch executor: N CreateMessage writes through
// Store.executeBatch in batches of B on a temp file, no network, one process.
//
//   node scripts/store-batch-microbench.js [--root DIR] [--compare DIR2] [--writes 20000] [--batch 64] [--sync NORMAL] [--runs 1]
//
// --root loads @scribe/store from another checkout's build (DIR/packages/store/dist).
// --compare DIR2 loads a second build too and runs both in this one process, batch by
// batch in alternating order, each on its own file: on a shared, busy machine whatever
// else runs slows both alike, so their ratio is steadier than two separate runs'.
// Prints one JSON line per run and build: {root, writes, batch, sync, ms, writes_per_s,
// cpu_ms?, cpu_us_per_write?} (CPU time only without --compare), plus {ratio,
// median_time_ratio, rounds} with --compare (the second build's writes/s over the
// first's, and the median over rounds of its batch time over the first's: below 1 is faster). Works whether executeBatch
// returns the result or a promise of it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: resolve(import.meta.dirname, '..') },
    compare: { type: 'string' },
    writes: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '64' },
    sync: { type: 'string', default: 'NORMAL' },
    runs: { type: 'string', default: '1' },
  },
});
const roots = [resolve(values.root), ...(values.compare === undefined ? [] : [resolve(values.compare)])];
const writes = Number(values.writes);
const batch = Number(values.batch);
const runs = Number(values.runs);
const stores = await Promise.all(roots.map(async (root) => (await import(pathToFileURL(join(root, 'packages/store/dist/index.js')).href)).Store));

const TEXT = 'The quick brown fox jumps over the lazy dog while the benchmark writes one small message row. 0123456';
const PARTS = JSON.stringify([{ type: 'text', text: TEXT }]);
let counter = 0;
const meta = () => ({ source_instance_id: 'microbench', request_id: `r-${process.pid}-${++counter}`, timestamp: new Date().toISOString() });
const messages = (n) => Array.from({ length: n }, () => ({ meta: meta(), method: 'CreateMessage', params: { session_id: 's', role: 'user', parts: PARTS } }));

for (let run = 0; run < runs; run++) {
  const dir = mkdtempSync(join(tmpdir(), 'scribe-microbench-'));
  const opened = stores.map((Store, i) => Store.open({ path: join(dir, `bench-${i}.db`), synchronous: values.sync }));
  try {
    for (const store of opened) {
      await store.executeBatch([{ meta: meta(), method: 'CreateSession', params: { id: 's', title: 'bench' } }]);
      // Warm-up: the statements are compiled and the code is hot before the clock starts.
      for (let i = 0; i < 2000; i += batch) await store.executeBatch(messages(batch));
    }
    const ms = opened.map(() => 0);
    /** Per round with --compare: the second build's batch time over the first's (a preempted batch skews one pair, not the median). */
    const pairs = [];
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    for (let i = 0, round = 0; i < writes; i += batch, round++) {
      const n = Math.min(batch, writes - i);
      // Alternate which build goes first, so neither always runs on a cache warmed by the other.
      const took = [];
      for (let k = 0; k < opened.length; k++) {
        const s = (k + round) % opened.length;
        const items = messages(n);
        const start = performance.now();
        const { outcomes } = await opened[s].executeBatch(items);
        took[s] = performance.now() - start;
        ms[s] += took[s];
        if (!outcomes.every((o) => o.ok)) throw new Error(`a write failed: ${JSON.stringify(outcomes.find((o) => !o.ok))}`);
      }
      if (took.length === 2) pairs.push(took[1] / took[0]);
    }
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - t0;
    const rows = roots.map((root, s) => ({
      root,
      writes,
      batch,
      sync: values.sync,
      ms: Math.round(ms[s]),
      writes_per_s: Math.round((writes / ms[s]) * 1000),
      ...(roots.length === 1
        ? {
            // CPU time of this process (user + system): less disturbed than wall time by other work on a shared machine.
            cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
            cpu_us_per_write: +((cpu.user + cpu.system) / writes).toFixed(2),
            wall_ms: Math.round(wall),
          }
        : {}),
    }));
    for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
    if (rows.length === 2) {
      pairs.sort((x, y) => x - y);
      const median = pairs[Math.floor(pairs.length / 2)];
      // ratio: throughput of the second build over the first's; median_time_ratio: the median of per-round batch times, second over first.
      process.stdout.write(
        `${JSON.stringify({ ratio: +(rows[1].writes_per_s / rows[0].writes_per_s).toFixed(3), median_time_ratio: +median.toFixed(3), rounds: pairs.length })}\n`,
      );
    }
  } finally {
    for (const store of opened) store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
