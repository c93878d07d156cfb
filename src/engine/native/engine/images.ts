import type { Readable, Writable } from 'node:stream';
import { inspectImage } from '../image/inspect-json.js';
import { parseReference, referenceString, withDefaultTag } from '../image/reference.js';
import { NotFoundError, UserError, errorMessage } from '../../../util/errors.js';
import { EngineError, type BuildRequest, type DockerObject, type ImageApi, type ImageHistoryEntry, type ImageRemoval, type ImportOptions, type PushOptions, type ImageDetails, type ImageSummary, type LabelFilter, type PullOptions, type TransferProgress } from '../../types.js';
import type { ImageRecord } from '../image/index.js';
import { lookupImage } from '../image/lookup.js';
import type { EngineDeps } from './deps.js';
import { journal } from './events.js';
import { imageConfigFrom } from '../../image-config.js';

const NS_PER_MS = 1_000_000;

/**
 * The Engine's images: the native image store, the registry client for
 * pulls and the builder (src/build) for builds, which falls back to a Debian
 * base made with debootstrap when `FROM debian:<suite>` cannot be pulled.
 */
export class NativeImages implements ImageApi {
  constructor(private readonly deps: EngineDeps) {}

  /** From the store's records (image/lookup.ts, what ImageStore.resolve reads): inspecting never opens the store. */
  async inspect(ref: string): Promise<ImageDetails | undefined> {
    let img: ImageRecord | undefined;
    try {
      img = lookupImage(this.deps.imagePaths(), ref);
    } catch {
      img = undefined;
    }
    return img && details(img);
  }

  async list(filter: LabelFilter & { reference?: string } = {}): Promise<ImageSummary[]> {
    const store = await this.deps.store();
    const match = filter.reference ? referenceMatcher(filter.reference) : undefined;
    return (await store.list())
      .filter((img) => !match || img.repoTags.some(match))
      .filter((img) => labelsMatch(img.config.config?.Labels ?? {}, filter.labels))
      .map(summary);
  }

  async inspectRaw(ref: string): Promise<DockerObject | undefined> {
    const store = await this.deps.store();
    const img = await store.resolve(ref).catch(() => undefined);
    return img && inspectImage(store, img);
  }

  async remove(ref: string, options: { force?: boolean } = {}): Promise<ImageRemoval> {
    const store = await this.deps.store();
    const report = await store.remove(ref, { force: options.force ?? false });
    for (const t of report.untagged) journal('image', 'untag', t, { name: t });
    for (const d of report.deleted.filter((x) => x.startsWith('sha256:'))) journal('image', 'delete', d, { name: ref });
    return { untagged: report.untagged, deleted: report.deleted };
  }

  async prune(options: { all?: boolean } = {}): Promise<ImageRemoval & { reclaimedBytes: number }> {
    const store = await this.deps.store();
    const report = await store.prune({ all: options.all ?? false });
    for (const t of report.untagged) journal('image', 'untag', t, { name: t });
    for (const d of report.deleted.filter((x) => x.startsWith('sha256:'))) journal('image', 'delete', d, { name: d });
    return report;
  }

  async history(ref: string): Promise<ImageHistoryEntry[]> {
    const store = await this.deps.store();
    const img = await store.get(ref);
    const sizes = img.chainIds.map((c) => store.layer(c)?.size ?? 0);
    let layer = 0;
    const steps = (img.config.history ?? []).map((h) => ({
      id: '<missing>',
      created: Date.parse(h.created ?? '') || 0,
      createdBy: h.created_by ?? '',
      size: h.empty_layer ? 0 : (sizes[layer++] ?? 0),
      comment: h.comment ?? '',
      tags: [] as string[],
    }));
    steps.reverse();
    // Docker names the newest step by the image's id; the older ones of a pulled image are "<missing>".
    if (steps[0]) Object.assign(steps[0], { id: img.id, tags: img.repoTags });
    return steps;
  }

  async tag(source: string, target: string): Promise<void> {
    const store = await this.deps.store();
    await store.tag(source, target);
    journal('image', 'tag', source, { name: target });
  }

  async pull(ref: string, options: PullOptions = {}): Promise<{ reference: string }> {
    const [store, { pullWithOptions }] = await Promise.all([this.deps.store(), import('../../../build/index.js')]);
    try {
      await pullWithOptions(store, ref, options);
    } catch (err) {
      if (err instanceof NotFoundError || (err instanceof Error && err.message.includes(ref))) throw err;
      // Name the image: the registry client's message names the registry, not what was asked for.
      throw new EngineError(`pull ${ref}: ${errorMessage(err)}`, undefined, err instanceof UserError ? err.hint : undefined);
    }
    journal('image', 'pull', ref, { name: ref });
    return { reference: referenceString(withDefaultTag(parseReference(ref))) };
  }

