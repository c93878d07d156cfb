#!/usr/bin/env node
// Bundles the compiled CLI and the network daemon (tsc's output in dist/) into
// dist/bundle/: a few CommonJS files instead of ~240 ES modules to find, read
// and link, started by launchers that keep V8's code cache for them
// (compile-cache.cjs). Node 20 has no compile cache of its own, and a short
// command spent more time loading code than working: a no-op `up` of 10
// services took 0.45 s unbundled, 0.32 s bundled as ES modules, and 0.22 s
// bundled as CommonJS with the cache.
//
// Usage: node scripts/bundle.mjs [DIST_DIR]   (default: dist, next to this script's parent)
//
// dist/bundle/tscompose.cjs        the CLI (bin/tscompose loads it)
// dist/bundle/network-daemon.cjs   the daemon (src/daemon/main.ts; src/network/daemon/client.ts spawns it)
// dist/bundle/api.mjs              the Node API (src/package: what `import ... from 'tscompose'` gives),
//                                  an ES module with every package external; it finds the daemon beside it
// dist/types/                      the API's type declarations: those of tsc's .d.ts that package/index.d.ts
//                                  reaches, and no other (the npm package ships them, not src/)
//
// Packages stay external (loaded from node_modules as before) except the three
// that every command loads and that are many small files: yaml, commander and
// chalk. tar-stream in particular must stay external: image/tarlib.ts patches
// its headers module through require(), which must see the one instance.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinModules } from 'node:module';
import { build } from 'rolldown';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = resolve(process.argv[2] ?? join(root, 'dist'));
const entries = { cli: join(dist, 'cli/main.js'), daemon: join(dist, 'daemon/main.js') };
const apiEntry = join(dist, 'package/index.js');
for (const file of [...Object.values(entries), apiEntry]) {
  if (!existsSync(file)) throw new Error(`bundle: ${file} is missing; run tsc first`);
}

const BUNDLED = new Set(['yaml', 'commander', 'chalk']);
const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
const packageOf = (id) => (id.startsWith('@') ? id.split('/').slice(0, 2).join('/') : id.split('/')[0]);

const out = join(dist, 'bundle');
rmSync(out, { recursive: true, force: true });
await build({
  input: entries,
  platform: 'node',
  logLevel: 'warn',
  onLog(level, log, handler) {
    // A package it cannot find would be left as a bare require that fails at run time, far from here.
    if (log.code === 'UNRESOLVED_IMPORT') throw new Error(`bundle: ${log.message}`);
    handler(level, log);
  },
  // The bundled packages by their path under node_modules, not the real one a symlinked node_modules
  // points to: the output then does not depend on where the packages live (a copy of the tree packed
  // with a linked node_modules makes the same bundle as the checkout, and names no path outside it).
  resolve: { symlinks: false },
  external: (id) => {
    if (builtins.has(id)) return true;
    // Relative and absolute paths, and a package's own "imports" (#name, as chalk uses), are resolved in place.
    if (id.startsWith('.') || id.startsWith('/') || id.startsWith('#')) return false;
    return !BUNDLED.has(packageOf(id));
  },
  output: { dir: out, format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: 'chunk-[hash].cjs' },
});

// ASCII only: V8 keeps a source with one non-ASCII character (an arrow in a message) as a two-byte
// string, decoded from UTF-8 on every start and scanned at half the speed. An escape means the same
// character in a string, a regular expression, an identifier or a comment.
for (const f of readdirSync(out).filter((name) => name.endsWith('.cjs'))) {
  const text = readFileSync(join(out, f), 'utf8');
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(text)) {
    if (/String\.raw|\\[^\x00-\x7f]/.test(text)) throw new Error(`bundle: ${f} has String.raw or an escaped non-ASCII character, where an escape would change the text`);
    writeFileSync(join(out, f), text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  }
}

// The code cache's launcher, told the build's id (a hash of its files: an entry of another build is
// never read) and which files it may cache: all but those that call import() outside comment lines
// (commander's JSDoc has `import("./option.js")` types), which Node 20 cannot run from a code cache.
const DYNAMIC_IMPORT = /^(?![ \t]*(?:\*|\/\/)).*\bimport\(/m;
const built = readdirSync(out).filter((f) => f.endsWith('.cjs')).sort();
const buildHash = createHash('sha1');
for (const f of built) buildHash.update(f).update('\0').update(readFileSync(join(out, f))).update('\0');
const cacheable = built.filter((f) => !DYNAMIC_IMPORT.test(readFileSync(join(out, f), 'utf8')));
const BUILD_LINE = "const BUILD = { id: '', cacheable: [] };";
const cacheSource = readFileSync(join(root, 'scripts/compile-cache.cjs'), 'utf8');
if (!cacheSource.includes(BUILD_LINE)) throw new Error('bundle: scripts/compile-cache.cjs lost its BUILD line');
// The launchers themselves (written below) are cached too: they are part of every start.
const manifest = { id: buildHash.digest('hex').slice(0, 16), cacheable: [...cacheable, 'tscompose.cjs', 'network-daemon.cjs'] };
writeFileSync(join(out, 'compile-cache.cjs'), cacheSource.replace(BUILD_LINE, `const BUILD = ${JSON.stringify(manifest)};`));
const launcher = (entry) => `'use strict';\n// Generated by scripts/bundle.mjs.\nrequire('./compile-cache.cjs');\nrequire('./${entry}');\n`;
writeFileSync(join(out, 'tscompose.cjs'), launcher('cli.cjs'));
writeFileSync(join(out, 'network-daemon.cjs'), launcher('daemon.cjs'));

// The Node API: an ES module (import.meta.url, lazy import() at the engine seams, as tsc wrote them).
// Its own chunks, so that neither build's chunking changes the other's.
await build({
  input: { api: apiEntry },
  platform: 'node',
  logLevel: 'warn',
  onLog(level, log, handler) {
    if (log.code === 'UNRESOLVED_IMPORT') throw new Error(`bundle: ${log.message}`);
    // The engine's lazy seams save a short CLI command its start-up; a test suite that imports the API
    // loads it once, and the API's static imports reaching a lazily imported module cost it nothing.
    if (log.code === 'INEFFECTIVE_DYNAMIC_IMPORT') return;
    handler(level, log);
  },
  external: (id) => !(id.startsWith('.') || id.startsWith('/') || id.startsWith('#')),
  output: { dir: out, format: 'esm', entryFileNames: '[name].mjs', chunkFileNames: 'api-chunk-[hash].mjs' },
});

// The declarations package/index.d.ts reaches, copied with their relative layout.
const types = join(dist, 'types');
rmSync(types, { recursive: true, force: true });
const DTS_IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
const seen = new Set();
const queue = ['package/index.d.ts'];
while (queue.length) {
  const rel = queue.pop();
  if (seen.has(rel)) continue;
  seen.add(rel);
  const file = join(dist, rel);
  if (!existsSync(file)) throw new Error(`bundle: ${file} is missing (is declaration on in tsconfig.build.json?)`);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(DTS_IMPORT)) queue.push(join(dirname(rel), m[1].replace(/\.js$/, '.d.ts')));
  mkdirSync(dirname(join(types, rel)), { recursive: true });
  writeFileSync(join(types, rel), text);
}
