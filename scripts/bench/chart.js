// The benchmark's chart as a standalone SVG (no dependencies): throughput (linear
// axis) and latency (p50 bar, p99 bar, max tick; log axis) per (sync, P), scribe
// next to direct (and PostgreSQL peers at the same P in the groups of the sync level it
// is compared with); the one-writer limit of each sync level as a dashed line across
// its groups, and scribe ÷ direct and scribe ÷ limit under each group.
const W = 960;
const PANEL_H = 300;
const PAD = { top: 72, right: 24, bottom: 54, left: 84 };
const GAP = 56;
const RATIO_H = 28;
const H = PAD.top + PANEL_H + RATIO_H + GAP + PANEL_H + PAD.bottom + 46;
const COLORS = { scribe: '#2b6cb0', direct: '#c05621', postgres: '#6b46c1' };
const LIGHT = { scribe: '#90cdf4', direct: '#fbd38d', postgres: '#d6bcfa' };
const LIMIT = '#2f855a';

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const r1 = (x) => Math.round(x * 10) / 10;

/**
 * The chart as SVG text. `limits` maps a sync level to its one-writer limit row
 * (throughput); each scribe row may carry scribe_per_direct and scribe_per_limit.
 * `postgres` (rows of kind 'postgres', one per P) are drawn as a third bar in the
 * groups of `postgresSync`; with no SQLite rows, they get groups of their own.
 */
