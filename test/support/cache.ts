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
