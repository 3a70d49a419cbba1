import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BENCH = fileURLToPath(new URL('../scripts/bench.js', import.meta.url));

// Keeps `npm run bench` working; it checks the output's shape, never the speed.
describe('the benchmark (npm run bench)', () => {
  it('runs both sides, the one-writer limit, the store alone and a payload row in one run and writes the table, JSON and chart; a --quick run writes them to a temp dir, not over the committed results', () => {
    const committed = fileURLToPath(new URL('../bench-results/latest.json', import.meta.url));
    const before = existsSync(committed) ? readFileSync(committed, 'utf8') : undefined;
    let out = '';
    try {
      const r = spawnSync(process.execPath, [BENCH, '--quick', '--procs', '1,2', '--sync', 'NORMAL', '--count', '200', '--idle', '50', '--payloads', '1024', '--payload-count', '10'], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(r.status).toBe(0);
      out = /^wrote (.*)\/latest\.json, latest\.md and latest\.svg$/m.exec(r.stderr)?.[1] ?? '';
      expect(out.startsWith(join(tmpdir(), 'scribe-bench-quick-'))).toBe(true);
      expect(existsSync(committed) ? readFileSync(committed, 'utf8') : undefined).toBe(before);
      expect(r.stdout).toMatch(/^\| sync \| P \| scribe writes\/s .*\| scribe ÷ direct \| limit writes\/s \| scribe ÷ limit \| store alone writes\/s \| scribe ÷ store alone \| writes per commit \|$/m);
      // sync, P, scribe writes/s, latencies, direct writes/s, latencies, ÷ direct, limit writes/s, ÷ limit, store alone writes/s, ÷ store alone, writes per commit
      expect(r.stdout).toMatch(/^\| NORMAL \| 2 \| [\d,]+ \| [^|]+ \| [\d,]+ \| [^|]+ \| [\d.]+× \| [\d,]+ \| [\d.]+% \| [\d,]+ \| [\d.]+% \| [\d.]+ \|$/m);
      expect(r.stdout).toMatch(/^limit: one process, no network, .*plain INSERT and UPDATE statements.*256 writes per transaction.*store alone: .*Store\.executeBatch/m);
      expect(r.stdout).toMatch(/^Payload size, P = 2 /m);
      expect(r.stdout).toMatch(/^\| NORMAL \| 1,024 \| 10 \| [\d,]+ \| [^|]+ \| [\d,]+ \| [^|]+ \| [\d.]+× \|$/m);
      expect(r.stdout).toMatch(/Single forwarded write on an idle cluster/);
      const json = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
      expect(json.rows.map((row: { kind: string; procs: number }) => `${row.kind}/${row.procs}`)).toEqual([
        'scribe/1',
        'direct/1',
        'scribe/2',
        'direct/2',
      ]);
      for (const row of json.rows) {
        expect(row.errors).toBe(0);
        expect(row.rows_ok).toBe(true);
        expect(row.writes).toBe(row.procs * 200);
        if (row.kind === 'scribe') {
          expect(row.scribe_per_direct).toBeGreaterThan(0);
          expect(row.scribe_per_limit).toBeGreaterThan(0);
          expect(row.scribe_per_store).toBeGreaterThan(0);
        }
      }
      // The one-writer limit: one process writing as many rows as the largest P's processes together.
      expect(Object.keys(json.limit)).toEqual(['NORMAL']);
      expect(json.limit.NORMAL).toMatchObject({ kind: 'limit', procs: 1, writes: 400, errors: 0, rows_ok: true });
      expect(json.limit.NORMAL.throughput).toBeGreaterThan(0);
      expect(json.options.limit).toEqual({ batch: 256, counts: { NORMAL: 400 }, via: 'plain statements' });
      // The store alone: the same rows through Store.executeBatch, bookkeeping paid.
      expect(json.store.NORMAL).toMatchObject({ kind: 'store', procs: 1, writes: 400, errors: 0, rows_ok: true });
      expect(json.options.store).toEqual({ batch: 256, counts: { NORMAL: 400 }, via: 'Store.executeBatch' });
      // The payload row, at the largest P run (2 here).
      expect(
        json.payloads.map((row: { kind: string; procs: number; payload_bytes: number }) => `${row.kind}/${row.procs}/${row.payload_bytes}`),
      ).toEqual(['scribe/2/1024', 'direct/2/1024']);
      for (const row of json.payloads) {
        expect(row).toMatchObject({ errors: 0, rows_ok: true, writes: 20 });
      }
      expect(json.payloads[0].scribe_per_direct).toBeGreaterThan(0);
      const svg = readFileSync(join(out, 'latest.svg'), 'utf8');
      expect(svg).toMatch(/one-writer limit NORMAL: [\d,]+\/s/);
      expect(svg).toMatch(/÷ limit/);
    } finally {
      if (out !== '') rmSync(out, { recursive: true, force: true });
    }
  }, 120_000); // the run itself may take up to its spawn timeout on a loaded machine
});
