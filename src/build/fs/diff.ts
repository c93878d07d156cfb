import { createReadStream, lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { run } from '../../util/proc.js';
import { tar, xattrPax } from '../../engine/native/image/tarlib.js';

/**
 * A container's changes as a layer tar: the overlay upper dir walked and
 * written the way Docker's overlay2 driver diffs it — a char device 0:0 (an
 * overlay whiteout) becomes a `.wh.<name>` entry, a directory marked
 * `trusted.overlay.opaque=y` gets a `.wh..wh..opq` entry, hardlinks within
 * the layer stay hardlinks, and extended attributes other than overlay's
 * own travel as PAX records. Valid because the upper dir was mounted
 * without redirect_dir and metacopy (every copy-up is a full copy).
 */

export interface DiffOptions {
  /**
   * Paths (relative, e.g. `etc/hosts`) that the runtime creates as mount
   * points: left out when no lower layer has them, so a RUN step does not
   * bake placeholders into its layer (Docker keeps them in an -init layer).
   */
  mountPoints?: string[];
  /** The lower dirs, topmost first, to tell whether a mount point was in the image. */
  lowers?: string[];
}

export interface Diff {
  /** Nothing changed: no layer to make. */
  empty: boolean;
  entries: number;
  /** The layer tar (undefined when empty). */
  stream: Readable | undefined;
}

interface Entry {
  rel: string;
  st: Stats;
}

/** What the runtime creates in a container's root as mount points when the image lacks them. */
export const RUNTIME_MOUNT_POINTS = ['proc', 'sys', 'dev', 'etc/hosts', 'etc/hostname', 'etc/resolv.conf'];

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';

export async function diffUpperDir(upper: string, opts: DiffOptions = {}): Promise<Diff> {
  const xattrs = await readXattrs(upper);
  const entries: Entry[] = [];
  walk(upper, '', entries);
  const excluded = placeholders(entries, opts);
  const kept = entries.filter((e) => !excluded.has(e.rel));
  if (kept.length === 0) return { empty: true, entries: 0, stream: undefined };
  const pack = tar.pack();
  void writeEntries(pack, upper, kept, xattrs).then(() => pack.finalize(), (err: unknown) => pack.destroy(err as Error));
  return { empty: false, entries: kept.length, stream: pack as unknown as Readable };
}

function walk(root: string, rel: string, out: Entry[]): void {
  const names = readdirSync(rel ? join(root, rel) : root).sort();
  for (const name of names) {
    const childRel = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(root, childRel));
    out.push({ rel: childRel, st });
    if (st.isDirectory()) walk(root, childRel, out);
  }
}

function existsBelow(lowers: string[], rel: string): boolean {
  for (const l of lowers) {
    try {
      const st = lstatSync(join(l, rel));
      return !(st.isCharacterDevice() && st.rdev === 0);
    } catch { /* not in this layer */ }
  }
  return false;
}

/** The mount-point placeholders to leave out, and directories that exist only to hold them. */
function placeholders(entries: Entry[], opts: DiffOptions): Set<string> {
  const out = new Set<string>();
  const lowers = opts.lowers ?? [];
  const byRel = new Map(entries.map((e) => [e.rel, e]));
  const children = new Map<string, string[]>();
  for (const e of entries) {
    const slash = e.rel.lastIndexOf('/');
    const parent = slash < 0 ? '' : e.rel.slice(0, slash);
    children.set(parent, [...(children.get(parent) ?? []), e.rel]);
  }
  for (const mp of opts.mountPoints ?? []) {
    const e = byRel.get(mp);
    if (!e || existsBelow(lowers, mp)) continue;
    const emptyFile = e.st.isFile() && e.st.size === 0;
    const emptyDir = e.st.isDirectory() && !(children.get(mp)?.length);
    if (!emptyFile && !emptyDir) continue;
    out.add(mp);
    // Parents made only to hold excluded placeholders go too.
    for (let p = mp.slice(0, Math.max(0, mp.lastIndexOf('/'))); p; p = p.slice(0, Math.max(0, p.lastIndexOf('/')))) {
      if (out.has(p) || existsBelow(lowers, p) || !(children.get(p) ?? []).every((c) => out.has(c))) break;
      out.add(p);
    }
  }
  return out;
}

function devNumbers(rdev: number): { devmajor: number; devminor: number } {
  return { devmajor: ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff), devminor: (rdev & 0xff) | ((rdev >>> 12) & 0xfff00) };
}

