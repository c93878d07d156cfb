import {
  closeSync, fchmodSync, fchownSync, futimesSync, linkSync, lchownSync, chmodSync, lstatSync, lutimesSync, mkdirSync,
  openSync, renameSync, rmSync, symlinkSync, unlinkSync, writeSync, constants as fsc, type Stats,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { posix, join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../../../util/errors.js';
import { tar, paxXattrs, type TarHeader } from './tarlib.js';
import { RecipeRecorder, type ContentTable } from './tarsplit.js';
import { createSpecialNodes, setXattrs, type SpecialNode } from './nodes.js';

/**
 * Unpacks one layer tar into a staging dir as an overlayfs lower layer:
 * `.wh.NAME` becomes a char 0:0 device NAME, `.wh..wh..opq` the xattr
 * trusted.overlay.opaque=y on its dir; owners, modes, mtimes, xattrs,
 * hardlinks, symlinks, device nodes and fifos are kept.
 *
 * Safety: entries are applied one at a time, and every ancestor of every path
 * is lstat'ed (or known to be a directory this extraction made or checked), so
 * no entry writes through a symlink an earlier entry planted; `..` and absolute
 * names are refused, hardlink targets must be files of this layer, files are
 * opened O_NOFOLLOW|O_EXCL, chmod/chown only touch what was just created.
 * Any refusal throws LayerRefusedError; the caller deletes the staging dir, so
 * nothing of the layer is kept.
 *
 * Staging layout: `diff/` (the layer), `orphans/` (contents a later entry of
 * the same tar replaced, kept for the recipe), `tar-split.gz` (the recipe).
 */

export class LayerRefusedError extends UserError {
  constructor(what: string, why: string) {
    super(`${what} refused: ${why}`, 1, 'The layer is malformed or malicious; nothing of it was kept.');
    this.name = 'LayerRefusedError';
  }
}

export interface ExtractedLayer {
  diffId: string;
  /** Bytes of the uncompressed tar. */
  tarSize: number;
  /** Bytes of regular files (each inode once) and symlink targets: what Docker reports as a layer's size. */
  size: number;
  entries: number;
  contents: ContentTable;
}

export interface ExtractOptions {
  /** Names the layer in errors, e.g. `layer 3 of image.tar`. */
  what: string;
  /** Refuse tars whose uncompressed size exceeds this (decompression bombs). */
  maxBytes?: number;
  /** The layer root's mode whatever the tar's `./` entry says (`docker import` forces 0755). */
  rootMode?: number;
}

export const RECIPE_FILE = 'tar-split.gz';
const WHITEOUT_PREFIX = '.wh.';
const WHITEOUT_META_PREFIX = '.wh..wh.';
const WHITEOUT_OPAQUE = '.wh..wh..opq';
/** The process umask (files are created with mode & ~umask), read once without changing it for good. */
const UMASK = (() => { const m = process.umask(0o022); process.umask(m); return m; })();
const ALLOWED_XATTR_PREFIXES = ['security.', 'user.', 'system.posix_acl_access', 'system.posix_acl_default'];

export async function extractLayer(input: Readable, staging: string, opts: ExtractOptions): Promise<ExtractedLayer> {
  const writer = new LayerWriter(staging, opts.what, opts.rootMode);
  const recorder = new RecipeRecorder(join(staging, RECIPE_FILE));
  const hash = createHash('sha256');
  let bytes = 0;
  const tee = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      bytes += chunk.length;
      if (opts.maxBytes !== undefined && bytes > opts.maxBytes) {
        cb(new LayerRefusedError(opts.what, `it is larger than the ${opts.maxBytes} bytes it declared`));
        return;
      }
      hash.update(chunk);
      recorder.feed(chunk);
      cb(null, chunk);
    },
  });
  const extract = tar.extract();
  // The first failure of our own disk (ENOSPC...): the tar stream then only says "Premature close".
  let diskError: NodeJS.ErrnoException | undefined;
  extract.on('entry', (header, stream, next) => {
    writer.entry(header, stream as unknown as Readable, recorder).then(() => next(), (err: unknown) => {
      if (!(err instanceof UserError) && (err as NodeJS.ErrnoException).code) diskError ??= err as NodeJS.ErrnoException;
      next(err as Error);
    });
  });
  try {
    await pipeline(input, tee, extract);
    await recorder.finish();
    await writer.finish();
  } catch (err) {
    await recorder.abort();
    const own = diskError ?? ((err as NodeJS.ErrnoException).code && !(err instanceof UserError) ? (err as NodeJS.ErrnoException) : undefined);
    if (own?.code === 'ENOSPC' || own?.code === 'EDQUOT') {
      throw new UserError(`${opts.what} could not be unpacked: no space left on device (${staging})`, 1, 'free some space there (or remove unused images: `tscompose image prune`) and try again; nothing of the layer was kept');
    }
    if (err instanceof UserError) throw err;
    if (diskError) throw diskError;
    throw new LayerRefusedError(opts.what, `it is not a readable tar (${(err as Error).message})`);
  }
  return { diffId: `sha256:${hash.digest('hex')}`, tarSize: bytes, size: writer.contentBytes, entries: writer.entries, contents: writer.contents };
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function parentOf(rel: string): string {
  const d = posix.dirname(rel);
  return d === '.' ? '' : d;
}

