import type { Readable } from 'node:stream';
import { NotFoundError, UserError, errorMessage } from '../../../util/errors.js';
import { EngineError, type BuildRequest, type ImageApi, type ImageDetails, type ImageSummary, type LabelFilter, type PullOptions, type TransferProgress } from '../../types.js';
import type { ImageRecord } from '../image/index.js';
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

  async inspect(ref: string): Promise<ImageDetails | undefined> {
    const store = await this.deps.store();
    const img = await store.resolve(ref).catch(() => undefined);
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

  async remove(ref: string, options: { force?: boolean } = {}): Promise<void> {
    const store = await this.deps.store();
    const report = await store.remove(ref, { force: options.force ?? false });
    for (const t of report.untagged) journal('image', 'untag', t, { name: t });
    for (const d of report.deleted.filter((x) => x.startsWith('sha256:'))) journal('image', 'delete', d, { name: ref });
  }

  async tag(source: string, target: string): Promise<void> {
    const store = await this.deps.store();
    await store.tag(source, target);
    journal('image', 'tag', source, { name: target });
  }

  async pull(ref: string, options: PullOptions = {}): Promise<void> {
    const [store, { pullWithOptions }] = await Promise.all([this.deps.store(), import('../../../build/index.js')]);
    try {
      await pullWithOptions(store, ref, options);
    } catch (err) {
      if (err instanceof NotFoundError || (err instanceof Error && err.message.includes(ref))) throw err;
      // Name the image: the registry client's message names the registry, not what was asked for.
      throw new EngineError(`pull ${ref}: ${errorMessage(err)}`, undefined, err instanceof UserError ? err.hint : undefined);
    }
    journal('image', 'pull', ref, { name: ref });
  }

  async build(spec: BuildRequest): Promise<string> {
    const [store, { buildFromRequest }] = await Promise.all([this.deps.store(), import('../../../build/index.js')]);
    const id = await buildFromRequest({ store, runtime: () => this.deps.runtime() }, spec);
    for (const t of spec.tags) journal('image', 'tag', id, { name: t });
    return id;
  }

  async load(archive: Readable, onProgress?: (p: TransferProgress) => void): Promise<string[]> {
    const [store, { loadArchive }] = await Promise.all([this.deps.store(), import('../image/index.js')]);
    const loaded = await loadArchive(store, archive, onProgress && ((e) => onProgress({ id: e.diffId.slice(7, 19), status: e.status === 'exists' ? 'Already exists' : e.status === 'loaded' ? 'Loaded' : 'Loading', current: e.index + 1, total: e.count })));
    const refs = loaded.flatMap((l) => (l.tags.length ? l.tags : [l.id]));
    for (const r of refs) journal('image', 'load', r, { name: r });
    return refs;
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
