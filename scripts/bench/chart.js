// A grouped bar chart of the benchmark's throughput, as a standalone SVG (no dependencies).
const W = 820;
const H = 420;
const PAD = { top: 50, right: 20, bottom: 70, left: 80 };
const COLORS = { scribe: '#2b6cb0', direct: '#c05621' };

function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

/** Renders throughput per (sync, P) for scribe and direct, with a log-free linear axis. */
export function renderChart(rows, syncs, procsList) {
  const groups = syncs.flatMap((sync) => procsList.map((procs) => ({ sync, procs })));
  const max = Math.max(...rows.map((r) => r.throughput)) * 1.1;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const gw = plotW / groups.length;
  const bw = gw * 0.35;
  const y = (v) => PAD.top + plotH - (v / max) * plotH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15">CreateMessage writes/s: scribe (forwarded) vs direct better-sqlite3</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const v = (max / 5) * i;
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${y(v) + 4}" text-anchor="end">${Math.round(v).toLocaleString('en')}</text>`);
  }
  groups.forEach((g, i) => {
    const x0 = PAD.left + i * gw + gw * 0.15;
    ['scribe', 'direct'].forEach((kind, j) => {
      const r = rows.find((row) => row.kind === kind && row.sync === g.sync && row.procs === g.procs);
      if (!r) return;
      const x = x0 + j * bw;
      parts.push(`<rect x="${x}" y="${y(r.throughput)}" width="${bw - 2}" height="${PAD.top + plotH - y(r.throughput)}" fill="${COLORS[kind]}"/>`);
    });
    parts.push(`<text x="${x0 + bw}" y="${PAD.top + plotH + 16}" text-anchor="middle">P=${g.procs}</text>`);
    parts.push(`<text x="${x0 + bw}" y="${PAD.top + plotH + 32}" text-anchor="middle" fill="#555">${esc(g.sync)}</text>`);
  });
  parts.push(`<rect x="${PAD.left}" y="${H - 24}" width="12" height="12" fill="${COLORS.scribe}"/><text x="${PAD.left + 18}" y="${H - 14}">scribe: P secondaries → primary</text>`);
  parts.push(`<rect x="${PAD.left + 260}" y="${H - 24}" width="12" height="12" fill="${COLORS.direct}"/><text x="${PAD.left + 278}" y="${H - 14}">direct: P processes, better-sqlite3, busy_timeout</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