  async push(ref: string, options: PushOptions = {}): Promise<{ reference: string; digest: string }> {
    const [store, { pushImage }] = await Promise.all([this.deps.store(), import('../registry/index.js')]);
    const r = await pushImage(store, ref, {
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
    journal('image', 'push', ref, { name: ref });
    return { reference: r.reference, digest: r.digest };
  }

  async build(spec: BuildRequest): Promise<string> {
    const [store, { buildFromRequest }] = await Promise.all([this.deps.store(), import('../../../build/index.js')]);
    const id = await buildFromRequest({ store, runtime: () => this.deps.runtime() }, spec);
    for (const t of spec.tags) journal('image', 'tag', id, { name: t });
    return id;
  }

  async load(archive: Readable | string, onProgress?: (p: TransferProgress) => void): Promise<string[]> {
    const [store, { loadArchive }] = await Promise.all([this.deps.store(), import('../image/index.js')]);
    const loaded = await loadArchive(store, archive, onProgress && ((e) => onProgress({ id: e.diffId.slice(7, 19), status: e.status === 'exists' ? 'Already exists' : e.status === 'loaded' ? 'Loaded' : 'Loading', current: e.index + 1, total: e.count })));
    // The lines dockerd streams at the end of a load, which `docker load` prints.
    for (const l of loaded) {
      for (const r of l.retagged) onProgress?.({ status: `The image ${r.tag} already exists, renaming the old one with ID ${r.previousId} to empty string` });
      for (const t of l.tags) onProgress?.({ status: `Loaded image: ${t}` });
      if (!l.tags.length) onProgress?.({ status: `Loaded image ID: ${l.id}` });
    }
    const refs = loaded.flatMap((l) => (l.tags.length ? l.tags : [l.id]));
    for (const r of refs) journal('image', 'load', r, { name: r });
    return refs;
  }

  async save(refs: string[], out: Writable): Promise<void> {
    const [store, { saveImages }] = await Promise.all([this.deps.store(), import('../image/archive/save.js')]);
    await saveImages(store, refs, out);
    for (const r of refs) journal('image', 'save', r, { name: r });
  }

  async importRootfs(source: Readable | string, options: ImportOptions = {}): Promise<string> {
    const [store, { importRootfsTar, normalizeTaggedName }, { applyConfigChanges }] = await Promise.all([
      this.deps.store(), import('../image/index.js'), import('../../../build/commit.js'),
    ]);
    // A bad name or instruction fails before the tar is read.
    for (const t of options.tags ?? []) normalizeTaggedName(t);
    const changes = options.changes ?? [];
    applyConfigChanges({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }, changes);
    const { image } = await importRootfsTar(store, source, {
      tags: options.tags ?? [],
      configure: (config) => applyConfigChanges(config, changes),
      ...(options.message !== undefined ? { message: options.message } : {}),
    });
    journal('image', 'import', image.id, { name: options.tags?.[0] ?? image.id });
    return image.id;
  }

  async bootstrap(ref: string, options: { refresh?: boolean; cacheDir?: string; onLine?: (line: string) => void } = {}): Promise<string> {
    const [store, { bootstrapDebianImage }] = await Promise.all([this.deps.store(), import('../../../build/bootstrap-image.js')]);
    const image = await bootstrapDebianImage(store, ref, options);
    journal('image', 'tag', image.id, { name: ref });
    return image.id;
  }

  /** NotFoundError when the image is not in the store (what `create` needs before anything else). */
  async require(ref: string): Promise<ImageRecord> {
    const store = await this.deps.store();
    const img = await store.resolve(ref);
    if (!img) throw new NotFoundError('image', ref);
    return img;
  }
}

function summary(img: ImageRecord): ImageSummary {
  return {
    id: img.id,
    repoTags: img.repoTags,
    repoDigests: img.repoDigests,
    created: Date.parse(img.created) || 0,
    size: img.size,
    labels: img.config.config?.Labels ?? {},
  };
}

function details(img: ImageRecord): ImageDetails {
  const c = img.config.config ?? {};
  const h = c.Healthcheck;
  return {
    ...summary(img),
    architecture: img.config.architecture,
    os: img.config.os,
    config: {
      ...imageConfigFrom(c),
      ...(h?.Test?.length
        ? {
            healthcheck: {
              test: h.Test,
              ...(h.Interval ? { interval: h.Interval / NS_PER_MS } : {}),
              ...(h.Timeout ? { timeout: h.Timeout / NS_PER_MS } : {}),
              ...(h.Retries ? { retries: h.Retries } : {}),
              ...(h.StartPeriod ? { startPeriod: h.StartPeriod / NS_PER_MS } : {}),
              ...(h.StartInterval ? { startInterval: h.StartInterval / NS_PER_MS } : {}),
            },
          }
        : {}),
    },
  };
}

function labelsMatch(labels: Record<string, string>, want: Record<string, string | undefined> | undefined): boolean {
  for (const [k, v] of Object.entries(want ?? {})) {
    if (!(k in labels)) return false;
    if (v !== undefined && labels[k] !== v) return false;
  }
  return true;
}

/** Docker's `reference=` filter: a familiar name[:tag], with * globs; a name alone matches any tag. */
function referenceMatcher(pattern: string): (tag: string) => boolean {
  const withTag = pattern.includes(':') ? pattern : `${pattern}:*`;
  const re = new RegExp(`^${withTag.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
  return (tag) => re.test(tag);
}
