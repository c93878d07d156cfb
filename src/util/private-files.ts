import { UserError } from './errors.js';
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';

/**
 * Opening the engine's own small files (locks, pid files, transient configs)
 * so that no other local user can stall or steer it: never following a
 * symlink (O_NOFOLLOW), never blocking (O_NONBLOCK: a FIFO planted in place
 * of a file would block a plain open for ever), and refusing anything but a
 * regular file owned by us. The directories they live in must be writable by
 * us alone (checkPrivateDir).
 */

/** A user's to fix (they, or debris, put it there): printed as the sentence it is. */
export class ForeignFileError extends UserError {}

const KINDS: [(s: Stats) => boolean, string][] = [
  [(s) => s.isFIFO(), 'a FIFO'],
  [(s) => s.isSymbolicLink(), 'a symbolic link'],
  [(s) => s.isDirectory(), 'a directory'],
  [(s) => s.isSocket(), 'a socket'],
  [(s) => s.isCharacterDevice(), 'a character device'],
  [(s) => s.isBlockDevice(), 'a block device'],
];

function me(): number {
  return process.geteuid?.() ?? 0;
}

/** Throws ForeignFileError unless `st` (an lstat of `path`) is a regular file owned by us. `what`: "lock", "pid"... */
export function refuseForeign(path: string, st: Stats, what: string): void {
  if (!st.isFile()) {
    const kind = KINDS.find(([is]) => is(st))?.[1] ?? 'not a regular file';
    throw new ForeignFileError(`${path} is ${kind}, not a ${what} file of tscompose (those are regular files owned by uid ${me()}): no tscompose process made it; remove it`);
  }
  if (st.uid !== me()) {
    throw new ForeignFileError(`${path} is owned by uid ${st.uid}, not by uid ${me()}: no tscompose process made this ${what} file; remove it`);
  }
}

/** open(2) with O_NOFOLLOW|O_NONBLOCK, then refused unless it is a regular file of ours. */
export function openPrivateFile(path: string, flags: number, mode = 0o600, what = 'state'): number {
  let fd: number;
  try {
    fd = openSync(path, flags | constants.O_NOFOLLOW | constants.O_NONBLOCK, mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ELOOP: the last component is a symlink. ENXIO: a FIFO with no reader, opened for writing.
    if (code === 'ELOOP' || code === 'ENXIO') {
      const st = statSafe(path);
      if (st) refuseForeign(path, st, what);
    }
    throw err;
  }
  try {
    refuseForeign(path, fstatSync(fd), what);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

function statSafe(path: string): Stats | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}

/** Reads a small file of ours (at most `max` bytes) through openPrivateFile. */
export function readPrivateFile(path: string, max = 1 << 20, what = 'state'): string {
  const fd = openPrivateFile(path, constants.O_RDONLY, 0, what);
  try {
    const buf = Buffer.alloc(max);
    let off = 0;
    for (;;) {
      const n = readSync(fd, buf, off, max - off, null);
      if (n === 0 || off + n >= max) return buf.subarray(0, off + n).toString('utf8');
      off += n;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Refuses a directory that another user could write into (they could plant a
 * FIFO, a symlink or a lock naming their own process there). Missing
 * directories pass: the caller's create fails or makes them root-only.
 */
export function checkPrivateDir(dir: string, what: string): void {
  const st = statSync(dir, { throwIfNoEntry: false });
  if (!st) return;
  if (!st.isDirectory()) throw new ForeignFileError(`${dir} is not a directory: tscompose cannot keep its ${what} files there`);
  if (st.uid !== me() || (st.mode & 0o022) !== 0) {
    throw new ForeignFileError(
      `refusing to keep ${what} files in ${dir}: it is ${st.uid !== me() ? `owned by uid ${st.uid}` : `writable by other users (mode ${(st.mode & 0o7777).toString(8)})`}; ` +
        `tscompose keeps its locks, pid files and sockets only in directories that only uid ${me()} can write`,
    );
  }
}