function isUnder(path: string, dir: string): boolean {
  return path === dir || dir === '' || path.startsWith(dir + '/');
}

async function drain(stream: Readable): Promise<void> {
  for await (const _ of stream) { /* discard */ }
}

/** The state of one extraction: what is known about the staging dir, and the work left for the end. */
class LayerWriter {
  readonly root: string;
  private readonly orphans: string;
  /** Relative dirs known to be real directories (made or lstat'ed by us). */
  private readonly verified = new Set<string>(['']);
  private readonly dirTimes = new Map<string, number>();
  private readonly nodes = new Map<string, SpecialNode>();
  private readonly xattrs = new Map<string, Map<string, Buffer>>();
  /** Path → content number, for files whose content the recipe points at. */
  private readonly liveContent = new Map<string, number>();
  readonly contents: ContentTable = [];
  contentBytes = 0;
  entries = 0;

  constructor(staging: string, private readonly what: string, private readonly rootMode?: number) {
    this.root = join(staging, 'diff');
    this.orphans = join(staging, 'orphans');
    mkdirSync(this.root, { mode: 0o755 });
  }

  private refuse(why: string): LayerRefusedError {
    return new LayerRefusedError(this.what, why);
  }

  /** A tar name as a clean relative path, or a refusal. `''` is the layer root. */
  private clean(raw: string, kind = 'entry'): string {
    if (raw.startsWith('/')) throw this.refuse(`${kind} "${raw}" has an absolute path`);
    const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..')) throw this.refuse(`${kind} "${raw}" climbs out of the layer with ".."`);
    return parts.join('/');
  }

  async entry(header: TarHeader, stream: Readable, recorder: RecipeRecorder): Promise<void> {
    this.entries++;
    recorder.settle((header as TarHeader & { byteOffset: number }).byteOffset);
    const rel = this.clean(header.name);
    const base = posix.basename(rel);
    const xattrs = this.checkedXattrs(rel, header);
    if (rel.split('/').some((p) => p.startsWith(WHITEOUT_META_PREFIX) && p !== WHITEOUT_OPAQUE)) {
      // aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): not part of the filesystem.
      return drain(stream);
    }
    if (base === WHITEOUT_OPAQUE) {
      const dir = parentOf(rel);
      this.ensureDir(dir, rel);
      this.addXattrs(dir, new Map([['trusted.overlay.opaque', Buffer.from('y')]]));
      return drain(stream);
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const target = base.slice(WHITEOUT_PREFIX.length);
      if (target === '' || target === '.' || target === '..') throw this.refuse(`whiteout "${header.name}" names no file`);
      const parent = parentOf(rel);
      this.ensureDir(parent, rel);
      const targetRel = parent === '' ? target : `${parent}/${target}`;
      this.removeExisting(targetRel);
      this.nodes.set(targetRel, { type: 'character-device', major: 0, minor: 0, mode: 0, uid: uidOf(header), gid: gidOf(header), mtime: mtimeOf(header) });
      return drain(stream);
    }
    const mtime = mtimeSeconds(header);
    const full = join(this.root, rel);
    const mode = header.mode & 0o7777;
    if (rel === '') {
      if (header.type !== 'directory') throw this.refuse(`entry "${header.name}" would replace the layer root with a ${header.type}`);
      lchownSync(full, uidOf(header), gidOf(header));
      chmodSync(full, this.rootMode ?? mode);
      this.dirTimes.set('', mtime);
      this.addXattrs('', xattrs);
      return drain(stream);
    }
    this.ensureDir(parentOf(rel), rel);
    const existing = lstatOrUndefined(full);
    if (existing?.isSymbolicLink() && header.type !== 'symlink') {
      // Only an earlier entry of this same tar can have put it there. Naive extractors open,
      // chmod or chown such a path and so act on the link's target: refuse the pattern outright.
      throw this.refuse(`entry "${header.name}" (${header.type}) comes after a symbolic link of the same name; writing, chmod'ing or chown'ing it would act on the link's target`);
    }
    const uid = uidOf(header);
    const gid = gidOf(header);
    switch (header.type) {
      case 'directory': {
        if (existing && !existing.isDirectory()) this.removeExisting(rel, existing);
        const made = !existing?.isDirectory();
        if (made) mkdirSync(full, { mode: mode & 0o777 });
        this.verified.add(rel);
        const chowned = uid !== 0 || gid !== 0;
        if (chowned) lchownSync(full, uid, gid);
        if (!made || chowned || (mode & 0o777 & ~UMASK) !== mode) chmodSync(full, mode);
        this.dirTimes.set(rel, mtime);
        this.addXattrs(rel, xattrs);
        return drain(stream);
      }
      case 'file':
      case 'contiguous-file':
        await this.writeFile(rel, full, header, stream, recorder, mode, mtime, existing);
        this.addXattrs(rel, xattrs);
        return;
      case 'symlink': {
        if (!header.linkname) throw this.refuse(`symlink "${header.name}" has no target`);
        this.removeExisting(rel, existing);
        symlinkSync(header.linkname, full);
        this.contentBytes += Buffer.byteLength(header.linkname); // Docker's layer size counts symlinks' lstat size
        if (uid !== 0 || gid !== 0) lchownSync(full, uid, gid);
        lutimesSync(full, mtime, mtime);
        // The kernel allows no user.* attributes on symlinks; Docker drops them too.
        this.addXattrs(rel, new Map([...xattrs].filter(([name]) => !name.startsWith('user.'))));
        return drain(stream);
      }
      case 'link':
        await this.hardlink(rel, full, header.linkname ?? '', existing);
        return drain(stream);
      case 'character-device':
      case 'block-device':
      case 'fifo':
        this.removeExisting(rel, existing);
        this.nodes.set(rel, { type: header.type, major: header.devmajor ?? 0, minor: header.devminor ?? 0, mode, uid, gid, mtime: mtimeOf(header) });
        this.addXattrs(rel, xattrs);
        return drain(stream);
      default:
        throw this.refuse(`entry "${header.name}" has a tar type tscompose cannot apply (${String(header.type)}; GNU sparse files and volume labels are not supported)`);
    }
  }

