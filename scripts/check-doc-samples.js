// `npm run check:docs` (part of `npm test`): every TypeScript sample in README.md,
// packages/*/README.md and docs/*.md compiles against the built packages, so the
// documentation cannot drift from the code.
//
// Each ```ts (or ```typescript) block becomes one module of its own and is
// type-checked with the repository's strict settings against the packages' .d.ts
// (run `npm run build` first; `npm test` does). A block that is a deliberate
// fragment (a signature, a shape, an excerpt that cannot stand alone) opts out with
// ```ts no-check; keep those rare: a sample that can compile should.
// A sample that uses names it does not define (a `logger`, the `store` of the
// sample before) gets them from an HTML comment right above its fence, invisible
// on the rendered page and type-checked with the sample:
//   <!-- sample-context: import type { Logger } from 'pino'; declare const logger: Logger; -->
// A sample that a later one continues gets a module name the later one imports:
//   <!-- sample-name: notes-plugin -->   (then: import { notesPlugin } from './notes-plugin.js')
// Errors are reported at the line of the markdown file they come from.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
// Inside the repository, so that @scribe/* resolve through its node_modules.
const OUT = join(ROOT, 'node_modules', '.cache', 'doc-samples');

/** The markdown files whose samples are checked, relative to the root. */
export function docFiles() {
  const md = (dir) => (existsSync(join(ROOT, dir)) ? readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.md')).map((f) => join(dir, f)) : []);
  const packageReadmes = readdirSync(join(ROOT, 'packages'))
    .map((p) => join('packages', p, 'README.md'))
    .filter((f) => existsSync(join(ROOT, f)));
  return ['README.md', ...packageReadmes, ...md('docs')];
}

/**
 * The TypeScript blocks of a markdown text: `{ line, code, check }`, `line` being
 * the 1-based line of the block's first code line.
 */
export function extractSamples(text) {
  const samples = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(ts|typescript)\b(.*)$/.exec(lines[i]);
    if (open === null) continue;
    const [, indent, fence, , rest] = open;
    const body = [];
    let j = i + 1;
    while (j < lines.length && !lines[j].trimStart().startsWith(fence)) body.push(lines[j++].slice(indent.length));
    // The sample-context and sample-name comments on the non-blank lines right above the fence.
    const notes = {};
    for (let k = i - 1; k >= 0; k--) {
      if (lines[k].trim() === '') continue;
      const note = /^\s*<!--\s*sample-(context|name):([\s\S]*?)-->\s*$/.exec(lines[k]);
      if (note === null) break;
      notes[note[1]] = note[2].trim();
    }
    samples.push({ line: i + 2, code: body.join('\n'), context: notes.context ?? '', name: notes.name, check: !/\bno-check\b/.test(rest) });
    i = j;
  }
  return samples;
}

function main() {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const origin = new Map(); // sample file name -> { doc, line }
  let skipped = 0;
  for (const doc of docFiles()) {
    for (const sample of extractSamples(readFileSync(join(ROOT, doc), 'utf8'))) {
      if (!sample.check) {
        skipped++;
        continue;
      }
      // A named sample is a module the next samples may import ('./notes-plugin.js').
      const name = sample.name === undefined ? `${doc.replace(/[/.]/g, '_')}_L${sample.line}.ts` : `${sample.name}.ts`;
      if (origin.has(name)) throw new Error(`${doc}:${sample.line}: a sample named ${sample.name} exists already (${origin.get(name).doc}:${origin.get(name).line})`);
      // The context goes on the sample's first line's left, so line numbers still match;
      // `export {}` makes every sample a module: its names do not clash with another's.
      const [first, ...more] = sample.code.split('\n');
      writeFileSync(join(OUT, name), [`${sample.context} ${first}`, ...more, 'export {};', ''].join('\n'));
      origin.set(name, { doc, line: sample.line });
    }
  }
  writeFileSync(
    join(OUT, 'tsconfig.json'),
    JSON.stringify({
      extends: relative(OUT, join(ROOT, 'tsconfig.base.json')),
      compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false, sourceMap: false, skipLibCheck: false, rootDir: '.' },
      include: ['*.ts'],
    }),
  );
  writeFileSync(join(OUT, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '--pretty', 'false', '-p', OUT], { encoding: 'utf8' });
  // Map "file.ts(12,5): error TS…" back to the markdown line.
  const report = `${r.stdout}${r.stderr}`.replace(/^([^\s(]+\.ts)\((\d+),(\d+)\)/gm, (whole, file, line, col) => {
    const o = origin.get(file.split('/').pop());
    return o === undefined ? whole : `${o.doc}:${o.line + Number(line) - 1}:${col}`;
  });
  if (report.trim() !== '') process.stderr.write(report);
  process.stderr.write(
    `doc samples: ${origin.size} TypeScript blocks type-checked${skipped ? `, ${skipped} marked no-check` : ''}: ${r.status === 0 ? 'ok' : 'failed'}\n`,
  );
  process.exitCode = r.status === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