async function writeEntries(pack: ReturnType<typeof tar.pack>, root: string, entries: Entry[], xattrs: Map<string, Map<string, Buffer>>): Promise<void> {
  const links = new Map<string, string>();
  const add = (header: Parameters<typeof pack.entry>[0], body?: Readable) => new Promise<void>((resolve, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolve());
    if (!body) {
      // A regular file without a stream (a whiteout marker) still needs its (empty) body written.
      if (header.type === 'file') pack.entry(header, Buffer.alloc(0), done);
      else pack.entry(header, done);
      return;
    }
    const sink = pack.entry(header, done);
    pipeline(body, sink as unknown as NodeJS.WritableStream).catch(reject);
  });
  for (const { rel, st } of entries) {
    const base = { uid: st.uid, gid: st.gid, mtime: st.mtime, mode: st.mode & 0o7777 };
    const attrs = xattrs.get(rel);
    const pax = attrs ? xattrPax(keepXattrs(attrs)) : undefined;
    const withPax = pax ? { pax } : {};
    const slash = rel.lastIndexOf('/');
    const dir = slash < 0 ? '' : rel.slice(0, slash + 1);
    const name = rel.slice(slash + 1);
    if (st.isCharacterDevice() && st.rdev === 0) {
      await add({ ...base, mode: 0, name: `${dir}${WHITEOUT_PREFIX}${name}`, type: 'file', size: 0 });
    } else if (st.isDirectory()) {
      await add({ ...base, ...withPax, name: `${rel}/`, type: 'directory' });
      if (attrs?.get('trusted.overlay.opaque')?.toString() === 'y') {
        await add({ ...base, mode: 0, name: `${rel}/${OPAQUE}`, type: 'file', size: 0 });
      }
    } else if (st.isSymbolicLink()) {
      await add({ ...base, ...withPax, name: rel, type: 'symlink', linkname: readlinkSync(join(root, rel)) });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? links.get(key) : undefined;
      if (first !== undefined) {
        await add({ ...base, ...withPax, name: rel, type: 'link', linkname: first, size: 0 });
        continue;
      }
      if (st.nlink > 1) links.set(key, rel);
      await add({ ...base, ...withPax, name: rel, type: 'file', size: st.size }, createReadStream(join(root, rel)));
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      await add({ ...base, ...withPax, name: rel, type: st.isCharacterDevice() ? 'character-device' : 'block-device', size: 0, ...devNumbers(st.rdev) });
    } else if (st.isFIFO()) {
      await add({ ...base, ...withPax, name: rel, type: 'fifo', size: 0 });
    }
    // Sockets are not carried in layers (Docker skips them too).
  }
}

/** Extended attributes a layer carries: not overlay's bookkeeping (trusted.*), not SELinux labels. */
function keepXattrs(attrs: Map<string, Buffer>): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of attrs) {
    if (k.startsWith('trusted.') || k === 'security.selinux') continue;
    out.set(k, v);
  }
  return out;
}

/** Every extended attribute under `root` in one getfattr run: relative path → name → bytes. */
export async function readXattrs(root: string): Promise<Map<string, Map<string, Buffer>>> {
  const out = new Map<string, Map<string, Buffer>>();
  const r = await run('getfattr', ['-R', '-d', '-h', '-m', '-', '-e', 'base64', '--absolute-names', root]);
  if (r.code !== 0 && r.stdout === '' && r.stderr.trim()) throw new Error(`getfattr -R ${root} failed: ${r.stderr.trim()}`);
  let current: Map<string, Buffer> | undefined;
  const prefix = `${root.replace(/\/$/, '')}/`;
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('# file: ')) {
      const path = unescapeOctal(line.slice('# file: '.length));
      const rel = path === root ? '' : path.startsWith(prefix) ? path.slice(prefix.length) : path;
      current = new Map();
      out.set(rel, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 0) continue;
    const name = unescapeOctal(line.slice(0, eq));
    const raw = line.slice(eq + 1);
    current.set(name, raw.startsWith('0s') ? Buffer.from(raw.slice(2), 'base64') : Buffer.from(raw.replace(/^"|"$/g, ''), 'utf8'));
  }
  return out;
}

function unescapeOctal(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const m = /^\\([0-7]{3})/.exec(s.slice(i, i + 4));
    if (m) {
      bytes.push(parseInt(m[1]!, 8));
      i += 3;
    } else {
      for (const b of Buffer.from(s[i]!, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
