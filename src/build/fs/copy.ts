import {
  closeSync, constants as fsc, createReadStream, createWriteStream, lchownSync, lstatSync, lutimesSync, mkdirSync, readdirSync,
  readlinkSync, rmSync, symlinkSync, unlinkSync, utimesSync, chmodSync, chownSync, openSync, type Stats,
} from 'node:fs';
import { basename, join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { resolveInRoot } from './scoped.js';

/**
 * Copying files into a container's root filesystem (mounted, writable) the
 * way COPY does: a directory's contents (not the directory itself) go into
 * the destination, a file goes to the destination path or into it when it
 * is a directory; permission bits and modification times come from the
 * source, owners are root's unless --chown says otherwise, --chmod
 * overrides the bits. Every destination path is resolved inside the root,
 * so a symlink in the image cannot send a file out of it.
 */

export interface Owner {
  uid: number;
  gid: number;
}

export interface CopyOptions {
  /** Owner of everything copied (and of directories the copy creates); root when undefined. */
  chown?: Owner;
  /** Permission bits for everything copied. */
  chmod?: number;
}

export class CopyError extends Error {}

/**
 * What of a source directory is copied (.dockerignore): `include` says
 * whether a path goes; `descend` whether an excluded directory may still
 * hold included paths (a later `!` line), to be created only if one is.
 */
export interface CopyFilter {
  include(relBelowSource: string): boolean;
  descend(relBelowSource: string): boolean;
}

/** Creates `dir` (absolute, in the container) and its missing parents; returns its host path. */
export function mkdirInRoot(root: string, dir: string, owner: Owner | undefined): string {
  const parts = dir.split('/').filter(Boolean);
  let current = '/';
  for (const part of parts) {
    const next = posix.join(current, part);
    const r = resolveInRoot(root, next);
    if (!r.st) {
      mkdirSync(r.path, { mode: 0o755 });
      chmodSync(r.path, 0o755);
      chownSync(r.path, owner?.uid ?? 0, owner?.gid ?? 0);
    } else if (!r.st.isDirectory()) {
      throw new CopyError(`cannot create directory ${next}: it exists in the image and is not a directory`);
    }
    current = `/${r.rel}`;
  }
  return resolveInRoot(root, dir).path;
}

/** True when `path` (absolute, in the container) is a directory (symlinks followed inside the root). */
export function isDirInRoot(root: string, path: string): boolean {
  try {
    return resolveInRoot(root, path).st?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

/**
 * Copies one source (host path, already stat'ed) to `dest` in the root.
 * `intoDir`: dest is a directory (it ends with `/`, or several sources go
 * there). `filter` may skip paths below a source directory (.dockerignore).
 */
export async function copyIntoRoot(root: string, src: { path: string; st: Stats }, dest: string, intoDir: boolean, opts: CopyOptions,
  filter?: CopyFilter): Promise<void> {
  if (src.st.isDirectory()) {
    const target = mkdirInRoot(root, dest, opts.chown);
    await copyDirContents(src.path, target, '', opts, filter);
    return;
  }
  let targetPath: string;
  if (intoDir || isDirInRoot(root, dest)) {
    const dir = mkdirInRoot(root, dest, opts.chown);
    targetPath = join(dir, basename(src.path));
  } else {
    const parent = posix.dirname(dest);
    const dir = mkdirInRoot(root, parent, opts.chown);
    targetPath = join(dir, posix.basename(dest));
    // The last component may itself be a symlink in the image: replace it, do not write through it.
  }
  await copyOne(src.path, src.st, targetPath, opts);
}

/** Copies the contents of srcDir into destDir; returns how many entries it wrote. With `lazyDir`, destDir is made only if something goes in it. */
async function copyDirContents(srcDir: string, destDir: string, rel: string, opts: CopyOptions, filter?: CopyFilter,
  lazyDir?: { st: Stats }): Promise<number> {
  const dirs: [string, Stats][] = [];
  let written = 0;
  const ready = () => {
    if (lazyDir && written === 0) ensureDir(destDir, lazyDir.st, opts);
  };
  for (const name of readdirSync(srcDir).sort()) {
    const childRel = rel ? `${rel}/${name}` : name;
    const path = join(srcDir, name);
    const st = lstatSync(path);
    const target = join(destDir, name);
    if (filter && !filter.include(childRel)) {
      if (st.isDirectory() && filter.descend(childRel)) {
        ready();
        const n = await copyDirContents(path, target, childRel, opts, filter, { st });
        if (n) {
          dirs.push([target, st]);
          written += n;
        }
      }
      continue;
    }
    ready();
    if (st.isDirectory()) {
      ensureDir(target, st, opts);
      await copyDirContents(path, target, childRel, opts, filter);
      dirs.push([target, st]);
    } else {
      await copyOne(path, st, target, opts);
    }
    written++;
  }
  // Directory times last: creating their entries changed them.
  for (const [target, st] of dirs) utimesSync(target, st.atime, st.mtime);
  return written;
}

function ensureDir(target: string, st: Stats, opts: CopyOptions): void {
  let existing: Stats | undefined;
  try { existing = lstatSync(target); } catch { existing = undefined; }
  if (existing && !existing.isDirectory()) {
    unlinkSync(target);
    existing = undefined;
  }
  if (!existing) mkdirSync(target, { mode: 0o700 });
  chownSync(target, opts.chown?.uid ?? 0, opts.chown?.gid ?? 0);
  chmodSync(target, opts.chmod ?? st.mode & 0o7777);
}

/** A file, symlink or fifo at `target` (a host path already inside the root; replaced if it exists). */
async function copyOne(path: string, st: Stats, target: string, opts: CopyOptions): Promise<void> {
  let existing: Stats | undefined;
  try { existing = lstatSync(target); } catch { existing = undefined; }
  if (existing?.isDirectory()) throw new CopyError(`cannot copy ${basename(path)}: a directory of that name is at the destination`);
  if (existing) unlinkSync(target);
  const uid = opts.chown?.uid ?? 0;
  const gid = opts.chown?.gid ?? 0;
  if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(path), target);
    lchownSync(target, uid, gid);
    lutimesSync(target, st.atime, st.mtime);
    return;
  }
  if (!st.isFile()) return; // fifos, sockets and devices in a build context are not copied
  const fd = openSync(target, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
  try {
    await pipeline(createReadStream(path), createWriteStream('', { fd, autoClose: false }));
  } finally {
    closeSync(fd);
  }
  chownSync(target, uid, gid);
  chmodSync(target, opts.chmod ?? st.mode & 0o7777);
  utimesSync(target, st.atime, st.mtime);
}

/** Removes a path in the root if it exists (not following a last symlink). */
export function removeInRoot(root: string, path: string): void {
  const r = resolveInRoot(root, path, false);
  if (r.st) rmSync(r.path, { recursive: true, force: true });
}
