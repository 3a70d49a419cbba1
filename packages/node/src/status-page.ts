import { createHash } from 'node:crypto';

// The status page served at `/`: one self-contained document, hand-written CSS and
// JS, no external resources. It polls `status.json` once a second and renders it
// with DOM text nodes only (keys and instance ids are data, never markup).
// The script avoids template literals so that it can live in this TS template.

const STYLE = `
:root { --fg:#1d2330; --muted:#667085; --line:#e4e7ec; --bg:#fff; --panel:#f8f9fb; --ok:#12805c; --bad:#c4320a; --warn:#b54708; --accent:#2f54eb; --refused:#d92d20; --p99:#7a5af8; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 16px; padding: 10px 18px; border-bottom: 1px solid var(--line); background: var(--panel); }
header h1 { font-size: 16px; margin: 0; }
header .who { color: var(--muted); }
header .updated { margin-left: auto; color: var(--muted); }
main { padding: 10px 18px 24px; display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 12px 18px; }
section { min-width: 0; }
section.wide { grid-column: 1 / -1; }
section.half { grid-column: span 3; }
@media (min-width: 1100px) { section.half { grid-column: span 1; } section.twothirds { grid-column: span 2; } }
h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 8px 0 4px; font-weight: 600; }
h2 .now { float: right; text-transform: none; letter-spacing: 0; color: var(--fg); font-weight: 600; font-variant-numeric: tabular-nums; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 3px 8px 3px 0; border-bottom: 1px solid var(--line); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 22em; }
th { font-weight: 600; color: var(--muted); font-size: 12px; }
tr.primary td, tr.self td { background: #eef4ff; font-weight: 600; }
tr.silent td { color: var(--bad); background: #fff4ed; }
.badge { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 11px; font-weight: 700; }
.badge.primary { background: var(--accent); color: #fff; }
.badge.secondary, .badge.peer { background: var(--line); color: var(--fg); }
.badge.serving { background: var(--accent); color: #fff; }
.badge.silent { background: var(--bad); color: #fff; }
.banner { grid-column: 1 / -1; padding: 8px 12px; border-radius: 6px; font-weight: 600; display: none; }
.banner.show { display: block; }
.banner.bad { background: #fef3f2; color: var(--bad); border: 1px solid #fda29b; }
.banner.warn { background: #fffaeb; color: var(--warn); border: 1px solid #fec84b; }
.chart { width: 100%; height: 90px; display: block; background: var(--panel); border: 1px solid var(--line); border-radius: 4px; }
.legend { color: var(--muted); font-size: 11px; display: flex; gap: 10px; justify-content: space-between; }
.legend i { display: inline-block; width: 10px; height: 3px; vertical-align: middle; margin-right: 4px; }
.chips span { display: inline-block; margin: 0 6px 4px 0; padding: 1px 8px; border-radius: 10px; background: #fef3f2; color: var(--bad); font-weight: 600; }
.empty { color: var(--muted); font-style: italic; }
.stale main { opacity: .55; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
`;

