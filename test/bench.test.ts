import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BENCH = fileURLToPath(new URL('../scripts/bench.js', import.meta.url));

// Keeps `npm run bench` working; it checks the output's shape, never the speed.
describe('the benchmark (npm run bench)', () => {
  it('runs both sides in one run and writes the table, JSON and chart; a --quick run writes them to a temp dir, not over the committed results', () => {
    const committed = fileURLToPath(new URL('../bench-results/latest.json', import.meta.url));
    const before = existsSync(committed) ? readFileSync(committed, 'utf8') : undefined;
    let out = '';
    try {
      const r = spawnSync(process.execPath, [BENCH, '--quick', '--procs', '1,2', '--sync', 'NORMAL', '--count', '200', '--idle', '50'], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(r.status).toBe(0);
      out = /^wrote (.*)\/latest\.json, latest\.md and latest\.svg$/m.exec(r.stderr)?.[1] ?? '';
      expect(out.startsWith(join(tmpdir(), 'scribe-bench-quick-'))).toBe(true);
      expect(existsSync(committed) ? readFileSync(committed, 'utf8') : undefined).toBe(before);
      expect(r.stdout).toMatch(/^\| sync \| P \| scribe writes\/s/m);
      expect(r.stdout).toMatch(/^\| NORMAL \| 2 \| [\d,]+ \|/m);
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
      }
      expect(existsSync(join(out, 'latest.svg'))).toBe(true);
    } finally {
      if (out !== '') rmSync(out, { recursive: true, force: true });
    }
  }, 120_000); // the run itself may take up to its spawn timeout on a loaded machine
});
