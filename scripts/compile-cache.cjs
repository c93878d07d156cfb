'use strict';
// Copied into dist/bundle/ by scripts/bundle.mjs; the launchers there
// (tscompose.cjs, network-daemon.cjs) require it before the code they start.
//
// V8's code cache for the bundle's own CommonJS files: what Node 22 does with
// module.enableCompileCache(), which Node 20 lacks. Compiling the bundle was
// the largest part of a short command (a no-op `up` spent ~50 ms compiling
// and ~100 ms doing its work); with the cache a start reads compiled code.
//
// Where: TSCOMPOSE_CACHE_DIR, else /var/cache/tscompose for root and
// $XDG_CACHE_HOME/tscompose (~/.cache/tscompose) for anyone else, in v8/.
// Not beside the bundle: a global install's package directory may be
// read-only, or owned by another user than the one running it. The cache is
// code this process runs, so it is used only from a directory of the user's
// own that no one else can write to (checked once, with lstat); anything
// else, or a directory that cannot be made or written, just means no cache:
// the CLI compiles its code as any Node program does, and is none the worse.
//
// One file per source file of a build, named by the file, the build's id (a
// hash of all its files, computed by scripts/bundle.mjs) and the file's size
// and modification time (a file edited by hand gets an entry of its own),
// written when the process exits (so that it holds the functions that ran,
// not only the top level), by temp file and rename; two installs of the same
// build share their entries. V8 checks an entry against the source's length
// and its own version and flags and rejects one that does not fit; the file
// is then made again. Entries of builds no longer run are pruned, oldest
// first, past MAX_ENTRIES. The build's id and which of its files may be cached
// are decided when the bundle is made, not at each start: hashing every file
// and scanning it for import() cost a no-op `up` 17 % of its instructions.
const Module = require('node:module');
const vm = require('node:vm');
const { appendFileSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { basename, dirname, join } = require('node:path');

// Filled in by scripts/bundle.mjs as it copies this file into the bundle: the build's id and the files
// that may be cached. A file that calls import() is not among them: on Node 20 a script compiled from a
// code cache has lost its import callback, and import() then throws "A dynamic import callback was
// not specified". Left empty (this file outside a bundle), nothing is cached.
const BUILD = { id: '', cacheable: [] };
const cacheable = new Set(BUILD.cacheable);

const bundleDir = __dirname;
const MAX_ENTRIES = 400;
const cacheDir = cacheLocation();
const pending = [];
/** Scripts made from an entry: written again at exit by the first run of each command (see newCommand()). */
const fromCache = [];
/** undefined: not checked yet; true: ours to read and write (or not made yet); false: not used. */
let usable;

function cacheLocation() {
  const env = process.env;
  if (env.TSCOMPOSE_CACHE_DIR) return join(env.TSCOMPOSE_CACHE_DIR, 'v8');
  if (process.geteuid && process.geteuid() === 0) return '/var/cache/tscompose/v8';
  const base = env.XDG_CACHE_HOME || (env.HOME ? join(env.HOME, '.cache') : undefined);
  return base ? join(base, 'tscompose', 'v8') : undefined;
}

/** A directory of this user's own that no one else may write to; absent is fine (made at the first write). */
function checkDir() {
  if (usable !== undefined) return usable;
  if (!cacheDir) return (usable = false);
  try {
    const st = lstatSync(cacheDir);
    usable = st.isDirectory() && st.uid === process.geteuid() && (st.mode & 0o022) === 0;
  } catch (err) {
    usable = err.code === 'ENOENT';
  }
  return usable;
}
function cachePath(filename) {
  const st = statSync(filename);
  return join(cacheDir, `${basename(filename)}.${BUILD.id}.${st.size}.${Math.trunc(st.mtimeMs)}`);
}

function writeEntry({ script, path }) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
  renameSync(tmp, path);
}

