/**
 * A bench option: where a CLI command's time goes. The command runs once more,
 * untimed, with bench/trace-preload.ts loaded (`node --import`), and the
 * bench prints Node's start-up, the loading of the CLI's files (the heaviest
 * by name), garbage collection, and what is left: the command's own work.
 * The traced run pays for the preload (the ES module loader it starts, ~2-5
 * ms) and the tracing itself; read the split, not the total.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TraceRecord } from './trace-preload.js';

const PRELOAD = pathToFileURL(join(import.meta.dirname, 'trace-preload.js')).href;

/** Runs `node script ...args` once with the tracer; resolves to its record (rejects when it fails). */
export async function traceRun(script: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<TraceRecord> {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-bench-trace-'));
  const out = join(dir, 'trace.json');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', PRELOAD, script, ...args], { cwd, env: { ...env, TSCOMPOSE_BENCH_TRACE: out }, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`traced ${script} ${args.join(' ')} exited ${code}: ${err}`))));
    });
    return JSON.parse(readFileSync(out, 'utf8')) as TraceRecord;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The trace as a few lines: the split of the time, then the files that took longest to load. */
export function formatTrace(label: string, t: TraceRecord, heaviest = 12): string {
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  const loading = t.files.reduce((s, f) => s + f.selfMs, 0);
  const ours = t.files.filter((f) => !f.file.startsWith('node:'));
  const bytes = ours.reduce((s, f) => s + f.bytes, 0);
  const rest = t.totalMs - t.startupMs - loading;
  const top = [...t.files].sort((a, b) => b.selfMs - a.selfMs).slice(0, heaviest);
  return [
    `trace of ${label}: ${ms(t.totalMs)} in all: Node's start-up ${ms(t.startupMs)}, loading ${ours.length} files (${(bytes / 1024).toFixed(0)} KiB) and ${t.files.length - ours.length} of Node's modules ${ms(loading)}, ` +
      `the command's own work ${ms(rest)}; garbage collection ${ms(t.gcMs)} in ${t.gcCount} collections (counted within those)`,
    `  loading, heaviest: ${top.map((f) => `${basename(f.file)}${contents(f.file)} ${ms(f.selfMs)}${f.bytes ? ` (${(f.bytes / 1024).toFixed(0)} KiB)` : ''}`).join(', ')}`,
  ].join('\n');
}

/** What a bundle chunk holds, by the first classes and functions it declares (its name is a hash). */
function contents(file: string): string {
  if (!/\/chunk-[^/]*\.cjs$/.test(file)) return '';
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return '';
  }
  const names = [...text.matchAll(/^(?:async )?(?:function\*? |class )([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]!).filter((n) => !n.startsWith('require_'));
  return names.length ? ` [${names.slice(0, 3).join(' ')}]` : '';
}

/** Traces one command and prints it. */
export async function printTrace(label: string, script: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<void> {
  console.log(formatTrace(label, await traceRun(script, args, env, cwd)));
}