export function renderChart(rows, syncs, procsList, { machine, inflight, date, limits = {}, limitBatch, postgres = [], postgresSync } = {}) {
  const sqlite = rows.length > 0;
  const pgSync = sqlite ? postgresSync : 'PostgreSQL';
  const groups = (sqlite ? syncs : postgres.length > 0 ? [pgSync] : []).flatMap((sync) => procsList.map((procs) => ({ sync, procs })));
  const plotW = W - PAD.left - PAD.right;
  const gw = plotW / Math.max(1, groups.length);
  const kinds = [...(sqlite ? ['scribe', 'direct'] : []), ...(postgres.length > 0 ? ['postgres'] : [])];
  const bw = (gw * 0.7) / Math.max(2, kinds.length);
  const find = (kind, g) =>
    kind === 'postgres'
      ? g.sync === pgSync
        ? postgres.find((r) => r.procs === g.procs)
        : undefined
      : rows.find((r) => r.kind === kind && r.sync === g.sync && r.procs === g.procs);
  rows = [...rows, ...postgres];
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">CreateMessage writes: scribe vs direct better-sqlite3${postgres.length > 0 ? ' vs PostgreSQL peers' : ''}, P writer processes</text>`,
  ];
  if (machine) {
    out.push(
      `<text x="${W / 2}" y="40" text-anchor="middle" fill="#555">scribe: K = ${inflight ?? '?'} in flight per secondary; nproc ${esc(machine.nproc)}, ${esc(machine.cpu)}, Node ${esc(machine.node)}, SQLite ${esc(machine.sqlite)}${date ? `, ${esc(date.slice(0, 10))}` : ''}</text>`,
    );
  }
  const xOf = (i, j) => PAD.left + i * gw + gw * 0.15 + j * bw;
  /** The middle of group i's bars. */
  const centerOf = (i) => xOf(i, 0) + (kinds.length * bw) / 2;
  const groupLabels = (bottom) =>
    groups.forEach((g, i) => {
      const cx = centerOf(i);
      out.push(`<text x="${r1(cx)}" y="${bottom + 16}" text-anchor="middle">P=${g.procs}</text>`);
      out.push(`<text x="${r1(cx)}" y="${bottom + 30}" text-anchor="middle" fill="#555">${esc(g.sync)}</text>`);
    });

  // Panel 1: throughput.
  {
    const top = PAD.top;
    const bottom = top + PANEL_H;
    const limitValues = syncs.map((s) => limits[s]?.throughput ?? 0);
    const max = Math.max(1, ...rows.map((r) => r.throughput), ...limitValues) * 1.12;
    const y = (v) => bottom - (v / max) * PANEL_H;
    out.push(`<text x="${PAD.left}" y="${top - 6}" font-weight="bold">Throughput (writes/s, all processes together)</text>`);
    const step = niceStep(max / 5);
    for (let v = 0; v <= max; v += step) {
      out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${r1(y(v))}" y2="${r1(y(v))}" stroke="#e2e2e2"/>`);
      out.push(`<text x="${PAD.left - 6}" y="${r1(y(v) + 4)}" text-anchor="end">${Math.round(v).toLocaleString('en')}</text>`);
    }
    groups.forEach((g, i) => {
      kinds.forEach((kind, j) => {
        const r = find(kind, g);
        if (!r) return;
        const x = xOf(i, j);
        out.push(`<rect x="${r1(x)}" y="${r1(y(r.throughput))}" width="${r1(bw - 2)}" height="${r1(bottom - y(r.throughput))}" fill="${COLORS[kind]}"/>`);
        out.push(`<text x="${r1(x + (bw - 2) / 2)}" y="${r1(y(r.throughput) - 4)}" text-anchor="middle" font-size="10">${r.throughput >= 1000 ? `${r1(r.throughput / 1000)}k` : r.throughput}</text>`);
        if (!r.rows_ok || r.errors) out.push(`<text x="${r1(x + (bw - 2) / 2)}" y="${bottom - 4}" text-anchor="middle" fill="red" font-weight="bold">!</text>`);
      });
    });
    // The one-writer limit of each sync level, across that level's groups.
    syncs.forEach((sync, k) => {
      const l = limits[sync];
      if (!l || !(l.throughput > 0)) return;
      const x1 = PAD.left + k * procsList.length * gw + 4;
      const x2 = PAD.left + (k + 1) * procsList.length * gw - 4;
      const ly = r1(y(l.throughput));
      out.push(`<line x1="${r1(x1)}" x2="${r1(x2)}" y1="${ly}" y2="${ly}" stroke="${LIMIT}" stroke-width="2" stroke-dasharray="6,4"/>`);
      out.push(`<text x="${r1(x1 + 2)}" y="${r1(ly - 5)}" fill="${LIMIT}" font-size="11" paint-order="stroke" stroke="white" stroke-width="3">one-writer limit ${esc(sync)}: ${l.throughput.toLocaleString('en')}/s</text>`);
    });
    out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`);
    groupLabels(bottom);
    // scribe ÷ direct and scribe ÷ limit under each group.
    out.push(`<text x="${PAD.left - 6}" y="${bottom + 46}" text-anchor="end" fill="#555" font-size="10">÷ direct</text>`);
    out.push(`<text x="${PAD.left - 6}" y="${bottom + 58}" text-anchor="end" fill="${LIMIT}" font-size="10">÷ limit</text>`);
    groups.forEach((g, i) => {
      const s = find('scribe', g);
      if (!s) return;
      const cx = r1(centerOf(i));
      const x = s.scribe_per_direct ?? null;
      const l = s.scribe_per_limit ?? null;
      out.push(`<text x="${cx}" y="${bottom + 46}" text-anchor="middle" font-size="10" fill="#555">${x === null ? '–' : `${x.toFixed(2)}×`}</text>`);
      out.push(`<text x="${cx}" y="${bottom + 58}" text-anchor="middle" font-size="10" fill="${LIMIT}">${l === null ? '–' : `${(100 * l).toFixed(l < 0.1 ? 1 : 0)}%`}</text>`);
    });
  }

  // Panel 2: latency on a log axis.
  {
    const top = PAD.top + PANEL_H + RATIO_H + GAP;
    const bottom = top + PANEL_H;
    const vals = rows.flatMap((r) => [r.p50_ms, r.p99_ms, r.max_ms]).filter((v) => typeof v === 'number' && v > 0);
    const lo = 10 ** Math.floor(Math.log10(Math.min(...vals, 1)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...vals, 1)));
    const y = (v) => bottom - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * PANEL_H;
    out.push(`<text x="${PAD.left}" y="${top - 6}" font-weight="bold">Latency per write (ms, log scale): p50 (light), p99 (dark), max (tick)</text>`);
    for (let v = lo; v <= hi * 1.001; v *= 10) {
      out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${r1(y(v))}" y2="${r1(y(v))}" stroke="#e2e2e2"/>`);
      out.push(`<text x="${PAD.left - 6}" y="${r1(y(v) + 4)}" text-anchor="end">${v >= 1 ? v.toLocaleString('en') : v}</text>`);
    }
    groups.forEach((g, i) => {
      kinds.forEach((kind, j) => {
        const r = find(kind, g);
        if (!r || r.p50_ms === null) return;
        const x = xOf(i, j);
        const w = bw - 2;
        out.push(`<rect x="${r1(x)}" y="${r1(y(r.p99_ms))}" width="${r1(w)}" height="${r1(bottom - y(r.p99_ms))}" fill="${COLORS[kind]}"/>`);
        out.push(`<rect x="${r1(x + w * 0.2)}" y="${r1(y(r.p50_ms))}" width="${r1(w * 0.6)}" height="${r1(bottom - y(r.p50_ms))}" fill="${LIGHT[kind]}"/>`);
        out.push(`<line x1="${r1(x)}" x2="${r1(x + w)}" y1="${r1(y(r.max_ms))}" y2="${r1(y(r.max_ms))}" stroke="${COLORS[kind]}" stroke-width="3"/>`);
        out.push(`<line x1="${r1(x + w / 2)}" x2="${r1(x + w / 2)}" y1="${r1(y(r.max_ms))}" y2="${r1(y(r.p99_ms))}" stroke="${COLORS[kind]}" stroke-dasharray="2,2"/>`);
      });
    });
    out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`);
    groupLabels(bottom);
  }

  const ly = H - 34;
  out.push(`<rect x="${PAD.left}" y="${ly - 10}" width="12" height="12" fill="${COLORS.scribe}"/><text x="${PAD.left + 18}" y="${ly}">scribe: P secondaries → one primary (group commit)</text>`);
  out.push(`<rect x="${PAD.left + 380}" y="${ly - 10}" width="12" height="12" fill="${COLORS.direct}"/><text x="${PAD.left + 398}" y="${ly}">direct: P processes, better-sqlite3, a transaction per write, busy_timeout 5000</text>`);
  if (postgres.length > 0) {
    out.push(
      `<rect x="${PAD.left}" y="${ly + 20}" width="12" height="12" fill="${COLORS.postgres}"/><text x="${PAD.left + 18}" y="${ly + 30}">postgres: P peers of a local PostgreSQL server (${esc(pgSync)} groups)</text>`,
    );
  }
  if (syncs.some((s) => limits[s])) {
    out.push(
      `<line x1="${PAD.left}" x2="${PAD.left + 12}" y1="${ly + 14}" y2="${ly + 14}" stroke="${LIMIT}" stroke-width="2" stroke-dasharray="6,4"/><text x="${PAD.left + 18}" y="${ly + 18}">one-writer limit: one process, plain INSERT/UPDATE, ${limitBatch ?? '?'} writes per transaction, no network, no bookkeeping</text>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** 1, 2 or 5 times a power of ten, at least `raw`. */
function niceStep(raw) {
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}