function writePending() {
  if ((pending.length === 0 && fromCache.length === 0) || !checkDir()) return;
  try {
    const widening = newCommand();
    if (pending.length === 0 && widening === undefined) return; // the usual exit: nothing to write
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    usable = undefined;
    if (!checkDir()) return;
    for (const entry of pending.splice(0)) writeEntry(entry);
    if (widening !== undefined) {
      for (const entry of fromCache.splice(0)) writeEntry(entry);
      appendFileSync(commandList(), `${widening}\n`, { mode: 0o600 });
    }
    prune();
  } catch {
    /* no cache this time */
  }
}

/**
 * An entry holds the functions that had run when it was written, by the first command that loaded
 * its file; every other command compiled the rest of what it ran, at each start (a `container run`
 * whose entries an `image import` wrote executed 8 % more than one with entries of its own). So the
 * first run of each command (the CLI names it, see cli/commands/index.ts) writes the entries it read
 * again, with what it compiled besides: after each command has run once, all run from compiled code.
 * The commands that did are listed in commands.<build id>. This run's command when it is not listed.
 */
function newCommand() {
  const command = globalThis[Symbol.for('tscompose.command')];
  if (typeof command !== 'string' || !/^[a-z][a-z_ -]*$/.test(command)) return undefined;
  let done = '';
  try {
    done = readFileSync(commandList(), 'utf8');
  } catch {
    /* none yet */
  }
  return done.split('\n').includes(command) ? undefined : command;
}

function commandList() {
  return join(cacheDir, `commands.${BUILD.id}`);
}

/**
 * Past MAX_ENTRIES, the oldest entries go, other builds' first: one build that has run all its commands
 * holds some 130, so two builds in use at once (a global install beside a checkout, or the builds of
 * several checkouts) pruned each other's entries at every exit when age alone decided, and each
 * compiled its code again at every start.
 */
function prune() {
  const names = readdirSync(cacheDir);
  if (names.length <= MAX_ENTRIES) return;
  const ours = `.${BUILD.id}`;
  const byAge = names
    .map((name) => {
      try {
        return { name, time: lstatSync(join(cacheDir, name)).mtimeMs, mine: name.includes(ours) };
      } catch {
        return { name, time: 0, mine: false };
      }
    })
    .sort((a, b) => Number(a.mine) - Number(b.mine) || a.time - b.time);
  for (const { name } of byAge.slice(0, names.length - MAX_ENTRIES)) rmSync(join(cacheDir, name), { force: true });
}

// Node computes each loaded module's node_modules search list from its directory, character by
// character; for the fifty-odd chunks of one directory that loop ran fifty times, and from a global
// install's long path it ran long enough for V8 to compile it with its optimizing compiler: 30 M
// instructions of a 380 M `container run`. The list depends on the directory only: computed once
// per directory, a copy handed out each time (a caller may change its module's list).
const nodeModulePaths = Module._nodeModulePaths;
const pathsByDir = new Map();
Module._nodeModulePaths = function nodeModulePathsOnce(from) {
  let paths = pathsByDir.get(from);
  if (paths === undefined) pathsByDir.set(from, (paths = nodeModulePaths.call(this, from)));
  return paths.slice();
};

const compile = Module.prototype._compile;
Module.prototype._compile = function compileWithCache(content, filename) {
  if (dirname(filename) !== bundleDir || !cacheable.has(basename(filename)) || !checkDir()) {
    return compile.call(this, content, filename);
  }
  const path = cachePath(filename);
  let cachedData;
  try {
    cachedData = readFileSync(path);
  } catch {
    /* not cached yet */
  }
  const script = new vm.Script(Module.wrap(content), { filename, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) pending.push({ script, path });
  else fromCache.push({ script, path });
  const fn = script.runInThisContext({ displayErrors: true });
  const mod = this;
  const req = (id) => mod.require(id);
  req.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
  req.main = require.main;
  req.cache = Module._cache;
  return fn.call(mod.exports, mod.exports, req, mod, filename, dirname(filename));
};

process.once('exit', writePending);

// For `tscompose info`: where the cache is, and whether this process may use it. `build`: this
// build's id, which the CLI's cache of parsed compose files keys its entries by (src/project/parsed-trees.ts).
Object.defineProperty(globalThis, Symbol.for('tscompose.codeCache'), {
  value: Object.freeze({ dir: cacheDir, build: BUILD.id, get usable() { return checkDir(); } }),
});
