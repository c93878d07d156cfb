import type Docker from 'dockerode';
import { readdirSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type {
  BuildRequest, RegistryCredentials, DockerObject, ImageApi, ImageDetails, ImageHistoryEntry, ImageRemoval, ImageSummary, ImportOptions, LabelFilter, PullOptions, PushOptions, TransferProgress,
} from '../types.js';
import { EngineError } from '../types.js';
import { UserError } from '../../util/errors.js';
import { call, callOrUndefined, toEngineError } from './errors.js';
import { labelFilters } from './filters.js';
import { healthcheckFromDocker } from './convert.js';
import { imageConfigFrom, type DockerStyleConfig } from '../image-config.js';

const KIND = 'image';

interface DockerImageInspect {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: string;
  Size: number;
  Architecture: string;
  Os: string;
  Config: (DockerStyleConfig & {
    Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number };
  }) | null;
}

/** One JSON message of a pull, build or load stream. */
interface StreamMessage {
  id?: string;
  status?: string;
  stream?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

export class DockerImages implements ImageApi {
  constructor(private readonly docker: Docker) {}

  async inspect(ref: string): Promise<ImageDetails | undefined> {
    const i = (await callOrUndefined(KIND, ref, 'inspect', () => this.docker.getImage(ref).inspect())) as DockerImageInspect | undefined;
    if (!i) return undefined;
    const c = i.Config ?? {};
    return {
      id: i.Id,
      repoTags: i.RepoTags ?? [],
      repoDigests: i.RepoDigests ?? [],
      created: Date.parse(i.Created) || 0,
      size: i.Size,
      labels: c.Labels ?? {},
      architecture: i.Architecture,
      os: i.Os,
      config: { ...imageConfigFrom(c), healthcheck: healthcheckFromDocker(c.Healthcheck) },
    };
  }

