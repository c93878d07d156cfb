import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run, type RunResult } from '../../src/util/proc.js';
import { repoRoot } from './cache.js';

/**
 * The npm package as a user gets it, for the package's tests and benchmark:
 * packed from a copy of this tree (its prepack and prepare scripts build
 * everything there, so that no other test's dist/ changes under it) and
 * installed with --ignore-scripts.
 */

/** The environment of a user's shell: none of the test runner's npm or vitest variables, no override of where our code is. */
export function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /^(npm_|VITEST|TSCOMPOSE_)/.test(k) || k === 'NODE_ENV') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export async function runOk(cmd: string, args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<RunResult> {
  const r = await run(cmd, args, { cwd: opts.cwd, env: opts.env ?? userEnv() });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

/** npm as a user runs it, from the registry or npm's cache. */
export const npm = (args: string[], cwd: string) => runOk('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], { cwd });

/** Every file git knows of in the working tree (committed or not, ignored ones left out), copied; node_modules linked. */
export function copyTree(to: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f && existsSync(join(repoRoot, f)));
  for (const f of files) {
    mkdirSync(dirname(join(to, f)), { recursive: true });
    cpSync(join(repoRoot, f), join(to, f), { verbatimSymlinks: true });
  }
  symlinkSync(join(repoRoot, 'node_modules'), join(to, 'node_modules'));
}

/** `npm pack` of a copy of the tree made in `work/tree`; the tarball's path. */
export async function packTree(work: string): Promise<string> {
  const tree = join(work, 'tree');
  copyTree(tree);
  await npm(['pack', '--pack-destination', work], tree);
  const packed = readdirSync(work).filter((f) => f.endsWith('.tgz'));
  if (packed.length !== 1) throw new Error(`npm pack made ${packed.join(', ') || 'nothing'}`);
  return join(work, packed[0]!);
}

/** `npm install -g --prefix PREFIX --ignore-scripts TARBALL`; the installed package's directory. */
export async function installGlobally(tarball: string, prefix: string): Promise<string> {
  await npm(['install', '--global', '--prefix', prefix, '--ignore-scripts', tarball], dirname(tarball));
  return join(prefix, 'lib', 'node_modules', 'tscompose');
}