const SCRIPT = `
(function () {
  'use strict';
  var MAX_WINDOW_S = 300;
  var WINDOW_S = 60;
  var last = null;
  var fails = 0;
  var searching = false;
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function row(cells, cls) {
    var tr = el('tr', cls);
    cells.forEach(function (c) {
      var td = el('td');
      if (c instanceof Node) td.appendChild(c); else td.textContent = c === null || c === undefined ? '-' : String(c);
      tr.appendChild(td);
    });
    return tr;
  }
  // A member's status page, as a link: only an address of the http scheme is made one (the address is data).
  function listener(http) {
    if (typeof http !== 'string' || !/^http:\\/\\/[^\\s]+$/.test(http)) return '-';
    var a = el('a', '', http.replace(/^http:\\/\\//, ''));
    a.href = http + '/';
    return a;
  }
  function fill(id, rows, cols, emptyText) {
    var body = $(id);
    if (rows.length === 0) { var tr = el('tr'); var td = el('td', 'empty', emptyText); td.colSpan = cols; tr.appendChild(td); rows = [tr]; }
    body.replaceChildren.apply(body, rows);
  }
  function dur(s) {
    s = Math.max(0, Math.round(s));
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  }
  function ago(iso, now) {
    if (!iso) return '-';
    var s = (now - Date.parse(iso)) / 1000;
    return s < 1 ? 'just now' : (s < 10 ? s.toFixed(1) + ' s' : dur(s)) + ' ago';
  }
  function clock(iso) { var d = new Date(iso); return d.toLocaleTimeString([], { hour12: false }); }
  function num(n, digits) { return n === null || n === undefined ? '-' : Number(n).toFixed(digits); }
  function sum(o) { var t = 0; for (var k in o) t += o[k]; return t; }
  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  // Draws series [{values:[[t,v]...], color}] into an SVG over the last WINDOW_S seconds.
  // Failover times (ms) drawn as dashed lines on every chart.
  var marks = [];
  function chart(svgId, maxId, series, end, unit) {
    var svg = $(svgId);
    var W = 300, H = 90, top = 6;
    var max = 0;
    series.forEach(function (s) { s.values.forEach(function (p) { if (p[1] !== null && p[1] > max) max = p[1]; }); });
    max = niceMax(max);
    var parts = [];
    for (var g = 1; g <= 3; g++) {
      var y = top + (H - top) * g / 4;
      parts.push('<line x1="0" x2="' + W + '" y1="' + y + '" y2="' + y + '" stroke="#e4e7ec" stroke-width="1" vector-effect="non-scaling-stroke"/>');
    }
    marks.forEach(function (t) {
      var x = W - (end - t) / 1000 / WINDOW_S * W;
      if (x >= 0 && x <= W) parts.push('<line x1="' + x.toFixed(1) + '" x2="' + x.toFixed(1) + '" y1="0" y2="' + H + '" stroke="#c4320a" stroke-width="1" stroke-dasharray="3 3" vector-effect="non-scaling-stroke"/>');
    });
    series.forEach(function (s) {
      var segs = [], cur = [];
      s.values.forEach(function (p) {
        var x = W - (end - p[0]) / 1000 / WINDOW_S * W;
        if (x < 0) return;
        if (p[1] === null) { if (cur.length) segs.push(cur); cur = []; return; }
        var y = H - (H - top) * (p[1] / max);
        cur.push(x.toFixed(1) + ',' + y.toFixed(1));
      });
      if (cur.length) segs.push(cur);
      segs.forEach(function (pts) {
        if (pts.length === 1) pts.push(pts[0]);
        parts.push('<polyline fill="none" stroke="' + s.color + '" stroke-width="1.6" vector-effect="non-scaling-stroke" points="' + pts.join(' ') + '"/>');
      });
    });
    // Only numbers and fixed colours go into this markup.
    svg.innerHTML = parts.join('');
    $(maxId).textContent = 'max ' + (max >= 10 ? Math.round(max) : max) + ' ' + unit;
  }
  function lastValue(samples, key) {
    for (var i = samples.length - 1; i >= 0; i--) if (samples[i][key] !== null && samples[i][key] !== undefined) return samples[i][key];
    return null;
  }
  function render(r) {
    var now = Date.parse(r.at);
    var me = r.served_by;
    var peers = me.role === 'peer';
    $('who').textContent = 'served by ' + me.instance_id + ' (' + (me.role || 'no role') + ', pid ' + me.pid + (peers ? '' : ', epoch ' + me.epoch) + ')';
    $('updated').textContent = 'updated ' + clock(r.at);
    var banner = $('banner');
    if (!r.cluster) {
      banner.className = 'banner bad show';
      banner.textContent = r.problem || 'no primary answers';
      document.body.classList.add('stale');
      return;
    }
    // A peer whose server does not answer still has its own figures: say so, and show them.
    if (r.problem) { banner.className = 'banner warn show'; banner.textContent = r.problem; }
    else banner.className = 'banner';
    document.body.classList.remove('stale');
    var c = r.cluster;
    last = r;
    $('primary-label').textContent = peers ? 'peers of' : 'primary:';
    $('primary').textContent = peers ? (c.server || 'a PostgreSQL server') : c.primary.instance_id;
    $('th-epoch').textContent = peers ? 'host' : 'epoch';
    $('th-heard').textContent = peers ? 'last seen' : 'last heartbeat';
    $('failovers-section').style.display = peers ? 'none' : '';
    $('failover-legend').style.display = peers ? 'none' : '';
    fill('members', c.members.map(function (m) {
      var self = peers && m.instance_id === me.instance_id;
      var badge = !m.answering ? el('span', 'badge silent', 'NOT ANSWERING')
        : m.role === 'primary' ? el('span', 'badge primary', '\\u2605 PRIMARY')
        : self ? el('span', 'badge serving', '\\u2605 THIS PEER')
        : el('span', 'badge ' + m.role, m.role);
      var state = m.answering ? 'answering' : 'silent since ' + ago(m.seen_at, now);
      if (m.answering && m.role === 'peer') state += ', ' + num(m.committed_per_s, 0) + ' writes/s, queue ' + num(m.queue_depth, 0);
      var heard = m.role === 'primary' ? '(sends it)' : self ? '(serves this page)' : m.role === 'peer' ? ago(m.seen_at, now) : ago(m.last_heartbeat_at, now);
      return row([badge, m.instance_id, m.pid, peers ? (m.host || '-') : m.epoch, dur(m.uptime_s), heard,
        m.schema_version, m.plugins.length ? m.plugins.map(function (p) { return p.name + ' ' + p.schema_version; }).join(', ') : '-', state, listener(m.http)],
        m.role === 'primary' ? 'primary' : self ? 'self' : m.answering ? '' : 'silent');
    }), 10, 'no members');
    var s = c.samples;
    marks = c.failovers.map(function (f) { return Date.parse(f.at); });
    // The charts span what there is, from one minute up to five.
    WINDOW_S = s.length ? Math.min(MAX_WINDOW_S, Math.max(60, Math.ceil((now - s[0].t) / 1000))) : 60;
    $('window').textContent = WINDOW_S >= 120 ? Math.round(WINDOW_S / 60) + ' minutes' : WINDOW_S + ' seconds';
    var committed = s.map(function (x) { return [x.t, x.committed]; });
    var refused = s.map(function (x) { return [x.t, x.committed === null ? null : sum(x.refused)]; });
    chart('writes', 'writes-max', [{ values: committed, color: '#12805c' }, { values: refused, color: '#d92d20' }], now, '/s');
    chart('latency', 'latency-max', [{ values: s.map(function (x) { return [x.t, x.p50_ms]; }), color: '#2f54eb' }, { values: s.map(function (x) { return [x.t, x.p99_ms]; }), color: '#7a5af8' }], now, 'ms');
    chart('queue', 'queue-max', [{ values: s.map(function (x) { return [x.t, x.queue_depth]; }), color: '#b54708' }, { values: s.map(function (x) { return [x.t, x.batch_size]; }), color: '#0e9384' }], now, '');
    // A peer's charts are its own write path; every peer reports its last second with its record.
    var all = 0;
    c.members.forEach(function (m) { if (m.answering && typeof m.committed_per_s === 'number') all += m.committed_per_s; });
    $('writes-scope').textContent = peers ? ' (this peer; all peers ' + Math.round(all) + ')' : '';
    var lastS = s.length ? s[s.length - 1] : null;
    $('now-committed').textContent = num(lastS ? lastS.committed : null, 0);
    $('now-refused').textContent = num(lastS ? sum(lastS.refused) : null, 0);
    $('now-p50').textContent = num(lastValue(s, 'p50_ms'), 2);
    $('now-p99').textContent = num(lastValue(s, 'p99_ms'), 2);
    $('now-queue').textContent = String(c.primary.queue_depth);
    $('now-batch').textContent = num(lastValue(s, 'batch_size'), 1);
    fill('failovers', c.failovers.map(function (f) {
      return row([clock(f.at), ago(f.at, now), f.from ? f.from.instance_id + ' (pid ' + f.from.pid + ', epoch ' + f.from.epoch + ')' : 'unknown',
        f.to.instance_id + ' (epoch ' + f.to.epoch + ')', f.writes_waited_ms === null ? 'unknown' : '\\u2264 ' + f.writes_waited_ms + ' ms', f.kind]);
    }), 6, 'no failover since this primary started');
    fill('changes', c.changes.slice(0, 12).map(function (x) {
      return row([x.seq, clock(x.at), x.entity, x.key, x.op, x.source_instance_id]);
    }), 6, 'no changes yet');
    var chips = $('error-totals');
    var codes = Object.keys(c.errors.totals).sort();
    if (codes.length === 0) chips.replaceChildren(el('span', 'empty', 'none'));
    else chips.replaceChildren.apply(chips, codes.map(function (k) { var e = el('span', '', k + ' ' + c.errors.totals[k]); e.className = ''; return e; }));
    chips.className = codes.length ? 'chips' : '';
    fill('errors', c.errors.recent.slice(0, 10).map(function (e) { return row([clock(e.at), e.code, e.method, e.count]); }), 4, 'no refused or failed writes');
  }
  // This page's node stopped answering: try the other members it knew, primary first.
  function findAnother() {
    if (searching || !last || !last.cluster) return;
    searching = true;
    var here = location.origin;
    var candidates = last.cluster.members.filter(function (m) { return m.http && m.http !== here; })
      .sort(function (a, b) { return (a.role === 'primary' ? 1 : 0) - (b.role === 'primary' ? 1 : 0); })
      .map(function (m) { return m.http; });
    var i = 0;
    (function next() {
      if (i >= candidates.length) { searching = false; $('banner').textContent = 'This node does not answer, and no other member with an HTTP listener does.'; return; }
      var url = candidates[i++];
      fetch(url + '/healthz', { mode: 'no-cors', cache: 'no-store' }).then(function () { location.replace(url + '/'); }, next);
    })();
  }
  function poll() {
    var ctl = new AbortController();
    var t = setTimeout(function () { ctl.abort(); }, 2500);
    fetch('status.json', { cache: 'no-store', signal: ctl.signal })
      .then(function (res) { if (!res.ok) throw new Error('HTTP ' + res.status); return res.json(); })
      .then(function (r) { fails = 0; render(r); }, function () {
        fails++;
        if (fails >= 2) {
          var b = $('banner');
          b.className = 'banner warn show';
          b.textContent = 'This node (' + location.host + ') does not answer; looking for another member of the cluster\\u2026';
          document.body.classList.add('stale');
          findAnother();
        }
      })
      .finally(function () { clearTimeout(t); setTimeout(poll, 1000); });
  }
  poll();
})();
`;

