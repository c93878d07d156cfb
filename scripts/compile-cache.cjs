'use strict';
// Copied into dist/bundle/ by scripts/bundle.mjs; the launchers there
// (tscompose.cjs, network-daemon.cjs) require it before the code they start.
//
// V8's code cache for the bundle's own CommonJS files: what Node 22 does with
// module.enableCompileCache(), which Node 20 lacks. Compiling the bundle was
// the largest part of a short command (a no-op `up` spent ~50 ms compiling
// and ~100 ms doing its work); with the cache a start reads compiled code.
//
// The cache sits in .v8-cache/ beside the bundle: one file per source file and
// content hash, written when the process exits (so that it holds the functions
// that ran, not only the top level), by temp file and rename. V8 checks the
// cache against the source and its own version and flags and rejects one that
// does not fit; the file is then made again. A directory that cannot be
// written (a user without rights to the install) just means no cache.
const Module = require('node:module');
const vm = require('node:vm');
const { createHash } = require('node:crypto');
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { basename, dirname, join } = require('node:path');

const bundleDir = __dirname;
const cacheDir = join(bundleDir, '.v8-cache');
const pending = [];
// import( outside comment lines (commander's JSDoc has `import("./option.js")` types).
const DYNAMIC_IMPORT = /^(?![ \t]*(?:\*|\/\/)).*\bimport\(/m;

function cachePath(filename, content) {
  const hash = createHash('sha1').update(content).digest('hex').slice(0, 16);
  return join(cacheDir, `${basename(filename)}.${hash}`);
}

function writePending() {
  if (pending.length === 0) return;
  try {
    mkdirSync(cacheDir, { recursive: true, mode: 0o755 });
    for (const { script, path } of pending.splice(0)) {
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, path);
    }
  } catch {
    /* no cache this time */
  }
}

const compile = Module.prototype._compile;
Module.prototype._compile = function compileWithCache(content, filename) {
  // A file that calls import() is left to Node: on Node 20 a script compiled from a code cache has
  // lost its import callback, and import() then throws "A dynamic import callback was not specified".
  if (dirname(filename) !== bundleDir || !filename.endsWith('.cjs') || DYNAMIC_IMPORT.test(content)) {
    return compile.call(this, content, filename);
  }
  const path = cachePath(filename, content);
  let cachedData;
  try {
    cachedData = readFileSync(path);
  } catch {
    /* not cached yet */
  }
  const script = new vm.Script(Module.wrap(content), { filename, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) pending.push({ script, path });
  const fn = script.runInThisContext({ displayErrors: true });
  const mod = this;
  const req = (id) => mod.require(id);
  req.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
  req.main = require.main;
  req.cache = Module._cache;
  return fn.call(mod.exports, mod.exports, req, mod, filename, dirname(filename));
};

process.once('exit', writePending);
