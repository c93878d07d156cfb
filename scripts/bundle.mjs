#!/usr/bin/env node
// Bundles the compiled CLI and the network daemon (tsc's output in dist/) into
// dist/bundle/: a few files instead of ~240 modules to find, read and link.
// Node 20 has no compile cache for ES modules, so a `tscompose ps` spent more
// time loading modules than working; bundled, a no-op `up` starts ~0.1 s sooner.
//
// Usage: node scripts/bundle.mjs [DIST_DIR]   (default: dist, next to this script's parent)
//
// Packages stay external (loaded from node_modules as before) except the three
// that every command loads and that are many small files: yaml, commander and
// chalk. tar-stream in particular must stay external: image/tarlib.ts patches
// its headers module through require(), which must see the one instance.
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinModules } from 'node:module';
import { build } from 'rolldown';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = resolve(process.argv[2] ?? join(root, 'dist'));
const entries = { tscompose: join(dist, 'cli/main.js'), 'network-daemon': join(dist, 'network/daemon/main.js') };
for (const file of Object.values(entries)) {
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
    // A package it cannot find would be left as a bare import that fails at run time, far from here.
    if (log.code === 'UNRESOLVED_IMPORT') throw new Error(`bundle: ${log.message}`);
    handler(level, log);
  },
  external: (id) => {
    if (builtins.has(id)) return true;
    // Relative and absolute paths, and a package's own "imports" (#name, as chalk uses), are resolved in place.
    if (id.startsWith('.') || id.startsWith('/') || id.startsWith('#')) return false;
    return !BUNDLED.has(packageOf(id));
  },
  output: { dir: out, format: 'esm', entryFileNames: '[name].js', chunkFileNames: 'chunk-[hash].js' },
});
