import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract, type Header } from 'tar-stream';
import { UserError } from '../../../util/errors.js';
import type { PathStat } from '../../types.js';
import type { ContainerRuntime } from '../runtime/index.js';

/**
 * Docker's archive API (cp) on the runtime's copy, which runs rooted at the
 * container's root, running or not: a tar of a path out, a tar extracted
 * into a directory in, and the stat of a path (the first entry of its tar,
 * whose mode is given in Go's os.FileMode bits, as Docker's header has it).
 */

const GO_DIR = 0x80000000;
const GO_SYMLINK = 0x08000000;

function statOf(h: Header): PathStat {
  const perm = (h.mode ?? 0) & 0o7777;
  const kind = h.type === 'directory' ? GO_DIR : h.type === 'symlink' ? GO_SYMLINK : 0;
  return {
    name: h.name.replace(/\/$/, '').split('/').pop() ?? h.name,
    size: h.size ?? 0,
    mode: (perm | kind) >>> 0,
    mtime: (h.mtime ?? new Date(0)).toISOString(),
    linkTarget: h.linkname ?? '',
  };
}

/** The first header of a path's tar, read without copying the rest (a directory's content is not streamed). */
async function firstHeader(rt: ContainerRuntime, id: string, path: string): Promise<Header | undefined> {
  const ex = extract();
  const out = new PassThrough();
  let header: Header | undefined;
  const gotHeader = new Promise<void>((resolve) => {
    ex.on('entry', (h, stream) => {
      header ??= h;
      stream.resume();
      resolve();
      // Only the first entry was wanted: stop the copy.
      out.destroy(new Error('enough'));
    });
    ex.on('finish', () => resolve());
    ex.on('error', () => resolve());
  });
  pipeline(out, ex).catch(() => undefined);
  const copy = rt.copyFrom(id, path, '-', { archive: true }, out);
  const outcome = await Promise.race([copy.then(() => 'done' as const, (err: unknown) => err), gotHeader.then(() => 'header' as const)]);
  if (header) {
    copy.catch(() => undefined);
    return header;
  }
  if (outcome !== 'done' && outcome !== 'header') throw outcome;
  await gotHeader;
  return header;
}

export async function statPath(rt: ContainerRuntime, idOrName: string, path: string): Promise<PathStat | undefined> {
  const id = rt.resolve(idOrName);
  try {
    const h = await firstHeader(rt, id, path);
    return h ? statOf(h) : undefined;
  } catch (err) {
    if (err instanceof UserError && /no such file|not found|does not exist/i.test(err.message)) return undefined;
    throw err;
  }
}

export async function getArchive(rt: ContainerRuntime, idOrName: string, path: string): Promise<{ stream: Readable; stat: PathStat }> {
  const id = rt.resolve(idOrName);
  const stat = await statPath(rt, id, path);
  if (!stat) throw new UserError(`Could not find the file ${path} in container ${idOrName}`, 1);
  const out = new PassThrough();
  rt.copyFrom(id, path, '-', { archive: true }, out).catch((err: unknown) => out.destroy(err as Error));
  return { stream: out, stat };
}

/** `docker export`: the root, as the container sees it but for what other filesystems mount in it. */
export function exportContainer(rt: ContainerRuntime, idOrName: string): Readable {
  const id = rt.resolve(idOrName);
  const out = new PassThrough();
  rt.copyFrom(id, '/', '-', { archive: true, oneFileSystem: true }, out).catch((err: unknown) => out.destroy(err as Error));
  return out;
}

export async function putArchive(rt: ContainerRuntime, idOrName: string, path: string, tar: Readable | Buffer): Promise<void> {
  const id = rt.resolve(idOrName);
  const input = Buffer.isBuffer(tar) ? Readable.from([tar]) : tar;
  await rt.copyTo(id, '-', path, { archive: true }, input);
}
