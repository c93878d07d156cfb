/**
 * What the network benchmarks share: a scratch pair of tscompose roots, the
 * CLI run against them, free ports, and the clean-up of whatever a bench made
 * on both engines (containers, networks, images), whether it ended or failed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cli = join(repoRoot, 'bin', 'tscompose');

export function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

export interface Scratch {
  work: string;
  env: NodeJS.ProcessEnv;
  tsc(...args: string[]): string;
  /** Docker objects to remove at the end, by kind. */
  docker: { containers: string[]; networks: string[]; images: string[] };
}

export function scratch(name: string): Scratch {
  const work = mkdtempSync(join(tmpdir(), `tsc-bench-${name}-`));
  const env = { ...process.env, TSCOMPOSE_ROOT: join(work, 'state'), TSCOMPOSE_RUN: join(work, 'run') };
  return { work, env, tsc: (...args) => sh(cli, args, env), docker: { containers: [], networks: [], images: [] } };
}

export function cleanUp(s: Scratch): void {
  if (s.docker.containers.length) spawnSync('docker', ['rm', '-f', ...s.docker.containers], { stdio: 'ignore' });
  for (const n of s.docker.networks) spawnSync('docker', ['network', 'rm', n], { stdio: 'ignore' });
  if (s.docker.images.length) spawnSync('docker', ['rmi', '-f', ...s.docker.images], { stdio: 'ignore' });
  const ids = spawnSync(cli, ['container', 'ls', '-aq'], { env: s.env, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  if (ids.length) spawnSync(cli, ['container', 'rm', '-f', ...ids], { env: s.env, stdio: 'ignore' });
  spawnSync(cli, ['network', 'prune', '--force'], { env: s.env, stdio: 'ignore' });
  rmSync(s.work, { recursive: true, force: true });
}

/** Runs a bench on its scratch roots and always cleans up. */
export function benchMain(name: string, body: (s: Scratch) => Promise<void>): void {
  const s = scratch(name);
  body(s)
    .catch((err) => {
      console.error(err);
      process.exitCode = 1;
    })
    .finally(() => cleanUp(s));
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
