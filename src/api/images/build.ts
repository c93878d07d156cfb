import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuildRequest } from '../../engine/types.js';
import { decompressed } from '../../engine/native/image/decompress.js';
import { extractLayer } from '../../engine/native/image/extract.js';
import type { Call } from '../router.js';
import { ApiError, badRequest, boolParam, intParam } from '../http.js';
import { streamed } from './progress.js';

/**
 * `POST /build` with the classic builder's protocol: the body is the
 * context as a tar (plain or compressed), unpacked into a private temp dir
 * by the image store's extractor (which refuses `..`, absolute names and
 * any write through a symlink of the same tar: nothing lands outside the
 * dir), then built by the Engine; the answer is the builder's lines as
 * `{"stream": ...}` messages and the image id as `{"aux": {"ID": ...}}`.
 */

/** Contexts larger than this (uncompressed) are refused: a client cannot fill the server's disk. */
export const CONTEXT_LIMIT = 8 * 1024 ** 3;

function jsonParam(q: URLSearchParams, name: string): Record<string, string> | undefined {
  const v = q.get(name);
  if (!v) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw badRequest(`invalid ${name}: not JSON`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw badRequest(`invalid ${name}: expected a JSON object`);
  const out: Record<string, string> = {};
  // buildargs may carry null for "take the value from the builder's environment": not here, so they are left out.
  for (const [k, x] of Object.entries(parsed as Record<string, unknown>)) if (x !== null && x !== undefined) out[k] = String(x);
  return out;
}

function buildRequest(q: URLSearchParams, context: string): Omit<BuildRequest, 'onProgress' | 'signal'> {
  if (q.get('remote')) throw badRequest('remote build contexts (git URLs, tarball URLs) are not supported: send the context as the request body');
  for (const unsupported of ['squash', 'outputs', 'session']) {
    if (q.get(unsupported) && q.get(unsupported) !== '0' && q.get(unsupported) !== 'false') throw badRequest(`${unsupported} is not supported by the native builder`);
  }
  const network = q.get('networkmode') || undefined;
  const shm = intParam(q, 'shmsize');
  const args = jsonParam(q, 'buildargs');
  const labels = jsonParam(q, 'labels');
  const extraHosts = (q.get('extrahosts') ?? '').split(',').filter(Boolean);
  return {
    context,
    dockerfile: q.get('dockerfile') || 'Dockerfile',
    tags: q.getAll('t').filter(Boolean),
    ...(args ? { args } : {}),
    ...(labels ? { labels } : {}),
    ...(q.get('target') ? { target: q.get('target')! } : {}),
    ...(network && network !== 'default' ? { network } : {}),
    ...(boolParam(q, 'nocache') ? { noCache: true } : {}),
    ...(boolParam(q, 'pull') ? { pull: true } : {}),
    ...(q.get('platform') ? { platform: q.get('platform')! } : {}),
    ...(extraHosts.length ? { extraHosts } : {}),
    ...(shm ? { shmSize: shm } : {}),
  };
}

export async function build(c: Call): Promise<void> {
  const q = c.query;
  const quiet = boolParam(q, 'q');
  const dir = mkdtempSync(join(tmpdir(), 'tsc-api-build-'));
  try {
    // Query errors first, before a byte of the context is read: a plain 400.
    const request = buildRequest(q, join(dir, 'diff'));
    try {
      const { stream } = await decompressed(c.req, 'build context');
      await extractLayer(stream, dir, { what: 'build context', maxBytes: CONTEXT_LIMIT });
    } catch (err) {
      // The client went away mid-upload, or sent what is not a tar: nothing is built.
      if (c.req.destroyed && !c.req.complete) throw new ApiError(400, 'the build context ended early: the client closed the connection');
      throw err;
    }
    await streamed(c, async (out, signal) => {
      const id = await c.ctx.engine.images.build({
        ...request,
        signal,
        onProgress: (p) => {
          if (!quiet) out.write({ stream: `${p.status}\n` });
        },
      });
      out.write({ aux: { ID: id } });
      if (quiet) out.write({ stream: `${id}\n` });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
