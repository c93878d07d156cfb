import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, and a git-ignored cache for test fixtures that are slow to make. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function cacheDir(...parts: string[]): string {
  const dir = join(repoRoot, '.cache', ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}
