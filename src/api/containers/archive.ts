import { pipeline } from 'node:stream/promises';
import type { PathStat } from '../../engine/types.js';
import { NotFoundError } from '../../util/errors.js';
import type { Call } from '../router.js';
import { ApiError, badRequest } from '../http.js';

/**
 * `docker cp`: the archive API. HEAD and GET answer a path's stat in the
 * `X-Docker-Container-Path-Stat` header (base64 JSON, the mode in Go's
 * FileMode bits), GET a tar of it; PUT extracts a tar into a directory.
 * The copy itself runs rooted at the container's root (the helper's cp),
 * so no entry of the tar can land outside it.
 */

function pathParam(c: Call): string {
  const p = c.query.get('path');
  if (!p) throw badRequest('the path to copy is empty: give ?path=');
  return p;
}

function statHeader(s: PathStat): string {
  return Buffer.from(JSON.stringify({ name: s.name, size: s.size, mode: s.mode, mtime: s.mtime, linkTarget: s.linkTarget })).toString('base64');
}

async function containerId(c: Call): Promise<string> {
  const d = await c.ctx.engine.containers.inspect(c.params[0]!);
  if (!d) throw new NotFoundError('container', c.params[0]!);
  return d.id;
}

async function stat(c: Call, id: string, path: string): Promise<PathStat> {
  const s = await c.ctx.engine.containers.statPath(id, path);
  if (!s) throw new ApiError(404, `Could not find the file ${path} in container ${c.params[0]}`);
  return s;
}

export async function archiveHead(c: Call): Promise<void> {
  const path = pathParam(c);
  const s = await stat(c, await containerId(c), path);
  c.res!.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(s), 'Content-Type': 'application/x-tar' });
  c.res!.end();
}

export async function archiveGet(c: Call): Promise<void> {
  const path = pathParam(c);
  const id = await containerId(c);
  const { stream, stat: s } = await c.ctx.engine.containers.getArchive(id, path);
  const res = c.res!;
  res.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(s), 'Content-Type': 'application/x-tar' });
  // A client that goes away mid-copy ends the copy (the helper stops at its next write).
  await pipeline(stream, res).catch(() => {
    stream.destroy();
    res.destroy();
  });
}

export async function archivePut(c: Call): Promise<void> {
  const path = pathParam(c);
  const id = await containerId(c);
  const s = await stat(c, id, path);
  // Go's os.ModeDir: the destination must be a directory (the client renames entries for a file target).
  if (!(s.mode & 0x80000000)) throw badRequest(`extraction point is not a directory: ${path}`);
  await c.ctx.engine.containers.putArchive(id, path, c.req);
  c.res!.writeHead(200);
  c.res!.end();
}