  private async writeFile(rel: string, full: string, header: TarHeader, stream: Readable, recorder: RecipeRecorder, mode: number, mtime: number, existing: Stats | undefined): Promise<void> {
    // Registered before a byte of content is read, so the recorder drops exactly these bytes.
    const content = header.size > 0 ? recorder.content((header as TarHeader & { byteOffset: number }).byteOffset, header.size) : undefined;
    this.removeExisting(rel, existing);
    const uid = uidOf(header);
    const gid = gidOf(header);
    const fd = openSync(full, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, mode & 0o777);
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
      }
      // Each syscall per file counts on a 6000-file layer: skip what creation already got right.
      const chowned = uid !== 0 || gid !== 0;
      if (chowned) fchownSync(fd, uid, gid);
      if (chowned || (mode & 0o777 & ~UMASK) !== mode) fchmodSync(fd, mode); // after chown, which clears setuid/setgid
      futimesSync(fd, mtime, mtime);
    } finally {
      closeSync(fd);
    }
    if (content !== undefined) {
      this.contents[content] = `diff/${rel}`;
      this.liveContent.set(rel, content);
    }
    this.contentBytes += header.size;
  }

  private async hardlink(rel: string, full: string, linkname: string, existing: Stats | undefined): Promise<void> {
    const target = this.clean(linkname, `hardlink target of "${rel}":`);
    if (target === '' || target === rel) throw this.refuse(`hardlink "${rel}" points to "${linkname}", which is not a file of the layer`);
    this.checkExistingDirs(parentOf(target), rel);
    if (this.nodes.has(target)) await this.flushNodes();
    this.removeExisting(rel, existing);
    const st = lstatOrUndefined(join(this.root, target));
    if (!st || st.isDirectory()) throw this.refuse(`hardlink "${rel}" points to "${linkname}", which is not a file of the layer`);
    linkSync(join(this.root, target), full); // link(2) does not follow a symlink target
  }

  /** Makes `relDir` and its ancestors directories, refusing symlinks and non-directories on the way. */
  private ensureDir(relDir: string, forEntry: string): void {
    if (this.verified.has(relDir)) return;
    this.ensureDir(parentOf(relDir), forEntry);
    if (this.nodes.has(relDir)) throw this.refuse(`entry "${forEntry}": "${relDir}" is not a directory`);
    const st = lstatOrUndefined(join(this.root, relDir));
    if (!st) {
      mkdirSync(join(this.root, relDir), { mode: 0o755 });
    } else if (st.isSymbolicLink()) {
      throw this.refuse(`entry "${forEntry}" would be written through the symbolic link "${relDir}"`);
    } else if (!st.isDirectory()) {
      throw this.refuse(`entry "${forEntry}": "${relDir}" is not a directory`);
    }
    this.verified.add(relDir);
  }

  /** Like ensureDir, without creating anything: for hardlink targets and the final batches. */
  private checkExistingDirs(relDir: string, forEntry: string): void {
    if (relDir === '') return;
    this.checkExistingDirs(parentOf(relDir), forEntry);
    const st = lstatOrUndefined(join(this.root, relDir));
    if (st?.isSymbolicLink()) throw this.refuse(`entry "${forEntry}" would reach through the symbolic link "${relDir}"`);
    if (!st?.isDirectory()) throw this.refuse(`entry "${forEntry}": "${relDir}" is not a directory of the layer`);
  }

  /**
   * Removes what is at `rel` (and below) before an entry replaces it. Contents
   * the recipe still needs are moved aside, not deleted.
   */
  private removeExisting(rel: string, st: Stats | undefined = lstatOrUndefined(join(this.root, rel))): void {
    if (this.nodes.size) for (const key of [...this.nodes.keys()]) if (isUnder(key, rel)) this.nodes.delete(key);
    if (!st) return; // nothing there, so no metadata is pending for it either
    for (const map of [this.xattrs, this.dirTimes] as Map<string, unknown>[]) {
      for (const key of [...map.keys()]) if (isUnder(key, rel)) map.delete(key);
    }
    const full = join(this.root, rel);
    // What is replaced no longer counts in the layer's size (a hardlinked inode stays while another name has it).
    if (!st.isDirectory() && st.nlink <= 1) this.contentBytes -= st.size;
    for (const [path, n] of [...this.liveContent]) {
      if (!isUnder(path, rel)) continue;
      mkdirSync(this.orphans, { recursive: true, mode: 0o700 });
      renameSync(join(this.root, path), join(this.orphans, String(n)));
      this.contents[n] = `orphans/${n}`;
      this.liveContent.delete(path);
    }
    if (!lstatOrUndefined(full)) return; // it was a file with content, now an orphan
    if (st.isDirectory()) {
      rmSync(full, { recursive: true, force: true });
      for (const d of [...this.verified]) if (isUnder(d, rel)) this.verified.delete(d);
    } else {
      unlinkSync(full);
    }
  }

  private checkedXattrs(rel: string, header: TarHeader): Map<string, Buffer> {
    const attrs = paxXattrs(header);
    for (const name of [...attrs.keys()]) {
      if (name.startsWith('trusted.')) {
        throw this.refuse(`entry "${rel}" carries the extended attribute "${name}" (trusted.* attributes would forge overlayfs metadata)`);
      }
      if (!ALLOWED_XATTR_PREFIXES.some((p) => name.startsWith(p))) attrs.delete(name);
    }
    return attrs;
  }

  private addXattrs(rel: string, attrs: Map<string, Buffer>): void {
    if (attrs.size === 0) return;
    const existing = this.xattrs.get(rel) ?? new Map<string, Buffer>();
    for (const [k, v] of attrs) existing.set(k, v);
    this.xattrs.set(rel, existing);
  }

  private async flushNodes(): Promise<void> {
    for (const rel of this.nodes.keys()) this.checkExistingDirs(parentOf(rel), rel);
    await createSpecialNodes(this.root, this.nodes);
    this.nodes.clear();
  }

  /** The work batched to the end: nodes, xattrs, then directory mtimes (children change them). */
  async finish(): Promise<void> {
    await this.flushNodes();
    for (const rel of this.xattrs.keys()) {
      this.checkExistingDirs(parentOf(rel), rel);
      if (!lstatOrUndefined(join(this.root, rel))) throw new Error(`internal: xattrs for missing ${rel}`);
    }
    try {
      await setXattrs(this.root, this.xattrs);
    } catch (err) {
      throw new UserError(`${this.what}: could not set extended attributes: ${(err as Error).message}`, 1,
        'The image store must be on a filesystem with xattr support (ext4, xfs, btrfs)');
    }
    const dirs = [...this.dirTimes].sort((a, b) => depth(b[0]) - depth(a[0]));
    for (const [rel, mtime] of dirs) lutimesSync(join(this.root, rel), mtime, mtime);
  }
}

function depth(rel: string): number {
  return rel === '' ? 0 : rel.split('/').length;
}

function paxNumber(header: TarHeader, key: string): number | undefined {
  const v = (header.pax as Record<string, string> | null | undefined)?.[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function uidOf(h: TarHeader): number {
  return paxNumber(h, 'uid') ?? h.uid ?? 0;
}

function gidOf(h: TarHeader): number {
  return paxNumber(h, 'gid') ?? h.gid ?? 0;
}

/** Seconds, with the PAX record's sub-second part when there is one. */
function mtimeSeconds(h: TarHeader): number {
  return paxNumber(h, 'mtime') ?? (h.mtime ? h.mtime.getTime() / 1000 : 0);
}

function mtimeOf(h: TarHeader): Date {
  return new Date(mtimeSeconds(h) * 1000);
}
