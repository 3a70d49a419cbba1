// `npm run pack [-- --out DIR]`: one tarball per workspace package in packed/ (or DIR).
// `node scripts/pack.js --check` (part of `npm test`) only checks the manifests.
//
// Install them together in an application, outside this repository:
//   npm install /path/to/scribe/packed/*.tgz
// The packages depend on each other by exact version, so npm resolves every
// @scribe/* dependency among the tarballs given.
//
// Each package is packed from a staging copy, so that what ships is exactly:
// package.json, LICENSE, dist/ (without .tsbuildinfo, and only the output of sources
// that still exist), src/ (what the source maps
// point to, without tests), bin/, and a README whose links work outside the
// repository: links into the repository's docs/ point to copies shipped in the
// tarball's docs/, links to another package point to its npm page, and any other
// link that leaves the package becomes plain text.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const { values } = parseArgs({ options: { out: { type: 'string' }, check: { type: 'boolean' } } });
const OUT = resolve(values.out ?? join(ROOT, 'packed'));

const rootPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const packages = rootPkg.workspaces.map((w) => {
  const dir = join(ROOT, w);
  return { dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) };
});
const byName = new Map(packages.map((p) => [p.pkg.name, p]));

/** The manifest rules the tarballs rely on; returns what is wrong. */
export function manifestProblems() {
  const problems = [];
  const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
  for (const { dir, pkg } of packages) {
    const where = `${pkg.name} (${relative(ROOT, dir)}/package.json)`;
    if (pkg.engines?.node === undefined) problems.push(`${where}: no engines.node`);
    if (!existsSync(join(dir, 'LICENSE')) || readFileSync(join(dir, 'LICENSE'), 'utf8') !== license) {
      problems.push(`${where}: LICENSE missing or different from the root LICENSE`);
    }
    // A manifest lists exactly what the package's code imports (types-only packages aside).
    const imported = importsOf(join(dir, 'src'));
    // optionalDependencies count: a package loaded with import() only when a feature asks for it (the CLI's pino-pretty).
    const declared = new Set([
      ...Object.keys(pkg.dependencies ?? {}),
      ...Object.keys(pkg.peerDependencies ?? {}),
      ...Object.keys(pkg.optionalDependencies ?? {}),
    ]);
    for (const name of imported) if (!declared.has(name)) problems.push(`${where}: imports ${name} but does not list it in dependencies, peerDependencies or optionalDependencies`);
    for (const name of declared) if (!imported.has(name) && !name.startsWith('@types/')) problems.push(`${where}: lists ${name} but never imports it`);
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies']) {
      for (const [name, range] of Object.entries(pkg[field] ?? {})) {
        const dep = byName.get(name);
        if (dep !== undefined && range !== dep.pkg.version) {
          problems.push(`${where}: ${field}.${name} is "${range}", expected exactly "${dep.pkg.version}" (the tarballs resolve among themselves)`);
        }
      }
    }
  }
  return problems;
}

/** The packages a source tree imports (bare specifiers, by package name; node: builtins aside). */
function importsOf(srcDir) {
  const names = new Set();
  for (const entry of readdirSync(srcDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts')) continue;
    const text = readFileSync(join(entry.parentPath ?? entry.path, entry.name), 'utf8');
    const specs = [
      ...text.matchAll(/^\s*(?:import|export)\s[^'"]*?\bfrom\s*['"]([^'"]+)['"]/gm), // import … from 'x', export … from 'x'
      ...text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm), // import 'x'
      ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g), // import('x')
    ].map((m) => m[1]);
    for (const spec of specs) {
      if (spec.startsWith('node:') || spec.startsWith('.')) continue;
      names.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
    }
  }
  return names;
}

const LINK = /\[([^\]]*)\]\(([^)\s]+)\)/g;

/**
 * Rewrites the relative links of a markdown file that ships at `shippedDir` (a
 * directory of the staged package) and came from `sourceFile` in the repository.
 * Returns the new text and the repository docs it links to (to ship them too).
 */
