import {
  closeSync, constants as fsc, createReadStream, createWriteStream, linkSync, lchownSync, lstatSync, lutimesSync, mkdirSync, openSync, readSync,
  symlinkSync, unlinkSync, utimesSync, chmodSync, chownSync, rmSync, type Stats,
} from 'node:fs';
import { spawn } from 'node:child_process';
import { createGunzip } from 'node:zlib';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { tar, type TarHeader } from '../../engine/native/image/index.js';
import { resolveInRoot } from './scoped.js';
import { CopyError } from './copy.js';

/**
 * ADD's local archives: a tar (plain, gzip, bzip2 or xz — recognised by its
 * first bytes, as Docker does, not by its name) is unpacked into the
 * destination directory instead of copied. Entries keep their owners and
 * modes; every path, hardlink target and parent is resolved inside the
 * container's root, so an archive cannot write outside it however its
 * entries and the image's symlinks are arranged.
 */

export type ArchiveKind = 'tar' | 'gzip' | 'bzip2' | 'xz';

export function archiveKind(path: string): ArchiveKind | undefined {
  const head = Buffer.alloc(512);
  const fd = openSync(path, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (n >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (n >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (n >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  return undefined;
}

function decompress(path: string, kind: ArchiveKind): { stream: Readable; done: Promise<void> } {
  if (kind === 'tar') return { stream: createReadStream(path), done: Promise.resolve() };
  if (kind === 'gzip') {
    const gunzip = createGunzip();
    const src = createReadStream(path);
    src.on('error', (e) => gunzip.destroy(e));
    return { stream: src.pipe(gunzip), done: Promise.resolve() };
  }
  const tool = kind === 'bzip2' ? 'bzip2' : 'xz';
  const child = spawn(tool, ['-dc', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', () => reject(new CopyError(`${tool} is needed to unpack ${posix.basename(path)} (apt-get install -y ${kind === 'bzip2' ? 'bzip2' : 'xz-utils'})`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new CopyError(`${tool} -d ${posix.basename(path)} failed: ${err.trim()}`))));
  });
  return { stream: child.stdout, done };
}

/** Unpacks the archive at `path` into `destDir` (absolute, in the container) of the root. */
export async function extractArchiveInRoot(root: string, path: string, kind: ArchiveKind, destDir: string): Promise<void> {
  const { stream, done } = decompress(path, kind);
  const extract = tar.extract();
  const dirTimes: [string, Date][] = [];
  extract.on('entry', (header, body, next) => {
    writeEntry(root, destDir, header, body as unknown as Readable, dirTimes).then(() => next(), (e: unknown) => next(e as Error));
  });
  await Promise.all([pipeline(stream, extract), done]);
  for (const [p, t] of dirTimes.reverse()) utimesSync(p, t, t);
}

function lstatOr(p: string): Stats | undefined {
  try { return lstatSync(p); } catch { return undefined; }
}

async function writeEntry(root: string, destDir: string, h: TarHeader, body: Readable, dirTimes: [string, Date][]): Promise<void> {
  const name = posix.normalize(`/${h.name}`).replace(/\/+$/, '');
  if (name === '/') {
    body.resume();
    return;
  }
  const inContainer = posix.join(destDir, name);
  const parent = resolveInRoot(root, posix.dirname(inContainer));
  if (!parent.st) mkdirSync(parent.path, { recursive: true, mode: 0o755 });
  else if (!parent.st.isDirectory()) throw new CopyError(`${h.name} in the archive: ${posix.dirname(inContainer)} is not a directory`);
  const target = join(parent.path, posix.basename(inContainer));
  const existing = lstatOr(target);
  const mode = (h.mode ?? 0o644) & 0o7777;
  const uid = h.uid ?? 0;
  const gid = h.gid ?? 0;
  const mtime = h.mtime ?? new Date();
  if (h.type === 'directory') {
    body.resume();
    if (existing && !existing.isDirectory()) unlinkSync(target);
    if (!existing?.isDirectory()) mkdirSync(target, { mode: 0o700 });
    chownSync(target, uid, gid);
    chmodSync(target, mode);
    dirTimes.push([target, mtime]);
    return;
  }
  if (existing?.isDirectory()) rmSync(target, { recursive: true, force: true });
  else if (existing) unlinkSync(target);
  switch (h.type) {
    case 'file':
    case 'contiguous-file': {
      const fd = openSync(target, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
      try {
        await pipeline(body, createWriteStream('', { fd, autoClose: false }));
      } finally {
        closeSync(fd);
      }
      chownSync(target, uid, gid);
      chmodSync(target, mode);
      utimesSync(target, mtime, mtime);
      return;
    }
    case 'symlink':
      body.resume();
      symlinkSync(h.linkname ?? '', target);
      lchownSync(target, uid, gid);
      lutimesSync(target, mtime, mtime);
      return;
    case 'link': {
      body.resume();
      // A hardlink names another entry of the archive: resolved inside the root like any path.
      const src = resolveInRoot(root, posix.join(destDir, posix.normalize(`/${h.linkname ?? ''}`)), false);
      if (!src.st || src.st.isDirectory()) throw new CopyError(`${h.name} in the archive links to ${h.linkname}, which is not a file of it`);
      linkSync(src.path, target);
      return;
    }
    default:
      // Devices and fifos in an ADDed archive are skipped, as an unprivileged extraction would.
      body.resume();
  }
}
