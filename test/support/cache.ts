import { existsSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root, from test/support/ or from a build of it (dist-bench/test/support/) alike. */
function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'native', 'Makefile')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The repository root, and a git-ignored cache for test fixtures that are slow to make. */
export const repoRoot = findRepoRoot();

export function cacheDir(...parts: string[]): string {
  const dir = join(repoRoot, '.cache', ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * A state and run root of the test's own under `dir`, for a CLI whose engine keeps nothing there (the
 * docker and swarm backends): the CLI still remembers parsed and validated compose files in the state
 * root, and without these it would use the host's default root (/var/lib/tscompose), outside what the
 * test cleans up.
 */
export function privateRoots(dir: string): Record<string, string> {
  return { TSCOMPOSE_ROOT: join(dir, 'state'), TSCOMPOSE_RUN: join(dir, 'run') };
}
