import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hasPostgres } from './helpers/postgres-server.js';

const BENCH = fileURLToPath(new URL('../scripts/bench.js', import.meta.url));

// Keeps `npm run bench` working; it checks the output's shape, never the speed.
describe('the benchmark (npm run bench)', () => {
  it('runs both sides, the one-writer limit, the store alone, a payload row and PostgreSQL peers in one run and writes the table, JSON and chart; a --quick run writes them to a temp dir, not over the committed results', () => {
    const committed = fileURLToPath(new URL('../bench-results/latest.json', import.meta.url));
    const before = existsSync(committed) ? readFileSync(committed, 'utf8') : undefined;
    let out = '';
    try {
      const r = spawnSync(process.execPath, [BENCH, '--quick', '--procs', '1,2', '--sync', 'NORMAL', '--count', '200', '--idle', '50', '--payloads', '1024', '--payload-count', '10', '--pg-count', '20'], {
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
      // PostgreSQL peers at the same P, compared with scribe at the sync level run (NORMAL here).
      expect(json.options.engines).toEqual(['sqlite', 'postgres']);
      if (hasPostgres) {
        expect(r.stdout).toMatch(/^PostgreSQL peers \(PostgreSQL \d+/m);
        expect(r.stdout).toMatch(/^\| P \| postgres writes\/s \| postgres p50 \/ p99 \/ max ms \| writes per commit \| CPU µs per write: peers \/ server \| postgres ÷ scribe NORMAL \| postgres ÷ direct NORMAL \|$/m);
        expect(r.stdout).toMatch(/^\| 2 \| [\d,]+ \| [\d.]+ \/ [\d.]+ \/ [\d.]+ \| [\d.]+ \| [\d,]+ \/ [\d,]+ \| [\d.]+× \| [\d.]+× \|$/m);
        expect(json.postgres.rows.map((row: { kind: string; procs: number }) => `${row.kind}/${row.procs}`)).toEqual(['postgres/1', 'postgres/2']);
        for (const row of json.postgres.rows) {
          expect(row).toMatchObject({ errors: 0, rows_ok: true, writes: row.procs * 20 });
          expect(row.pg_per_scribe).toBeGreaterThan(0);
          expect(row.server_cpu_us_per_write).toBeGreaterThan(0);
        }
        expect(json.postgres.server.settings).toMatchObject({ fsync: 'on', synchronous_commit: 'on' });
        // The idle row: one peer, one write in flight, a tenth of --idle (50 here).
        expect(json.postgres.idle).toMatchObject({ kind: 'postgres', procs: 1, inflight: 1, writes: 10, errors: 0, rows_ok: true });
        expect(r.stdout).toMatch(/^Single write on an idle server \(one peer, one write in flight, 10 in sequence\): p50 [\d.]+ ms/m);
        expect(svg).toMatch(/postgres: P peers of a local PostgreSQL server/);
      } else {
        expect(r.stdout).toMatch(/^PostgreSQL: skipped, no PostgreSQL binaries found/m);
      }
    } finally {
      if (out !== '') rmSync(out, { recursive: true, force: true });
    }
  }, 120_000); // the run itself may take up to its spawn timeout on a loaded machine

  it('skips the PostgreSQL rows with a note (and does not fail) when no PostgreSQL is installed', () => {
    // Only the PostgreSQL engine, with its binaries hidden: nothing runs, the note says why.
    const r = spawnSync(process.execPath, [BENCH, '--quick', '--engines', 'postgres', '--procs', '1'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, SCRIBE_PG_BINDIR: join(tmpdir(), 'scribe-no-such-postgres') },
    });
    const out = /^wrote (.*)\/latest\.json, latest\.md and latest\.svg$/m.exec(r.stderr)?.[1] ?? '';
    try {
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^PostgreSQL: skipped, no PostgreSQL binaries found \(install Debian's postgresql package, or set SCRIBE_PG_BINDIR\)\.$/m);
      expect(r.stdout).not.toMatch(/^\| sync \| P \|/m);
      expect(JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')).postgres).toEqual({ skipped: expect.stringMatching(/^no PostgreSQL binaries found/) });
    } finally {
      if (out !== '') rmSync(out, { recursive: true, force: true });
    }
  });

  it('prints its flags with --help and refuses an unknown engine', () => {
    const help = spawnSync(process.execPath, [BENCH, '--help'], { encoding: 'utf8', timeout: 30_000 });
    expect(help.status).toBe(0);
    for (const flag of ['--count', '--procs', '--inflight', '--sync', '--quick', '--out', '--payloads', '--engines', '--no-postgres', '--pg-count', '--help']) {
      expect(help.stdout).toContain(flag);
    }
    const bad = spawnSync(process.execPath, [BENCH, '--engines', 'mysql'], { encoding: 'utf8', timeout: 30_000 });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--engines takes sqlite, postgres, got 'mysql'/);
  });
});
