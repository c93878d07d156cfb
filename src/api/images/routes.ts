import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError } from '../../util/errors.js';
import { route, type Call, type Route } from '../router.js';
import { badRequest, boolParam, labelFilter, parseFilters, sendJson } from '../http.js';
import { imageSummaryJson } from '../json.js';
import { registryAuth, streamed } from './progress.js';
import { build } from './build.js';

/**
 * The image endpoints: list, inspect, history, pull and import (both
 * `POST /images/create`), push, tag, remove, prune, load, save (get),
 * commit and build. Names may hold slashes and a registry's port, so the
 * routes take the rest of the path as the name.
 */

async function list(c: Call): Promise<void> {
  const f = parseFilters(c.query, ['reference', 'label', 'dangling', 'before', 'since']);
  const labels = labelFilter(f.label);
  let images = await c.ctx.engine.images.list(labels ? { labels } : {});
  if (f.reference?.length) {
    const matching = new Set<string>();
    for (const r of f.reference) for (const i of await c.ctx.engine.images.list({ reference: r })) matching.add(i.id);
    images = images.filter((i) => matching.has(i.id));
  }
  if (f.dangling?.length) images = images.filter((i) => (i.repoTags.length === 0) === f.dangling!.includes('true'));
  const createdOf = async (ref: string) => {
    const i = await c.ctx.engine.images.inspect(ref);
    if (!i) throw new NotFoundError('image', ref);
    return i.created;
  };
  if (f.before?.[0]) {
    const t = await createdOf(f.before[0]);
    images = images.filter((i) => i.created < t);
  }
  if (f.since?.[0]) {
    const t = await createdOf(f.since[0]);
    images = images.filter((i) => i.created > t);
  }
  const used = new Map<string, number>();
  for (const s of await c.ctx.engine.containers.list({ all: true })) used.set(s.imageId, (used.get(s.imageId) ?? 0) + 1);
  sendJson(c.res!, 200, images.sort((a, b) => b.created - a.created).map((i) => ({ ...imageSummaryJson(i), Containers: used.get(i.id) ?? 0 })));
}

async function inspect(c: Call): Promise<void> {
  const raw = await c.ctx.engine.images.inspectRaw(c.params[0]!);
  if (!raw) throw new NotFoundError('image', c.params[0]!);
  sendJson(c.res!, 200, raw);
}

async function history(c: Call): Promise<void> {
  if (!(await c.ctx.engine.images.inspect(c.params[0]!))) throw new NotFoundError('image', c.params[0]!);
  const steps = await c.ctx.engine.images.history(c.params[0]!);
  sendJson(c.res!, 200, steps.map((h) => ({ Id: h.id, Created: Math.floor(h.created / 1000), CreatedBy: h.createdBy, Tags: h.tags.length ? h.tags : null, Size: h.size, Comment: h.comment })));
}

/** `fromImage` and `tag` as one reference: a tag, or a digest after `@`. */
function pullReference(q: URLSearchParams): string {
  const image = q.get('fromImage')!;
  const tag = q.get('tag');
  if (!tag) return image;
  return tag.startsWith('sha256:') ? `${image}@${tag}` : `${image}:${tag}`;
}

/** `POST /images/create`: a pull (`fromImage`) or an import of a root filesystem tar (`fromSrc=-`, the body). */
async function createImage(c: Call): Promise<void> {
  const q = c.query;
  if (q.get('fromImage')) {
    const ref = pullReference(q);
    const credentials = registryAuth(c);
    await streamed(c, async (out, signal) => {
      await c.ctx.engine.images.pull(ref, {
        ...(q.get('platform') ? { platform: q.get('platform')! } : {}),
        ...(credentials ? { credentials } : {}),
        signal,
        onProgress: (p) => out.progress(p),
      });
    });
    return;
  }
  const src = q.get('fromSrc');
  if (src !== '-') throw badRequest(src ? 'importing from a URL is not supported: send the tar as the request body with fromSrc=-' : 'give fromImage (a pull) or fromSrc=- (an import)');
  const repo = q.get('repo');
  const tag = repo ? `${repo}${q.get('tag') ? `:${q.get('tag')}` : ''}` : undefined;
  const id = await c.ctx.engine.images.importRootfs(c.req, {
    ...(tag ? { tags: [tag] } : {}),
    changes: q.getAll('changes').filter(Boolean),
    ...(q.get('message') ? { message: q.get('message')! } : {}),
  });
  sendJson(c.res!, 200, { status: id });
}

