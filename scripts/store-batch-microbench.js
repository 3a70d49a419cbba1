#!/usr/bin/env node
// In-process microbenchmark of the SQLite batch executor: N CreateMessage writes through
// Store.executeBatch in batches of B on a temp file, no network, one process.
//
//   node scripts/store-batch-microbench.js [--root DIR] [--writes 20000] [--batch 64] [--sync NORMAL] [--runs 1]
//
// --root loads @scribe/store from another checkout's build (DIR/packages/store/dist), so
// two versions can be run alternately on the same machine. Prints one JSON line per run:
// {root, writes, batch, sync, ms, writes_per_s, cpu_ms, cpu_us_per_write}. Works whether executeBatch returns the
// result or a promise of it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: resolve(import.meta.dirname, '..') },
    writes: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '64' },
    sync: { type: 'string', default: 'NORMAL' },
    runs: { type: 'string', default: '1' },
  },
});
const root = resolve(values.root);
const writes = Number(values.writes);
const batch = Number(values.batch);
const runs = Number(values.runs);
const { Store } = await import(pathToFileURL(join(root, 'packages/store/dist/index.js')).href);

const TEXT = 'The quick brown fox jumps over the lazy dog while the benchmark writes one small message row. 0123456';
const PARTS = JSON.stringify([{ type: 'text', text: TEXT }]);
let counter = 0;
const meta = () => ({ source_instance_id: 'microbench', request_id: `r-${process.pid}-${++counter}`, timestamp: new Date().toISOString() });

for (let run = 0; run < runs; run++) {
  const dir = mkdtempSync(join(tmpdir(), 'scribe-microbench-'));
  const store = Store.open({ path: join(dir, 'bench.db'), synchronous: values.sync });
  try {
    await store.executeBatch([{ meta: meta(), method: 'CreateSession', params: { id: 's', title: 'bench' } }]);
    // Warm-up: the statements are compiled and the code is hot before the clock starts.
    for (let i = 0; i < 2000; i += batch) {
      await store.executeBatch(
        Array.from({ length: batch }, () => ({ meta: meta(), method: 'CreateMessage', params: { session_id: 's', role: 'user', parts: PARTS } })),
      );
    }
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < writes; i += batch) {
      const items = Array.from({ length: Math.min(batch, writes - i) }, () => ({
        meta: meta(),
        method: 'CreateMessage',
        params: { session_id: 's', role: 'user', parts: PARTS },
      }));
      const { outcomes } = await store.executeBatch(items);
      if (!outcomes.every((o) => o.ok)) throw new Error(`a write failed: ${JSON.stringify(outcomes.find((o) => !o.ok))}`);
    }
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    // CPU time of this process (user + system): less disturbed than wall time by other work on a shared machine.
    const cpuMs = (cpu.user + cpu.system) / 1000;
    process.stdout.write(
      `${JSON.stringify({ root, writes, batch, sync: values.sync, ms: Math.round(ms), writes_per_s: Math.round((writes / ms) * 1000), cpu_ms: Math.round(cpuMs), cpu_us_per_write: +((cpuMs * 1000) / writes).toFixed(2) })}\n`,
    );
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