function rewriteLinks(text, sourceFile, docsPrefix) {
  const docs = new Set();
  const out = text.replace(LINK, (whole, label, href) => {
    if (/^[a-z]+:/i.test(href) || href.startsWith('#')) return whole;
    const [path, anchor] = href.split('#');
    const target = resolve(dirname(sourceFile), path);
    const suffix = anchor === undefined ? '' : `#${anchor}`;
    const docsDir = join(ROOT, 'docs');
    if (dirname(target) === docsDir && target.endsWith('.md')) {
      docs.add(basename(target));
      return `[${label}](${docsPrefix}${basename(target)}${suffix})`;
    }
    const pkg = packages.find((p) => target === p.dir || target === join(p.dir, 'README.md'));
    if (pkg !== undefined) return `[${label}](https://www.npmjs.com/package/${pkg.pkg.name})`;
    return `${label} (\`${relative(ROOT, target).split(sep).join('/')}\` in the scribe repository)`;
  });
  return { text: out, docs };
}

/** Copies one package into a staging directory as it must ship. */
function stage({ dir, pkg }, into) {
  cpSync(join(dir, 'package.json'), join(into, 'package.json'));
  cpSync(join(dir, 'LICENSE'), join(into, 'LICENSE'));
  // tsc -b never deletes the output of a source file that was removed or renamed, so
  // a dist/ file ships only while its source exists (no stale modules from old builds).
  const fromCurrentSource = (file) => {
    const rel = relative(join(dir, 'dist'), file);
    if (statSync(file).isDirectory()) return true;
    const stem = rel.replace(/(\.d)?\.(js|ts)(\.map)?$/, '');
    return stem !== rel && existsSync(join(dir, 'src', `${stem}.ts`));
  };
  const keep = (file) => {
    if (file.endsWith('.tsbuildinfo') || file.endsWith('.test.ts')) return false;
    return file === join(dir, 'dist') || !file.startsWith(join(dir, 'dist') + sep) || fromCurrentSource(file);
  };
  for (const sub of ['dist', 'src', 'bin']) {
    if (existsSync(join(dir, sub))) cpSync(join(dir, sub), join(into, sub), { recursive: true, filter: keep });
  }
  if (!existsSync(join(into, 'dist'))) throw new Error(`${pkg.name}: dist/ is missing; run npm run build first`);
  // README, then the docs it reaches (and the docs those reach), each with links rewritten.
  const readme = rewriteLinks(readFileSync(join(dir, 'README.md'), 'utf8'), join(dir, 'README.md'), 'docs/');
  writeFileSync(join(into, 'README.md'), readme.text);
  const pending = [...readme.docs];
  const shipped = new Set();
  while (pending.length > 0) {
    const name = pending.pop();
    if (shipped.has(name)) continue;
    shipped.add(name);
    const source = join(ROOT, 'docs', name);
    const doc = rewriteLinks(readFileSync(source, 'utf8'), source, '');
    mkdirSync(join(into, 'docs'), { recursive: true });
    writeFileSync(join(into, 'docs', name), doc.text);
    pending.push(...doc.docs);
  }
}

function main() {
  const problems = manifestProblems();
  if (problems.length > 0) {
    process.stderr.write(`pack: the manifests are not consistent:\n  ${problems.join('\n  ')}\n`);
    process.exit(1);
  }
  if (values.check) {
    process.stderr.write(`manifests: ${packages.length} packages consistent (imports listed, exact versions among @scribe packages, engines, LICENSE)\n`);
    return;
  }
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'], { cwd: ROOT, stdio: 'inherit' });
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const staging = mkdtempSync(join(tmpdir(), 'scribe-pack-'));
  try {
    for (const p of packages) {
      const into = join(staging, basename(p.dir));
      mkdirSync(into);
      stage(p, into);
      const [result] = JSON.parse(
        execFileSync('npm', ['pack', into, '--json', '--pack-destination', OUT], { cwd: staging, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }),
      );
      process.stdout.write(`${result.filename}  ${result.entryCount} files, ${(result.size / 1024).toFixed(1)} kB\n`);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  process.stdout.write(`packed ${packages.length} packages into ${relative(process.cwd(), OUT) || '.'}; install them together: npm install ${join(OUT, '*.tgz')}\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
