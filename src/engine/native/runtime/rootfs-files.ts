import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/**
 * Reads a file of a container's root filesystem without mounting it, by
 * looking through its overlay layers (the upper dir first, then the lower
 * dirs topmost first), the way overlayfs would. Symlinks are resolved against
 * the container's root, never the host's: an image whose /etc/passwd points
 * at /etc/shadow reads the image's /etc/shadow, not ours. A whiteout (a char
 * device 0:0) hides the lower layers' entry. Opaque directories (an xattr
 * Node cannot read) are not honoured: a file deleted that way in an upper
 * layer could still be found in a lower one.
 */
const MAX_LINKS = 40;
const MAX_SIZE = 4 << 20;

function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** The topmost layer entry for a path of plain components (no symlink among them but maybe the last). */
function findEntry(layers: string[], parts: string[]): { path: string; st: Stats } | undefined {
  for (const layer of layers) {
    const path = join(layer, ...parts);
    let st: Stats;
    try {
      st = lstatSync(path);
    } catch {
      continue;
    }
    return isWhiteout(st) ? undefined : { path, st };
  }
  return undefined;
}

function resolve(layers: string[], path: string): { path: string; st: Stats } | undefined {
  let pending = path.split('/').filter(Boolean);
  const done: string[] = [];
  let links = 0;
  let entry: { path: string; st: Stats } | undefined;
  while (pending.length) {
    const comp = pending.shift()!;
    if (comp === '.') continue;
    if (comp === '..') {
      done.pop();
      continue;
    }
    entry = findEntry(layers, [...done, comp]);
    if (!entry) return undefined;
    if (entry.st.isSymbolicLink()) {
      if (++links > MAX_LINKS) return undefined;
      const target = readlinkSync(entry.path);
      if (target.startsWith('/')) done.length = 0;
      pending = [...target.split('/').filter(Boolean), ...pending];
      entry = undefined;
      continue;
    }
    if (pending.length && !entry.st.isDirectory()) return undefined;
    done.push(comp);
  }
  return entry;
}

/** The file's content, or undefined when it does not exist (or is not a regular file). */
export function readRootfsFile(layers: string[], path: string): string | undefined {
  const entry = resolve(layers, path);
  if (!entry || !entry.st.isFile()) return undefined;
  // A running container can swap the entry between our lstat and open: never follow a last symlink,
  // never block on a FIFO, and read only what is still a regular file of a sane size.
  let fd: number;
  try {
    fd = openSync(entry.path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_SIZE) return undefined;
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

export function rootfsIsDirectory(layers: string[], path: string): boolean {
  return resolve(layers, path)?.st.isDirectory() ?? false;
}
