import { chmodSync, chownSync, createReadStream, lchownSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, unlinkSync, utimesSync, writeFileSync, type Stats } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../../../util/errors.js';
import { tar } from '../image/tarlib.js';
import { HelperConfig, escapeField, runHelper } from './helper.js';
import { deriveStatus, type ContainerRecord } from './store.js';

/**
 * `cp` between the host and a container. The container side runs in the
 * helper, rooted at the container's root (CVE-2018-15664: a container
 * swapping symlinks cannot make the copy reach the host); the host side is
 * here, with Docker's rules for what lands where (`docker cp` semantics:
 * SRC/. copies a directory's content, an existing destination directory
 * receives SRC by its name, a missing one is created as SRC's copy).
 */

export interface CopyEntry {
  type: 'f' | 'd' | 'l';
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  name: string;
  link: string;
}

export interface CopyOptions {
  /** Keep the source's owners (docker cp -a); otherwise the copy is owned by root. */
  archive?: boolean;
  /** Copy out: what another filesystem mounts inside (volumes, binds, /proc) is left out, its mount point kept (export). */
  oneFileSystem?: boolean;
}

function unescape(s: string): string {
  if (s === '\\e') return '';
  return s.replace(/\\(.)/g, (_, c: string) => (c === 's' ? ' ' : c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

function headerLine(e: CopyEntry): string {
  return `${e.type} ${(e.mode & 0o7777).toString(8)} ${e.uid} ${e.gid} ${Math.floor(e.mtime)} ${e.size} ${escapeField(e.name)} ${escapeField(e.link)}\n`;
}

/** Enough of the helper's config to reach the container's files, running or not. */
function reachConfig(rec: ContainerRecord): HelperConfig {
  const cfg = new HelperConfig();
  const st = deriveStatus(rec.id);
  if (st.status === 'running' && st.monitor) {
    cfg.add('pid', st.pid, st.monitor.initStart);
    return cfg;
  }
  cfg.add('rootfs', rec.rootfs.mergedDir).add('overlay', rec.rootfs.mountData).add('overlay_cwd', rec.rootfs.mountCwd);
  for (const m of rec.mounts) if (m.type !== 'tmpfs') cfg.op('bind', m.source, m.target, m.readOnly ? '1' : '0', '1');
  return cfg;
}

async function helperCp(cfg: HelperConfig, stdio: ['ignore' | 'pipe', 'ignore' | 'pipe']): Promise<ReturnType<typeof runHelper>> {
  return runHelper(['cp', { text: cfg.text() }], [stdio[0], stdio[1], 'ignore']);
}

async function finish(run: ReturnType<typeof runHelper>): Promise<string> {
  const reply = await run.first;
  await run.done.catch(() => undefined);
  if (!reply.ok) throw new UserError(reply.message, 1);
  return reply.text;
}

/** What `path` is in the container: a file, a directory, a symlink (to a directory: 'D'), or nothing. */
export async function statInContainer(rec: ContainerRecord, path: string): Promise<'f' | 'd' | 'l' | 'D' | 'n'> {
  const cfg = reachConfig(rec).add('mode', 'stat').add('path', path);
  return ((await finish(await helperCp(cfg, ['ignore', 'ignore']))).trim() || 'n') as 'f' | 'd' | 'l' | 'D' | 'n';
}

/** Reads the helper's entry stream: a header line, then the bytes of a file. */
async function* parseEntries(stream: Readable): AsyncGenerator<{ entry: CopyEntry; data: Buffer }> {
  let buf = Buffer.alloc(0);
  let want: CopyEntry | undefined;
  for await (const chunk of stream) {
    buf = Buffer.concat([buf, chunk as Buffer]);
    for (;;) {
      if (!want) {
        const nl = buf.indexOf(0x0a);
        if (nl < 0) break;
        const line = buf.subarray(0, nl).toString('utf8');
        buf = buf.subarray(nl + 1);
        if (line === 'end') return;
        const f = line.split(' ');
        want = { type: f[0] as CopyEntry['type'], mode: parseInt(f[1]!, 8), uid: Number(f[2]), gid: Number(f[3]), mtime: Number(f[4]), size: Number(f[5]), name: unescape(f[6]!), link: unescape(f[7]!) };
      }
      if (buf.length < want.size) break;
      yield { entry: want, data: buf.subarray(0, want.size) };
      buf = buf.subarray(want.size);
      want = undefined;
    }
  }
  throw new UserError('copy from the container: the stream ended early');
}

function safeRelative(name: string): boolean {
  return name !== '' && !name.startsWith('/') && !name.split('/').some((c) => c === '..' || c === '');
}

/** Makes sure nothing between `base` and the entry is a symlink: the copy never writes through one on the host. */
function checkParents(base: string, rel: string): void {
  let p = base;
  for (const c of rel.split('/').slice(0, -1)) {
    p = join(p, c);
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st || !st.isDirectory()) throw new UserError(`copy: ${p} is not a directory`);
  }
}

function writeHostEntry(base: string, rel: string, e: CopyEntry, data: Buffer, opts: CopyOptions): void {
  if (!safeRelative(rel)) throw new UserError(`copy: refusing the entry name "${rel}"`);
  checkParents(base, rel);
  const path = join(base, rel);
  const old: Stats | undefined = lstatSync(path, { throwIfNoEntry: false });
  if (e.type === 'd') {
    if (old && !old.isDirectory()) throw new UserError(`cannot overwrite non-directory ${path} with a directory`);
    if (!old) mkdirSync(path, { mode: 0o700 });
    chmodSync(path, e.mode);
    if (opts.archive) chownSync(path, e.uid, e.gid);
  } else {
    if (old?.isDirectory()) throw new UserError(`cannot overwrite directory ${path} with a non-directory`);
    if (old) unlinkSync(path);
    if (e.type === 'l') {
      symlinkSync(e.link, path);
      if (opts.archive) lchownSync(path, e.uid, e.gid);
      return;
    }
    writeFileSync(path, data, { mode: 0o600, flag: 'wx' });
    chmodSync(path, e.mode);
    if (opts.archive) chownSync(path, e.uid, e.gid);
  }
  utimesSync(path, e.mtime, e.mtime);
}

/** docker cp CONTAINER:SRC DEST (DEST "-": a tar on `out`). */
export async function copyFromContainer(rec: ContainerRecord, src: string, dest: string, opts: CopyOptions = {}, out?: Writable): Promise<void> {
  if (!src.startsWith('/')) src = posix.join(rec.workingDir || '/', src);
  const contents = src.endsWith('/.');
  const path = posix.normalize(src);
  const top = contents || path === '/' ? '.' : posix.basename(path);
  const cfg = reachConfig(rec).add('mode', 'out').add('path', path).add('name', top);
  if (opts.oneFileSystem) cfg.add('one_fs', '1');
  const run = await helperCp(cfg, ['ignore', 'pipe']);
  const entries = parseEntries(run.stdout!);
  let failure: unknown;
  try {
    if (dest === '-') {
      const pack = tar.pack();
      const piped = pipeline(pack, out ?? process.stdout);
      // Awaited below; a reader that stops early (a stat reads one header) must not make it an unhandled rejection meanwhile.
      piped.catch(() => undefined);
      for await (const { entry: e, data } of entries) {
        const name = e.type === 'd' ? `${e.name}/` : e.name;
        const header = { name, mode: e.mode, uid: e.uid, gid: e.gid, mtime: new Date(e.mtime * 1000), type: e.type === 'd' ? 'directory' as const : e.type === 'l' ? 'symlink' as const : 'file' as const, ...(e.type === 'l' ? { linkname: e.link } : {}), size: e.type === 'f' ? e.size : 0 };
        if (e.type === 'f') pack.entry(header, Buffer.from(data));
        else pack.entry(header);
      }
      pack.finalize();
      await piped;
    } else {
      const destStat = lstatSync(dest, { throwIfNoEntry: false });
      let first = true;
      let base = dest;
      let rename: string | undefined;
      for await (const { entry: e, data } of entries) {
        if (first) {
          first = false;
          if (e.type === 'd' && destStat && !destStat.isDirectory()) throw new UserError(`cannot copy a directory to a file: ${dest}`);
          if (destStat?.isDirectory() && !contents) rename = undefined;
          else if (destStat?.isDirectory() && contents) rename = '.';
          else {
            if (!destStat && dest.endsWith('/')) throw new UserError(`destination directory ${dest} does not exist`, 1, 'create it first, or drop the trailing slash to name the copy');
            if (!lstatSync(dirname(dest), { throwIfNoEntry: false })?.isDirectory()) throw new UserError(`no such directory: ${dirname(dest)}`);
            base = dirname(dest);
            rename = basename(dest);
          }
        }
        let rel = e.name;
        if (rename !== undefined) rel = rename + rel.slice(rel.split('/')[0]!.length);
        if (rel === '.' || rel === './') {
          if (e.type === 'd') continue;
        }
        rel = rel.replace(/^\.\//, '');
        writeHostEntry(base, rel, e, data, opts);
      }
    }
  } catch (err) {
    failure = err;
    run.stdout?.destroy();
  }
  // The helper's own error (no such file...) explains a broken stream best: it wins.
  await finish(run);
  if (failure) throw failure;
}

/** Host files under `src` as copy entries, the top one named `top` (symlinks are copied, never followed). */
function* hostEntries(src: string, top: string): Generator<CopyEntry & { path: string }> {
  const st = lstatSync(src);
  const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000), name: top, path: src };
  if (st.isDirectory()) {
    yield { ...base, type: 'd', size: 0, link: '' };
    for (const child of readdirSync(src).sort()) yield* hostEntries(join(src, child), top === '.' ? child : `${top}/${child}`);
  } else if (st.isSymbolicLink()) {
    yield { ...base, type: 'l', size: 0, link: readlinkSync(src) };
  } else if (st.isFile()) {
    yield { ...base, type: 'f', size: st.size, link: '' };
  }
}

/** Writes with backpressure; a helper that died (it refused the destination) ends the copy instead of hanging it. */
async function put(stdin: Writable, data: string | Buffer): Promise<void> {
  if (stdin.destroyed || stdin.writableEnded) throw new UserError('copy into the container: the helper stopped reading');
  if (stdin.write(data)) return;
  await Promise.race([once(stdin, 'drain'), once(stdin, 'close')]);
  if (stdin.destroyed) throw new UserError('copy into the container: the helper stopped reading');
}

async function writeEntry(stdin: Writable, e: CopyEntry, content?: Readable | Buffer): Promise<void> {
  await put(stdin, headerLine(e));
  if (e.type !== 'f') return;
  if (Buffer.isBuffer(content)) return put(stdin, content);
  let sent = 0;
  for await (const chunk of content!) {
    const b = (chunk as Buffer).subarray(0, e.size - sent);
    sent += b.length;
    await put(stdin, b);
    if (sent >= e.size) break;
  }
  if (sent < e.size) await put(stdin, Buffer.alloc(e.size - sent));
}

/** docker cp SRC CONTAINER:DEST (SRC "-": a tar from `input`, extracted into DEST). */
export async function copyToContainer(rec: ContainerRecord, src: string, dest: string, opts: CopyOptions = {}, input?: Readable): Promise<void> {
  if (!dest.startsWith('/')) dest = posix.join(rec.workingDir || '/', dest);
  // The root is a directory in every container: no helper run to ask (a watch sync puts each burst at /).
  const kind = posix.normalize(dest) === '/' ? 'd' : await statInContainer(rec, posix.normalize(dest));
  let base: string;
  let top: string;
  if (src === '-') {
    if (kind !== 'd' && kind !== 'D') throw new UserError(`destination ${dest} must be a directory in the container to extract a tar into`);
    base = posix.normalize(dest);
    top = '.';
  } else {
    const st = lstatSync(src, { throwIfNoEntry: false });
    if (!st) throw new UserError(`no such file or directory: ${src}`);
    const contents = src.endsWith('/.');
    if (kind === 'd' || kind === 'D') {
      base = posix.normalize(dest);
      top = contents ? '.' : basename(src);
    } else if (kind === 'n') {
      if (dest.endsWith('/')) throw new UserError(`destination directory ${dest} does not exist in the container`);
      base = posix.dirname(posix.normalize(dest));
      top = posix.basename(dest);
    } else {
      if (st.isDirectory()) throw new UserError(`cannot copy a directory to a file: ${dest}`);
      base = posix.dirname(posix.normalize(dest));
      top = posix.basename(dest);
    }
  }
  const cfg = reachConfig(rec).add('mode', 'in').add('dest', base);
  if (opts.archive) cfg.add('archive', 1);
  const run = await helperCp(cfg, ['pipe', 'ignore']);
  const stdin = run.stdin!;
  stdin.on('error', () => undefined);
  run.child.on('exit', () => stdin.destroy());
  try {
    if (src === '-') {
      const extract = tar.extract();
      const feeding = pipeline(input ?? process.stdin, extract);
      for await (const entry of extract) {
        const h = entry.header;
        const name = posix.normalize(h.name).replace(/\/$/, '').replace(/^\.\//, '');
        const type = h.type === 'directory' ? 'd' : h.type === 'symlink' ? 'l' : h.type === 'file' || h.type === 'contiguous-file' ? 'f' : undefined;
        if (!type || name === '.' || !safeRelative(name)) {
          entry.resume();
          continue;
        }
        const e: CopyEntry = { type, mode: h.mode ?? 0o644, uid: h.uid ?? 0, gid: h.gid ?? 0, mtime: Math.floor((h.mtime?.getTime() ?? Date.now()) / 1000), size: type === 'f' ? h.size ?? 0 : 0, name, link: h.linkname ?? '' };
        await writeEntry(stdin, e, type === 'f' ? (entry as unknown as Readable) : undefined);
        if (type !== 'f') entry.resume();
      }
      await feeding;
    } else {
      for (const e of hostEntries(src.replace(/\/\.$/, ''), top)) {
        if (e.name === '.') continue;
        await writeEntry(stdin, e, e.type === 'f' ? createReadStream(e.path) : undefined);
      }
    }
    stdin.end('end\n');
  } catch (err) {
    stdin.destroy();
    // The helper's refusal, when there is one, says more than our broken pipe.
    await finish(run);
    throw err;
  }
  await finish(run);
}