const BODY = `
<header><h1>scribe</h1><span><span id="primary-label">primary:</span> <b id="primary">-</b></span><span class="who" id="who">connecting\u2026</span><span class="updated" id="updated"></span></header>
<main>
  <div id="banner" class="banner"></div>
  <section class="wide"><h2>Members</h2>
    <table><thead><tr><th></th><th>instance</th><th>pid</th><th id="th-epoch">epoch</th><th>uptime</th><th id="th-heard">last heartbeat</th><th>schema</th><th>plugins</th><th>state</th><th>listener</th></tr></thead><tbody id="members"></tbody></table>
  </section>
  <section class="half"><h2>Writes / s<span id="writes-scope"></span> <span class="now"><span id="now-committed">-</span> committed, <span id="now-refused">-</span> refused</span></h2>
    <svg id="writes" class="chart" viewBox="0 0 300 90" preserveAspectRatio="none"></svg>
    <div class="legend"><span><i style="background:#12805c"></i>committed <i style="background:#d92d20"></i>refused or failed <span id="failover-legend"><i style="border-top:1px dashed #c4320a;height:0"></i>failover</span></span><span id="writes-max"></span></div></section>
  <section class="half"><h2>Commit latency (ms) <span class="now">p50 <span id="now-p50">-</span> / p99 <span id="now-p99">-</span></span></h2>
    <svg id="latency" class="chart" viewBox="0 0 300 90" preserveAspectRatio="none"></svg>
    <div class="legend"><span><i style="background:#2f54eb"></i>p50 <i style="background:#7a5af8"></i>p99</span><span id="latency-max"></span></div></section>
  <section class="half"><h2>Queue and batch <span class="now">queue <span id="now-queue">-</span>, batch <span id="now-batch">-</span></span></h2>
    <svg id="queue" class="chart" viewBox="0 0 300 90" preserveAspectRatio="none"></svg>
    <div class="legend"><span><i style="background:#b54708"></i>queue depth <i style="background:#0e9384"></i>writes per batch</span><span id="queue-max"></span></div></section>
  <section class="wide" id="failovers-section"><h2>Failovers</h2>
    <table><thead><tr><th>at</th><th>when</th><th>from</th><th>to</th><th>writes waited</th><th>seen as</th></tr></thead><tbody id="failovers"></tbody></table></section>
  <section class="twothirds"><h2>Change feed (newest first)</h2>
    <table><thead><tr><th>seq</th><th>at</th><th>entity</th><th>key</th><th>op</th><th>source</th></tr></thead><tbody id="changes"></tbody></table></section>
  <section class="half"><h2>Refused or failed writes</h2><div id="error-totals"></div>
    <table><thead><tr><th>at</th><th>code</th><th>write</th><th>count</th></tr></thead><tbody id="errors"></tbody></table></section>
</main>
<footer style="padding:0 18px 12px;color:#667085">Charts: one sample a second over the last <span id="window">minute</span> (up to five minutes), ending now. Raw data: <a href="status.json"><code>/status.json</code></a> \u00b7 <a href="metrics"><code>/metrics</code></a> \u00b7 <a href="healthz"><code>/healthz</code></a></footer>
`;

/** The status page, as served at `/`. */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>scribe status</title><style>${STYLE}</style></head>
<body>${BODY}<script>${SCRIPT}</script></body></html>
`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * The page's Content-Security-Policy: only its own inline script (by hash) and
 * inline styles, data from this origin, and probes of other members' listeners when this
 * node stops answering (any http origin: a member may listen on any loopback port).
 */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  "style-src 'unsafe-inline'",
  "connect-src 'self' http:",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
