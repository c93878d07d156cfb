import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/**
 * Paths inside a root directory (a container's merged rootfs, a build
 * context) resolved the way the container would see them: symlinks are
 * followed relative to the root, `..` never climbs above it, an absolute
 * link target starts again at the root. Whatever a rootfs holds, a
 * resolved path never leaves it (moby's FollowSymlinkInScope).
 */

const MAX_LINKS = 255;

export class ScopeError extends Error {}

export interface Resolved {
  /** Host path inside the root. */
  path: string;
  /** Path components below the root after resolution. */
  rel: string;
  /** lstat of the final path, or undefined when it does not exist (yet). */
  st: Stats | undefined;
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * Resolves `path` (absolute or relative to the root) inside `root`. The last
 * component's symlink is followed only with `followLast`. Components that do
 * not exist are kept as they are (the caller may create them).
 */
export function resolveInRoot(root: string, path: string, followLast = true): Resolved {
  let pending = path.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let links = 0;
  let missing = false;
  while (pending.length) {
    const comp = pending.shift()!;
    if (comp === '..') {
      done.pop();
      continue;
    }
    if (missing) {
      done.push(comp);
      continue;
    }
    const here = join(root, ...done, comp);
    const st = lstatOrUndefined(here);
    if (!st) {
      missing = true;
      done.push(comp);
      continue;
    }
    if (st.isSymbolicLink() && (pending.length > 0 || followLast)) {
      if (++links > MAX_LINKS) throw new ScopeError(`too many levels of symbolic links in ${path}`);
      const target = readlinkSync(here);
      if (target.startsWith('/')) done.length = 0;
      pending = [...target.split('/').filter((c) => c !== '' && c !== '.'), ...pending];
      continue;
    }
    if (pending.length > 0 && !st.isDirectory()) throw new ScopeError(`${join('/', ...done, comp)} is not a directory (in ${path})`);
    done.push(comp);
  }
  const rel = done.join('/');
  const full = join(root, ...done);
  return { path: full, rel, st: missing ? undefined : lstatOrUndefined(full) };
}
