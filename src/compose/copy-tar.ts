import { chownSync, createReadStream, createWriteStream, lchownSync, lstatSync, mkdirSync, readdirSync, readlinkSync, statSync, symlinkSync, linkSync, chmodSync, utimesSync, type Stats } from 'node:fs';
import { basename, dirname, join, posix, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
// tar-stream loaded at the first copy (tarlib): loading it costs every `container` command ~40 M instructions.
import { tar, type TarHeader as Header } from '../engine/native/image/tarlib.js';
import type { Engine } from '../engine/types.js';
import { UserError } from '../util/errors.js';

/**
 * The tar side of `cp`, with docker cp's naming rules: into an existing
 * directory the source keeps its name; otherwise it takes the destination's.
 * Extraction never writes outside the destination: `..` and absolute names
 * are refused, and no entry is written through a symlink (an existing one, or
 * one the archive itself made).
 */
/** With `archive`, what is written keeps the owners the archive names (else it is ours, root's). */
export async function copyFromContainer(engine: Engine, id: string, src: string, dest: string, stdout?: Writable, o: { archive?: boolean } = {}): Promise<void> {
  const { stream, stat } = await engine.containers.getArchive(id, src);
  if (dest === '-') {
    if (!stdout) throw new UserError('cp to "-" writes a tar to a stream, and none was given');
    await pipeline(stream, stdout);
    return;
  }
  const target = resolve(dest);
  let root: string;
  let rename: string | undefined;
  const existing = statOrUndefined(target);
  if (existing?.isDirectory()) {
    root = target;
  } else {
    if (src.endsWith('/') && !(stat.mode & 0x80000000)) throw new UserError(`${src} is not a directory`);
    root = dirname(target);
    if (!statOrUndefined(root)?.isDirectory()) throw new UserError(`destination directory ${root} does not exist`, 1, 'create it first');
    rename = basename(target);
  }
  await safeExtract(stream, root, stat.name, rename, o.archive ?? false);
}

export async function copyToContainer(engine: Engine, id: string, src: string, dest: string, o: { archive?: boolean; followLink?: boolean; stdin?: Readable }): Promise<void> {
  if (src === '-') {
    if (!o.stdin) throw new UserError('cp from "-" reads a tar from a stream, and none was given');
    await engine.containers.putArchive(id, dest, o.stdin);
    return;
  }
  const local = resolve(src);
  const st = o.followLink ? statOrUndefined(local) : lstatOrUndefined(local);
  if (!st) throw new UserError(`no such file or directory: ${src}`);
  const there = await engine.containers.statPath(id, dest);
  const isDir = there !== undefined && (there.mode & 0x80000000) !== 0;
  const [dir, name] = isDir ? [dest, basename(local)] : [posix.dirname(dest), posix.basename(dest)];
  if (!isDir && !(await engine.containers.statPath(id, dir))) throw new UserError(`destination directory ${dir} does not exist in the container`);
  const tar = packPath(local, name, !!o.archive, !!o.followLink);
  await engine.containers.putArchive(id, dir, tar);
}

function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/** A tar of a local file or directory, its top entry named `name`. */
function packPath(local: string, name: string, keepOwners: boolean, followLinks: boolean): Readable {
  const p = tar.pack();
  const walk = async (path: string, entryName: string, first: boolean): Promise<void> => {
    const st = followLinks && first ? statSync(path) : lstatSync(path);
    const base = { name: entryName, mode: st.mode & 0o7777, mtime: st.mtime, uid: keepOwners ? st.uid : 0, gid: keepOwners ? st.gid : 0 };
    if (st.isDirectory()) {
      p.entry({ ...base, type: 'directory' });
      for (const child of readdirSync(path).sort()) await walk(join(path, child), `${entryName}/${child}`, false);
    } else if (st.isSymbolicLink()) {
      p.entry({ ...base, type: 'symlink', linkname: readlinkSync(path) });
    } else if (st.isFile()) {
      await new Promise<void>((res, rej) => {
        const e = p.entry({ ...base, type: 'file', size: st.size }, (err) => (err ? rej(err) : res()));
        createReadStream(path).on('error', rej).pipe(e);
      });
    }
  };
  walk(local, name, true).then(
    () => p.finalize(),
    (err: Error) => p.destroy(err),
  );
  return p as unknown as Readable;
}

async function safeExtract(stream: Readable, root: string, topName: string, rename: string | undefined, keepOwners: boolean): Promise<void> {
  const ex = tar.extract();
  const inside = (p: string) => {
    const rel = relative(root, p);
    return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !rel.startsWith(sep);
  };
  // Every existing component between the root and the entry must be a real directory, not a link.
  const checkParents = (p: string) => {
    let cur = dirname(p);
    while (cur !== root && cur.startsWith(root)) {
      const st = lstatOrUndefined(cur);
      if (st?.isSymbolicLink()) throw new UserError(`refusing to write ${p}: ${cur} is a symlink`);
      cur = dirname(cur);
    }
  };
  ex.on('entry', (h: Header, body, next) => {
    const fail = (err: unknown) => {
      body.resume();
      next(err as Error);
    };
    try {
      let name = h.name.replace(/^\.?\/+/, '').replace(/\/+$/, '');
      if (rename !== undefined) {
        if (name === topName) name = rename;
        else if (name.startsWith(`${topName}/`)) name = rename + name.slice(topName.length);
      }
      // `SRC/.` copies a directory's contents: its own entry ("./") has nothing to write.
      if ((name === '' || name === '.') && h.type === 'directory') {
        body.resume();
        body.on('end', () => next());
        return;
      }
      if (name === '' || name.split('/').includes('..')) throw new UserError(`refusing archive entry "${h.name}"`);
      const out = join(root, name);
      if (!inside(out)) throw new UserError(`refusing archive entry "${h.name}": it leaves ${root}`);
      checkParents(out);
      const mode = (h.mode ?? 0o644) & 0o7777;
      switch (h.type) {
        case 'directory':
          mkdirSync(out, { recursive: true });
          chmodSync(out, mode);
          if (keepOwners) chownSync(out, h.uid ?? 0, h.gid ?? 0);
          body.resume();
          body.on('end', () => next());
          return;
        case 'symlink':
          symlinkSync(h.linkname ?? '', out);
          if (keepOwners) lchownSync(out, h.uid ?? 0, h.gid ?? 0);
          body.resume();
          body.on('end', () => next());
          return;
        case 'link': {
          const target = join(root, (h.linkname ?? '').replace(/^\/+/, ''));
          if (!inside(target)) throw new UserError(`refusing hard link "${h.name}" to ${h.linkname}`);
          linkSync(target, out);
          body.resume();
          body.on('end', () => next());
          return;
        }
        case 'file':
        case 'contiguous-file': {
          if (lstatOrUndefined(out)?.isSymbolicLink()) throw new UserError(`refusing to write through the symlink ${out}`);
          const ws = createWriteStream(out, { mode });
          pipeline(body, ws).then(() => {
            chmodSync(out, mode);
            if (keepOwners) chownSync(out, h.uid ?? 0, h.gid ?? 0);
            if (h.mtime) utimesSync(out, h.mtime, h.mtime);
            next();
          }, fail);
          return;
        }
        default:
          // Devices, fifos: not copied to the host.
          body.resume();
          body.on('end', () => next());
      }
    } catch (err) {
      fail(err);
    }
  });
  await pipeline(stream, ex);
}