async function push(c: Call): Promise<void> {
  const name = c.params[0]!;
  const tag = c.query.get('tag');
  const ref = tag ? `${name}:${tag}` : name;
  if (!(await c.ctx.engine.images.inspect(ref))) throw new NotFoundError('image', ref);
  const credentials = registryAuth(c);
  await streamed(c, async (out, signal) => {
    let size = 0;
    const r = await c.ctx.engine.images.push(ref, {
      signal,
      ...(credentials ? { credentials } : {}),
      onProgress: (p) => {
        const m = / size: (\d+)$/.exec(p.status);
        if (m) size = Number(m[1]);
        out.progress(p);
      },
    });
    out.write({ progressDetail: {}, aux: { Tag: tag || 'latest', Digest: r.digest, Size: size } });
  });
}

async function tag(c: Call): Promise<void> {
  const repo = c.query.get('repo');
  if (!repo) throw badRequest('repository name must have at least one component: give repo');
  const t = c.query.get('tag');
  await c.ctx.engine.images.tag(c.params[0]!, t ? `${repo}:${t}` : repo);
  c.res!.writeHead(201);
  c.res!.end();
}

async function remove(c: Call): Promise<void> {
  const r = await c.ctx.engine.images.remove(c.params[0]!, { force: boolParam(c.query, 'force') });
  sendJson(c.res!, 200, [...r.untagged.map((u) => ({ Untagged: u })), ...r.deleted.map((d) => ({ Deleted: d }))]);
}

async function prune(c: Call): Promise<void> {
  const f = parseFilters(c.query, ['dangling', 'until', 'label', 'label!']);
  if (f.until?.length || f.label?.length || f['label!']?.length) throw badRequest('image prune takes only the dangling filter on the native engine');
  const all = f.dangling?.includes('false') ?? false;
  const r = await c.ctx.engine.images.prune({ all });
  const deleted = [...r.untagged.map((u) => ({ Untagged: u })), ...r.deleted.map((d) => ({ Deleted: d }))];
  sendJson(c.res!, 200, { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: r.reclaimedBytes });
}

async function load(c: Call): Promise<void> {
  const quiet = boolParam(c.query, 'quiet');
  await streamed(c, async (out) => {
    await c.ctx.engine.images.load(c.req, (p) => {
      if (p.status.startsWith('Loaded image') || p.status.startsWith('The image ')) out.write({ stream: `${p.status}\n` });
      else if (!quiet) out.progress(p);
    });
  });
}

async function save(c: Call, names: string[]): Promise<void> {
  if (!names.length) throw badRequest('give the images to save');
  for (const n of names) if (!(await c.ctx.engine.images.inspect(n))) throw new NotFoundError('image', n);
  const res = c.res!;
  res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  const tar = new PassThrough();
  const saving = c.ctx.engine.images.save(names, tar);
  await Promise.all([saving, pipeline(tar, res)]).catch((err) => {
    tar.destroy();
    res.destroy(err as Error);
  });
}

async function commit(c: Call): Promise<void> {
  const q = c.query;
  const container = q.get('container');
  if (!container) throw badRequest('give the container to commit');
  const repo = q.get('repo');
  const id = await c.ctx.engine.containers.commit(container, {
    ...(repo ? { tag: `${repo}${q.get('tag') ? `:${q.get('tag')}` : ''}` } : {}),
    ...(q.get('author') ? { author: q.get('author')! } : {}),
    ...(q.get('comment') ? { message: q.get('comment')! } : {}),
    changes: q.getAll('changes').flatMap((x) => x.split('\n')).filter(Boolean),
  });
  sendJson(c.res!, 201, { Id: id });
}

export const imageRoutes: Route[] = [
  route('GET', '/images/json', list),
  route('POST', '/images/create', createImage),
  route('POST', '/images/load', load),
  route('POST', '/images/prune', prune),
  route('GET', '/images/get', (c) => save(c, c.query.getAll('names'))),
  route('POST', '/build', build),
  route('POST', '/commit', commit),
  route('GET', '/images/{name*}/json', inspect),
  route('GET', '/images/{name*}/history', history),
  route('GET', '/images/{name*}/get', (c) => save(c, [c.params[0]!])),
  route('POST', '/images/{name*}/push', push),
  route('POST', '/images/{name*}/tag', tag),
  route('DELETE', '/images/{name*}', remove),
];
