/**
 * Instructions a Node script's own process executes (not its children's), by
 * valgrind's callgrind: a figure the machine's load does not move, to quote
 * beside the noisy milliseconds (`installed-cli.ts --instructions`,
 * `build-noop.ts --instructions`).
 */
import { spawn } from 'node:child_process';
import { readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Runs `node script ...argv` once under callgrind in `dir`; keepAs: where its profile goes (for callgrind_annotate), else it is removed. */
export async function callgrindInstructions(script: string, argv: readonly string[], env: NodeJS.ProcessEnv, dir: string, keepAs?: string): Promise<number> {
  const out = join(dir, 'callgrind.out');
  const log = join(dir, 'callgrind.log');
  await new Promise<void>((resolve, reject) => {
    const child = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, `--log-file=${log}`, process.execPath, script, ...argv], { stdio: ['ignore', 'ignore', 'pipe'], env, cwd: dir });
    let err = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`valgrind node ${script} ${argv.join(' ')} exited ${code}: ${err}`))));
  });
  const m = /Collected : (\d+)/.exec(readFileSync(log, 'utf8'));
  if (!m) throw new Error(`no instruction count in ${log}`);
  if (keepAs) renameSync(out, keepAs);
  else rmSync(out, { force: true });
  rmSync(log, { force: true });
  return Number(m[1]);
}
