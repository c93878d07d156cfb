/**
 * Loaded into a traced CLI process by `node --import` (bench/trace.ts): where
 * its time goes, with no V8 flag (a flag such as --cpu-prof changes V8's flag
 * hash, so the code cache is rejected and the traced run compiles everything,
 * which an untraced run does not). It records, per file the process loads
 * (CommonJS, as the bundle is), the time spent loading it less that of the
 * files it loads in turn, and its size; the time of garbage collections; and
 * when the process began and ended. At exit it writes them as JSON to the
 * path in TSCOMPOSE_BENCH_TRACE.
 */
import { createRequire } from 'node:module';
import { statSync, writeFileSync } from 'node:fs';
import { performance, PerformanceObserver } from 'node:perf_hooks';

export interface LoadedFile {
  file: string;
  /** Bytes of the file (0 for Node's own modules). */
  bytes: number;
  /** ms loading it (reading, compiling or reading its code cache, running its top level), those it requires excluded. */
  selfMs: number;
}

export interface TraceRecord {
  /** ms from the process's start to the preload (Node's own start-up). */
  startupMs: number;
  /** ms from the process's start to its exit. */
  totalMs: number;
  gcMs: number;
  gcCount: number;
  files: LoadedFile[];
}

const out = process.env.TSCOMPOSE_BENCH_TRACE;
if (out) {
  const require = createRequire(import.meta.url);
  const Module = require('node:module') as {
    _load: (request: string, parent: unknown, isMain: boolean) => unknown;
    _resolveFilename: (request: string, parent: unknown, isMain: boolean) => string;
  };
  const startupMs = performance.now();
  const files = new Map<string, LoadedFile>();
  const stack: Array<{ childMs: number }> = [];
  let gcMs = 0;
  let gcCount = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      gcCount++;
    }
  }).observe({ entryTypes: ['gc'] });

  const load = Module._load;
  Module._load = function tracedLoad(this: unknown, request: string, parent: unknown, isMain: boolean): unknown {
    let file: string;
    try {
      file = request.startsWith('node:') ? request : Module._resolveFilename(request, parent, isMain);
    } catch {
      file = request;
    }
    const seen = files.has(file);
    const frame = { childMs: 0 };
    stack.push(frame);
    const t0 = performance.now();
    try {
      return load.call(this, request, parent, isMain);
    } finally {
      const ms = performance.now() - t0;
      stack.pop();
      if (stack.length) stack[stack.length - 1]!.childMs += ms;
      const entry = files.get(file) ?? { file, bytes: seen || file.startsWith('node:') ? 0 : sizeOf(file), selfMs: 0 };
      entry.selfMs += ms - frame.childMs;
      files.set(file, entry);
    }
  };

  process.once('exit', () => {
    const record: TraceRecord = { startupMs, totalMs: performance.now(), gcMs, gcCount, files: [...files.values()] };
    writeFileSync(out, JSON.stringify(record));
  });
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
