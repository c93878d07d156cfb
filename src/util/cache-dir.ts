import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * What the state root's caches share (cache/validated, cache/parsed,
 * cache/seccomp): a directory of entries, made 0700 only where the state root
 * already exists, and kept to a number of entries by removing the oldest.
 * Losing an entry only costs the work it saved.
 */

/** Makes the cache directory and its parent (the state root's cache/), never more: the state root itself is the engine's to make. */
export function makeCacheDir(dir: string): void {
  for (const d of [dirname(dir), dir]) {
    try {
      mkdirSync(d, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** Past `max` entries (of the names `counts` accepts), the oldest go. */
export function pruneOldest(dir: string, max: number, counts: (name: string) => boolean = () => true): void {
  const names = readdirSync(dir).filter(counts);
  if (names.length <= max) return;
  const byAge = names.map((name) => ({ name, time: mtimeOf(join(dir, name)) })).sort((a, b) => a.time - b.time);
  for (const { name } of byAge.slice(0, names.length - max)) rmSync(join(dir, name), { force: true });
}

function mtimeOf(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
