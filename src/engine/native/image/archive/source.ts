import { createReadStream, createWriteStream, existsSync, openSync, readSync, closeSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, posix, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { UserError } from '../../../../util/errors.js';
import { detectCompression, decompressed } from '../decompress.js';
import { tar } from '../tarlib.js';

/**
 * Random access to the files of an image archive (a `docker save` tar, an
 * OCI layout as a tar or a directory): small JSON files read whole, layer
 * blobs streamed. A plain tar file is indexed in place (one pass over its
 * headers) and read by offset; a compressed one or a stream is first written
 * out uncompressed into the store's staging area.
 */
export interface ArchiveSource {
  /** Names the archive in messages (its path, or "stdin"). */
  readonly name: string;
  has(path: string): boolean;
  size(path: string): number;
  readFile(path: string): Buffer;
  stream(path: string): Readable;
}

const MAX_JSON = 64 * 1024 * 1024;
const MAX_LINK_HOPS = 16;

/** The archive's path of a member: `./a//b` and `a/b` are the same; `..` cannot leave the archive. */
export function cleanMember(path: string, archive: string): string {
  const parts: string[] = [];
  for (const p of path.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (parts.length === 0) throw new UserError(`${archive}: the member "${path}" points outside the archive`);
      parts.pop();
    } else {
      parts.push(p);
    }
  }
  return parts.join('/');
}

interface Member {
  type: string;
  offset: number;
  size: number;
  linkname: string;
}

class TarFileSource implements ArchiveSource {
  private constructor(readonly name: string, private readonly path: string, private readonly members: Map<string, Member>) {}

  static async open(path: string, name: string): Promise<TarFileSource> {
    const members = new Map<string, Member>();
    const extract = tar.extract();
    extract.on('entry', (header, stream, next) => {
      const h = header as typeof header & { byteOffset: number };
      members.set(cleanMember(h.name, name), { type: h.type, offset: h.byteOffset, size: h.size ?? 0, linkname: h.linkname ?? '' });
      stream.on('end', () => next());
      stream.resume();
    });
    try {
      await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), extract);
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw new UserError(`${name} is not a tar archive (${(err as Error).message})`, 1, 'image load reads the archives `docker save` writes, and OCI image layouts (a dir or a tar)');
    }
    return new TarFileSource(name, path, members);
  }

  /** Follows symlinks and hardlinks between members (docker save links shared layers). */
  private resolve(path: string): Member | undefined {
    let current = cleanMember(path, this.name);
    for (let hop = 0; hop < MAX_LINK_HOPS; hop++) {
      const m = this.members.get(current);
      if (!m) return undefined;
      if (m.type === 'symlink') {
        current = cleanMember(m.linkname.startsWith('/') ? m.linkname : posix.join(posix.dirname(current), m.linkname), this.name);
      } else if (m.type === 'link') {
        current = cleanMember(m.linkname, this.name);
      } else {
        return m.type === 'file' || m.type === 'contiguous-file' ? m : undefined;
      }
    }
    throw new UserError(`${this.name}: too many links resolving "${path}"`);
  }

  private member(path: string): Member {
    const m = this.resolve(path);
    if (!m) throw new UserError(`${this.name} has no file "${path}"`, 1, 'The archive is incomplete or not an image archive');
    return m;
  }

  has(path: string): boolean {
    return this.resolve(path) !== undefined;
  }

  size(path: string): number {
    return this.member(path).size;
  }

  readFile(path: string): Buffer {
    const m = this.member(path);
    if (m.size > MAX_JSON) throw new UserError(`${this.name}: "${path}" is too large (${m.size} bytes) for a metadata file`);
    const buf = Buffer.alloc(m.size);
    const fd = openSync(this.path, 'r');
    try {
      let off = 0;
      while (off < m.size) {
        const n = readSync(fd, buf, off, m.size - off, m.offset + off);
        if (n === 0) throw new Error(`${this.name}: truncated at "${path}"`);
        off += n;
      }
    } finally {
      closeSync(fd);
    }
    return buf;
  }

  stream(path: string): Readable {
    const m = this.member(path);
    if (m.size === 0) return Readable.from([]);
    return createReadStream(this.path, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1 << 20 });
  }
}

class DirSource implements ArchiveSource {
  private readonly real: string;
  constructor(readonly name: string, dir: string) {
    this.real = realpathSync(dir);
  }

  /** The file's real path, which must stay inside the dir (symlinks are followed only within it). */
  private file(path: string): string | undefined {
    const p = join(this.real, cleanMember(path, this.name));
    if (!existsSync(p)) return undefined;
    const real = realpathSync(p);
    if (real !== this.real && !real.startsWith(this.real + sep)) throw new UserError(`${this.name}: "${path}" points outside the layout`);
    return statSync(real).isFile() ? real : undefined;
  }

  private required(path: string): string {
    const f = this.file(path);
    if (!f) throw new UserError(`${this.name} has no file "${path}"`, 1, 'The layout is incomplete');
    return f;
  }

  has(path: string): boolean {
    return this.file(path) !== undefined;
  }

  size(path: string): number {
    return statSync(this.required(path)).size;
  }

  readFile(path: string): Buffer {
    const f = this.required(path);
    if (statSync(f).size > MAX_JSON) throw new UserError(`${this.name}: "${path}" is too large for a metadata file`);
    return readFileSync(f);
  }

  stream(path: string): Readable {
    return createReadStream(this.required(path), { highWaterMark: 1 << 20 });
  }
}

/**
 * Opens what `image load -i` was given: a directory (OCI layout), a plain tar
 * file (read in place), or anything else (compressed file, stdin) spooled
 * uncompressed to `spoolPath` first.
 */
export async function openArchive(input: string | Readable, spoolPath: string): Promise<ArchiveSource> {
  if (typeof input === 'string') {
    let st;
    try {
      st = statSync(input);
    } catch {
      throw new UserError(`open ${input}: no such file or directory`);
    }
    if (st.isDirectory()) return new DirSource(input, input);
    const head = Buffer.alloc(6);
    const fd = openSync(input, 'r');
    try { readSync(fd, head, 0, 6, 0); } finally { closeSync(fd); }
    if (detectCompression(head) === 'none') return TarFileSource.open(input, input);
    return spool(createReadStream(input), input, spoolPath);
  }
  return spool(input, 'stdin', spoolPath);
}

async function spool(input: Readable, name: string, spoolPath: string): Promise<ArchiveSource> {
  const { stream } = await decompressed(input, name);
  await pipeline(stream, createWriteStream(spoolPath, { mode: 0o600 }));
  return TarFileSource.open(spoolPath, name);
}
