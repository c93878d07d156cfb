import { createHash } from 'node:crypto';
import { createWriteStream, rmSync, utimesSync } from 'node:fs';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errorMessage } from '../../util/errors.js';
import { errorAt, type Position } from '../dockerfile/errors.js';
import type { StepContext } from './context.js';

/**
 * `ADD <url> <dest>`: the file is downloaded when the step is planned (its
 * content is part of the cache key, as Docker hashes it), written with mode
 * 0600 and the Last-Modified time, and checked against --checksum when one
 * is given.
 */

export interface Download {
  path: string;
  filename: string;
  digest: string;
  dispose(): void;
}

export async function downloadUrl(ctx: StepContext, url: string, checksum: string | undefined, pos: Position): Promise<Download> {
  if (checksum !== undefined && !/^sha256:[0-9a-f]{64}$/.test(checksum)) throw errorAt(pos, `invalid --checksum=${checksum}`, 'Give sha256:<64 hex digits>');
  const dir = ctx.deps.store.layers.stagingDir();
  const dispose = () => rmSync(dir, { recursive: true, force: true });
  try {
    let res: Response;
    try {
      res = await fetch(url, { redirect: 'follow', ...(ctx.opts.signal ? { signal: ctx.opts.signal } : {}) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw errorAt(pos, `ADD ${url}: cannot download it: ${cause?.code ?? cause?.message ?? errorMessage(err)}`);
    }
    if (!res.ok || !res.body) throw errorAt(pos, `ADD ${url}: the server answered ${res.status} ${res.statusText}`);
    const filename = posix.basename(new URL(res.url || url).pathname) || 'index.html';
    const path = join(dir, 'download');
    const hash = createHash('sha256');
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (c: Buffer) => hash.update(c));
    await pipeline(body, createWriteStream(path, { mode: 0o600 }));
    const digest = `sha256:${hash.digest('hex')}`;
    if (checksum !== undefined && checksum !== digest) throw errorAt(pos, `ADD ${url}: checksum mismatch: expected ${checksum}, got ${digest}`);
    const lastModified = Date.parse(res.headers.get('last-modified') ?? '');
    if (Number.isFinite(lastModified)) utimesSync(path, new Date(lastModified), new Date(lastModified));
    return { path, filename, digest, dispose };
  } catch (err) {
    dispose();
    throw err;
  }
}
