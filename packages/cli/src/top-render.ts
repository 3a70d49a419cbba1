import type { ClusterStatus, StatusSample } from '@scribe/protocol';

/** What `scribe top` shows in one frame. */
export type TopView =
  /** `problem`: the view is not fresh (a peer whose server does not answer shows its own figures). */
  | { ok: true; db: string; status: ClusterStatus; problem?: string }
  | { ok: false; db: string; reason: string };

/** Terminal size and styling of a frame. */
export interface FrameOptions {
  columns: number;
  rows: number;
  /** Bold and colour with ANSI escapes (interactive mode). */
  color: boolean;
  /** Seconds of history in the sparklines. */
  seconds?: number;
  /** Wall clock of the frame, ms (tests pass a fixed one). */
  now?: number;
}

const BARS = '\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588';

/** One character per value, scaled to the largest; a gap for null. */
export function sparkline(values: ReadonlyArray<number | null>): string {
  const max = Math.max(0, ...values.filter((v): v is number => v !== null));
  return values
    .map((v) => {
      if (v === null) return ' ';
      if (max === 0) return BARS[0];
      return BARS[Math.min(BARS.length - 1, Math.round((v / max) * (BARS.length - 1)))];
    })
    .join('');
}

function dur(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function ago(iso: string | null, now: number): string {
  if (iso === null) return '-';
  const s = (now - Date.parse(iso)) / 1000;
  return s < 10 ? `${Math.max(0, s).toFixed(1)} s ago` : `${dur(s)} ago`;
}

function clock(iso: string): string {
  return iso.slice(11, 19);
}

function fixed(n: number | null | undefined, digits: number): string {
  return n === null || n === undefined ? '-' : n.toFixed(digits);
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

function lastOf(samples: readonly StatusSample[], pick: (s: StatusSample) => number | null): number | null {
  for (let i = samples.length - 1; i >= 0; i--) {
    const v = pick(samples[i]!);
    if (v !== null) return v;
  }
  return null;
}

/**
 * Renders one frame of `scribe top` as lines no wider than the terminal: members,
 * rates and latencies with sparklines, queue and batch size, failovers, the change
 * feed's tail and refused writes by code.
 */
export function renderTop(view: TopView, options: FrameOptions): string[] {
  const now = options.now ?? Date.now();
  const bold = (s: string): string => (options.color ? `\x1b[1m${s}\x1b[22m` : s);
  const red = (s: string): string => (options.color ? `\x1b[31m${s}\x1b[39m` : s);
  const head = (s: string): string => bold(s.toUpperCase());
  const out: string[] = [];
  const stamp = new Date(now).toISOString().slice(11, 19);
  if (!view.ok) {
    out.push(`scribe top  ${view.db}  ${stamp}`);
    out.push('');
    out.push(red(bold(view.reason)));
    return fit(out, options);
  }
  const c = view.status;
  const p = c.primary;
  // Peers of a PostgreSQL server: the serving peer in place of a primary, hosts, no epochs or failovers.
  const peers = p.role === 'peer';
  const serving = (m: { instance_id: string; role: string }): boolean => m.role === 'primary' || (peers && m.instance_id === p.instance_id);
  out.push(`scribe top  ${view.db}  ${peers ? 'served by peer' : 'primary'} ${bold(p.instance_id)} (pid ${p.pid}${peers ? '' : `, epoch ${p.epoch}`})  ${stamp}`);
  if (view.problem !== undefined) out.push(red(bold(view.problem)));
  out.push('');
  out.push(head(peers ? 'peers' : 'members'));
  const rows = [['', 'ROLE', 'INSTANCE', 'PID', peers ? 'HOST' : 'EPOCH', 'UPTIME', peers ? 'LAST SEEN' : 'LAST HEARTBEAT', 'SCHEMA', 'PLUGINS', 'STATE']];
  for (const m of c.members) {
    const state = m.answering ? 'answering' : `NOT ANSWERING (silent ${ago(m.seen_at, now)})`;
    rows.push([
      serving(m) ? '*' : m.answering ? '' : '!',
      m.role,
      m.instance_id,
      String(m.pid),
      peers ? (m.host ?? '-') : String(m.epoch),
      dur(m.uptime_s),
      serving(m) ? '-' : ago(peers ? m.seen_at : m.last_heartbeat_at, now),
      m.schema_version === null ? '-' : String(m.schema_version),
      m.plugins.length === 0 ? '-' : m.plugins.map((x) => `${x.name} ${x.schema_version}`).join(', '),
      peers && m.answering ? `${state}, ${fixed(m.committed_per_s, 0)} writes/s, queue ${fixed(m.queue_depth, 0)}` : state,
    ]);
  }
  for (const [i, line] of table(rows).entries()) {
    const m = i === 0 ? undefined : c.members[i - 1];
    out.push(m !== undefined && !m.answering ? red(line) : m !== undefined && serving(m) ? bold(line) : line);
  }
  out.push('');
  const seconds = Math.max(10, Math.min(options.seconds ?? 60, options.columns - 40));
  const recent = c.samples.slice(-seconds);
  const last = recent.at(-1);
  const refusedNow = last === undefined ? 0 : Object.values(last.refused).reduce((a, b) => a + b, 0);
  out.push(head(`${peers ? "this peer's write path" : 'write path'} (last ${recent.length} s)`));
  out.push(`writes/s   ${`committed ${fixed(last?.committed, 0)}, refused ${refusedNow}`.padEnd(28)} ${sparkline(recent.map((s) => s.committed))}`);
  out.push(`latency    ${`p50 ${fixed(lastOf(recent, (s) => s.p50_ms), 2)} ms, p99 ${fixed(lastOf(recent, (s) => s.p99_ms), 2)} ms`.padEnd(28)} ${sparkline(recent.map((s) => s.p99_ms))}`);
  out.push(`queue      ${`depth ${p.queue_depth}, batch ${fixed(lastOf(recent, (s) => s.batch_size), 1)}`.padEnd(28)} ${sparkline(recent.map((s) => s.queue_depth))}`);
  out.push('');
  if (!peers) {
    out.push(head('failovers'));
    if (c.failovers.length === 0) out.push('none since this primary started');
    for (const f of c.failovers.slice(0, 3)) {
      const from = f.from === null ? 'unknown' : `${f.from.instance_id} (pid ${f.from.pid}, epoch ${f.from.epoch})`;
      const waited = f.writes_waited_ms === null ? 'unknown' : `<= ${f.writes_waited_ms} ms`;
      out.push(`${clock(f.at)}  ${from} -> ${f.to.instance_id} (epoch ${f.to.epoch})  writes waited ${waited}  ${f.kind}`);
    }
    out.push('');
  }
  const totals = Object.entries(c.errors.totals).sort(([a], [b]) => a.localeCompare(b));
  out.push(`${head('refused or failed')}  ${totals.length === 0 ? 'none' : red(totals.map(([code, n]) => `${code} ${n}`).join('  '))}`);
  for (const e of c.errors.recent.slice(0, 3)) out.push(`${clock(e.at)}  ${e.code}  ${e.method}  x${e.count}`);
  out.push('');
  out.push(head('change feed (newest first)'));
  if (c.changes.length === 0) out.push('no changes yet');
  else {
    const room = Math.max(3, options.rows - out.length - 2);
    out.push(...table([['SEQ', 'AT', 'ENTITY', 'KEY', 'OP', 'SOURCE'], ...c.changes.slice(0, room).map((x) => [String(x.seq), clock(x.at), x.entity, x.key, x.op, x.source_instance_id])]));
  }
  return fit(out, options);
}

/** Cuts lines to the terminal's width (escapes do not count) and the frame to its height. */
function fit(lines: string[], options: FrameOptions): string[] {
  const width = Math.max(20, options.columns);
  return lines.slice(0, Math.max(1, options.rows)).map((line) => {
    let visible = 0;
    let out = '';
    for (let i = 0; i < line.length; i++) {
      if (line[i] === '\x1b') {
        const end = line.indexOf('m', i);
        out += line.slice(i, end + 1);
        i = end;
        continue;
      }
      if (visible >= width) continue;
      out += line[i];
      visible++;
    }
    return out;
  });
}
