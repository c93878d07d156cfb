import { spawn, type SpawnOptions } from 'node:child_process';
import { missingToolError } from './host-tools.js';

export interface RunResult {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions extends Omit<SpawnOptions, 'stdio'> {
  input?: string | Uint8Array;
}

/**
 * Runs a program to completion and captures its output; never throws on a
 * non-zero exit. A host program that is not installed is named with its
 * package (util/host-tools.ts).
 */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const { input, ...spawnOpts } = opts;
    const child = spawn(cmd, args, { ...spawnOpts, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', (err) => reject(missingToolError(cmd, err, (spawnOpts.env ?? process.env).PATH)));
    child.on('close', (code, signal) =>
      resolve({ code: code ?? -1, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
    child.stdin!.on('error', () => { /* the program may exit without reading its input */ });
    child.stdin!.end(input ?? '');
  });
}

/** Runs a program and throws, with its stderr, when it fails. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const what = [cmd, ...args].join(' ');
    throw new Error(`${what} failed (${r.signal ?? 'exit ' + r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return r.stdout;
}
