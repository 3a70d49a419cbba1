// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function
// (name + file + line), inclusive time by function, and self time by area (a
// workspace package, a dependency, node internals, native code).
//
//   node scripts/bench/profile-summary.js FILE.cpuprofile [--top 10] [--json]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A short, stable name for a script url. */
function shortUrl(url) {
  if (url === '') return '';
  let u = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (u.startsWith(ROOT)) u = u.slice(ROOT.length);
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) u = u.slice(nm);
  return u;
}

/** Where a frame's code lives: `@scribe/<pkg>`, a dependency, node, native or a V8 pseudo-frame. */
function areaOf(frame) {
  const name = frame.functionName;
  if (name.startsWith('(') && frame.url === '') return name; // (program) (idle) (garbage collector) (root)
  const u = shortUrl(frame.url);
  if (u === '') return 'native (C++ bindings: better-sqlite3, zeromq, node)';
  let m = /^packages\/([^/]+)\//.exec(u);
  if (m) return `@scribe/${m[1]}`;
  m = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (m) return m[1];
  if (u.startsWith('node:')) return 'node internals';
  return u;
}

function keyOf(frame) {
  const u = shortUrl(frame.url);
  const name = frame.functionName || '(anonymous)';
  return u === '' ? name : `${name}  ${u}:${frame.lineNumber + 1}`;
}

/** Reads a profile and aggregates it. Times in ms. */
export function summariseProfile(path, top = 10) {
  const profile = JSON.parse(readFileSync(path, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Sample i lasts until sample i+1 (timeDeltas[i+1]); the last one gets the mean.
  const deltas = profile.timeDeltas;
  const total = (profile.endTime - profile.startTime) / 1000;
  const mean = deltas.length ? deltas.reduce((a, b) => a + b, 0) / deltas.length : 0;
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (i + 1 < deltas.length ? deltas[i + 1] : mean));
  }
  const self = new Map();
  /** Per function key: line → ticks, from the nodes' positionTicks (where V8 recorded them). */
  const lineTicks = new Map();
  const urls = new Map();
  for (const n of profile.nodes) {
    if (!n.positionTicks) continue;
    const k = keyOf(n.callFrame);
    urls.set(k, n.callFrame.url);
    const m = lineTicks.get(k) ?? new Map();
    for (const { line, ticks } of n.positionTicks) m.set(line, (m.get(line) ?? 0) + ticks);
    lineTicks.set(k, m);
  }
  const inclusive = new Map();
  const areas = new Map();
  let idle = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id).callFrame;
    const ms = us / 1000;
    if (frame.functionName === '(idle)') idle += ms;
    const k = keyOf(frame);
    self.set(k, (self.get(k) ?? 0) + ms);
    const a = areaOf(frame);
    areas.set(a, (areas.get(a) ?? 0) + ms);
    // Inclusive: every distinct function on the stack, once per sample.
    const seen = new Set();
    for (let n = id; n !== undefined; n = parent.get(n)) {
      const f = byId.get(n).callFrame;
      if (f.functionName === '(root)') continue;
      const fk = keyOf(f);
      if (seen.has(fk)) continue;
      seen.add(fk);
      inclusive.set(fk, (inclusive.get(fk) ?? 0) + ms);
    }
  }
  const busy = total - idle;
  const rank = (m, skip = () => false) =>
    [...m]
      .filter(([k]) => !skip(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms: +ms.toFixed(1), pct_busy: +((100 * ms) / busy).toFixed(1) }));
  const selfRanked = rank(self, (k) => k === '(idle)');
  // Where inside the top functions their self time goes (native calls such as a
  // better-sqlite3 statement's run() count as the line that calls them).
  const lines = selfRanked
    .filter((f) => lineTicks.has(f.name))
    .slice(0, 3)
    .map((f) => {
      const ticks = [...lineTicks.get(f.name)].sort((a, b) => b[1] - a[1]);
      const sum = ticks.reduce((a, [, t]) => a + t, 0);
      let source = [];
      try {
        const u = urls.get(f.name);
        source = readFileSync(u.startsWith('file://') ? fileURLToPath(u) : u, 'utf8').split('\n');
      } catch {
        // source not readable: lines without text
      }
      return {
        name: f.name,
        lines: ticks.slice(0, 8).map(([line, t]) => ({
          line,
          ms: +((f.ms * t) / sum).toFixed(1),
          pct_of_function: +((100 * t) / sum).toFixed(1),
          source: (source[line - 1] ?? '').trim().slice(0, 110),
        })),
      };
    });
  return {
    file: path,
    total_ms: +total.toFixed(1),
    idle_ms: +idle.toFixed(1),
    busy_ms: +busy.toFixed(1),
    self: selfRanked,
    lines,
    inclusive: rank(inclusive, (k) => k.startsWith('(') || /^(processTicksAndRejections|listOnTimeout|processTimers|emit|emitMessage)\b/.test(k)),
    areas: [...areas]
      .filter(([a]) => a !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .map(([name, ms]) => ({ name, ms: +ms.toFixed(1), pct_busy: +((100 * ms) / busy).toFixed(1) })),
  };
}

/** The summary as markdown. */
export function profileMarkdown(s) {
  const table = (rows, head) => [
    `| ${head} | ms | % of busy |`,
    '|---|---|---|',
    ...rows.map((r) => `| \`${r.name.replace(/\|/g, '\\|')}\` | ${r.ms} | ${r.pct_busy} |`),
  ];
  return [
    `Profile: ${s.total_ms} ms sampled, ${s.idle_ms} ms idle, ${s.busy_ms} ms busy.`,
    '',
    `Top ${s.self.length} functions by self time:`,
    '',
    ...table(s.self, 'function (self)'),
    '',
    'Self time by area:',
    '',
    ...table(s.areas, 'area'),
    '',
    ...s.lines.flatMap((f) => [
      `Self time of \`${f.name}\` by line (a native call counts on the line that makes it):`,
      '',
      '| line | ms | % of the function | source |',
      '|---|---|---|---|',
      ...f.lines.map((l) => `| ${l.line} | ${l.ms} | ${l.pct_of_function} | \`${l.source.replace(/\|/g, '\\|')}\` |`),
      '',
    ]),
    `Top ${s.inclusive.length} functions by inclusive time (event-loop plumbing left out):`,
    '',
    ...table(s.inclusive, 'function (inclusive)'),
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '10' }, json: { type: 'boolean', default: false } },
  });
  for (const file of positionals) {
    const s = summariseProfile(file, Number(values.top));
    process.stdout.write(values.json ? `${JSON.stringify(s, null, 2)}\n` : `## ${file}\n\n${profileMarkdown(s)}\n`);
  }
}