  async list(filter: LabelFilter & { reference?: string } = {}): Promise<ImageSummary[]> {
    const filters = labelFilters(filter.labels);
    if (filter.reference) filters.reference = [filter.reference];
    const rows = await call(KIND, 'list', 'list', () => this.docker.listImages({ filters: JSON.stringify(filters) }));
    return rows.map((r) => ({
      id: r.Id,
      repoTags: (r.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
      repoDigests: (r.RepoDigests ?? []).filter((d) => d !== '<none>@<none>'),
      created: r.Created * 1000,
      size: r.Size,
      labels: r.Labels ?? {},
    }));
  }

  async inspectRaw(ref: string): Promise<DockerObject | undefined> {
    return (await callOrUndefined(KIND, ref, 'inspect', () => this.docker.getImage(ref).inspect())) as DockerObject | undefined;
  }

  async remove(ref: string, options: { force?: boolean } = {}): Promise<ImageRemoval> {
    const r = (await call(KIND, ref, 'remove', () => this.docker.getImage(ref).remove({ force: options.force ?? false }))) as unknown as RemovalItem[];
    return removal(r);
  }

  async prune(options: { all?: boolean } = {}): Promise<ImageRemoval & { reclaimedBytes: number }> {
    const r = await call(KIND, 'unused', 'prune', () => this.docker.pruneImages({ filters: JSON.stringify({ dangling: [options.all ? 'false' : 'true'] }) }));
    return { ...removal((r.ImagesDeleted ?? []) as RemovalItem[]), reclaimedBytes: r.SpaceReclaimed ?? 0 };
  }

  async history(ref: string): Promise<ImageHistoryEntry[]> {
    const rows = (await call(KIND, ref, 'read the history of', () => this.docker.getImage(ref).history())) as Array<{
      Id: string; Created: number; CreatedBy: string; Size: number; Comment: string; Tags: string[] | null;
    }>;
    return rows.map((h) => ({ id: h.Id, created: h.Created * 1000, createdBy: h.CreatedBy, size: h.Size, comment: h.Comment, tags: h.Tags ?? [] }));
  }

  async save(refs: string[], out: Writable): Promise<void> {
    const stream = (await call(KIND, refs.join(' '), 'save', () =>
      (this.docker as unknown as { getImages(o: { names: string[] }): Promise<Readable> }).getImages({ names: refs }),
    )) as Readable;
    await pipeline(stream, out);
  }

  async importRootfs(source: Readable | string, options: ImportOptions = {}): Promise<string> {
    const [first, ...more] = options.tags ?? [];
    const { repo, tag } = first ? splitReference(first) : { repo: undefined, tag: undefined };
    const stream = (await call(KIND, first ?? 'rootfs', 'import', () =>
      this.docker.importImage(typeof source === 'string' ? createReadStream(source) : source, {
        ...(repo ? { repo, tag } : {}),
        ...(options.changes?.length ? { changes: options.changes } : {}),
        ...(options.message ? { message: options.message } : {}),
      }),
    )) as Readable;
    let id = '';
    await consume(stream, (p) => {
      const m = /^(sha256:[0-9a-f]{64})$/.exec(p.status.trim());
      if (m) id = m[1]!;
    }, `import ${first ?? 'rootfs'}`);
    for (const t of more) await this.tag(id || first!, t);
    return id || (first ? ((await this.inspect(first))?.id ?? '') : '');
  }

  async tag(source: string, target: string): Promise<void> {
    const { repo, tag } = splitReference(target);
    await call(KIND, source, `tag as ${target}:`, () => this.docker.getImage(source).tag({ repo, tag }));
  }

  async pull(ref: string, options: PullOptions = {}): Promise<{ reference: string }> {
    const stream = (await call(KIND, ref, 'pull', () =>
      this.docker.pull(ref, { ...(options.platform ? { platform: options.platform } : {}), ...authconfig(options.credentials), abortSignal: options.signal }),
    )) as Readable;
    await consume(stream, options.onProgress, `pull ${ref}`);
    return { reference: ref };
  }

  async push(ref: string, options: PushOptions = {}): Promise<{ reference: string; digest: string }> {
    // dockerd refuses a push without an X-Registry-Auth header ("Bad parameters and missing
    // X-Registry-Auth"), even to a registry that asks for none: the docker CLI sends `{}` then.
    const auth = authconfig(options.credentials).authconfig ?? {};
    const stream = (await call(KIND, ref, 'push', () => this.docker.getImage(ref).push({ authconfig: auth, abortSignal: options.signal } as Record<string, unknown>))) as Readable;
    let digest = '';
    await consume(stream, (p) => {
      const m = /digest: (sha256:[0-9a-f]{64})/.exec(p.status);
      if (m) digest = m[1]!;
      options.onProgress?.(p);
    }, `push ${ref}`);
    return { reference: ref, digest };
  }

  async build(spec: BuildRequest): Promise<string> {
    if (spec.dockerfileInline !== undefined) {
      throw new UserError(`cannot build ${spec.tags[0] ?? spec.context}: dockerfile_inline is not supported by the docker backend`, 1,
        'write the Dockerfile into the build context and name it with build.dockerfile');
    }
    let entries: string[];
    try {
      entries = readdirSync(spec.context);
    } catch (err) {
      throw new UserError(`cannot build ${spec.tags[0] ?? ''}: the build context ${spec.context} cannot be read (${(err as Error).message})`);
    }
    const opts: Record<string, unknown> = {
      t: spec.tags,
      dockerfile: spec.dockerfile ?? 'Dockerfile',
      buildargs: spec.args ?? {},
      labels: spec.labels ?? {},
      rm: true,
      forcerm: true,
      nocache: spec.noCache ?? false,
      pull: spec.pull ? '1' : '',
      abortSignal: spec.signal,
    };
    if (spec.target) opts.target = spec.target;
    if (spec.network) opts.networkmode = spec.network;
    if (spec.platform) opts.platform = spec.platform;
    if (spec.extraHosts?.length) opts.extrahosts = spec.extraHosts.join(',');
    if (spec.shmSize) opts.shmsize = spec.shmSize;
    if (spec.memory) opts.memory = spec.memory;
    const stream = (await call(KIND, spec.tags[0] ?? spec.context, 'build', () =>
      this.docker.buildImage({ context: spec.context, src: entries }, opts as Docker.ImageBuildOptions),
    )) as Readable;
    const id = await consume(stream, spec.onProgress, `build ${spec.tags[0] ?? spec.context}`);
    if (id) return id;
    const back = spec.tags[0] ? await this.inspect(spec.tags[0]) : undefined;
    if (!back) throw new EngineError(`build of ${spec.tags[0] ?? spec.context} finished without an image id`);
    return back.id;
  }

  async load(archive: Readable | string, onProgress?: (p: TransferProgress) => void): Promise<string[]> {
    const input = typeof archive === 'string' ? createReadStream(archive) : archive;
    const stream = (await call(KIND, 'archive', 'load', () => this.docker.loadImage(input, { quiet: false }))) as Readable;
    const loaded: string[] = [];
    await consume(stream, (p) => {
      const m = /^Loaded image(?: ID)?: (.+)$/.exec(p.status.trim());
      if (m) loaded.push(m[1]!);
      onProgress?.(p);
    }, 'load archive');
    return loaded;
  }
}

/** dockerode's X-Registry-Auth for credentials given with the call (none: the daemon's own). */
function authconfig(c: RegistryCredentials | undefined): { authconfig?: { username: string; password: string } } {
  return c ? { authconfig: { username: c.username, password: c.password } } : {};
}

/**
 * Reads a stream of JSON messages to its end, reporting progress; the daemon
 * reports failures inside the stream with an `error` field. Returns the image
 * id a build announces in its `aux` message, if any.
 */
async function consume(stream: Readable, onProgress: ((p: TransferProgress) => void) | undefined, what: string): Promise<string | undefined> {
  let buffered = '';
  let id: string | undefined;
  const handle = (line: string) => {
    if (!line.trim()) return;
    let m: StreamMessage;
    try {
      m = JSON.parse(line) as StreamMessage;
    } catch {
      return;
    }
    if (m.error || m.errorDetail?.message) throw new EngineError(`${what}: ${(m.errorDetail?.message ?? m.error ?? '').trim()}`);
    if (m.aux?.ID) id = m.aux.ID;
    const status = (m.status ?? m.stream ?? '').replace(/\n$/, '');
    if (status && onProgress) onProgress({ id: m.id, status, current: m.progressDetail?.current, total: m.progressDetail?.total });
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) handle(line);
    }
    handle(buffered);
  } catch (err) {
    if (err instanceof EngineError) throw err;
    throw toEngineError(err, KIND, what, 'read the answer of');
  }
  return id;
}

/** "repo:tag" → {repo, tag}; a colon in a registry host:port is not a tag. */
export function splitReference(ref: string): { repo: string; tag: string } {
  const at = ref.indexOf('@');
  const base = at >= 0 ? ref.slice(0, at) : ref;
  const colon = base.lastIndexOf(':');
  if (colon > base.lastIndexOf('/')) return { repo: base.slice(0, colon), tag: base.slice(colon + 1) };
  return { repo: base, tag: 'latest' };
}

type RemovalItem = { Untagged?: string; Deleted?: string };

/** Docker's removal answer (one object per tag untagged or image deleted) as ours. */
function removal(items: RemovalItem[]): ImageRemoval {
  return { untagged: items.flatMap((i) => (i.Untagged ? [i.Untagged] : [])), deleted: items.flatMap((i) => (i.Deleted ? [i.Deleted] : [])) };
}
