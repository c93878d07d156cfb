import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { UserError } from '../../../../util/errors.js';
import { chainIdOf, isDigest, ociArchitecture, sha256Digest, validateImageConfig, digestHex,
  ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, INDEX_MEDIA_TYPES, LAYER_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, MediaType,
  type OciDescriptor, type OciIndex, type OciManifest } from '../oci.js';
import { parseReference, referenceString, withDefaultTag } from '../reference.js';
import type { ImageStore } from '../store.js';
import { openArchive, type ArchiveSource } from './source.js';

/**
 * `image load`: images from a `docker save` archive (legacy manifest.json,
 * which Docker 25+ still writes beside its OCI layout) or an OCI image layout
 * (index.json + blobs/, as a dir or a tar). Layers already in the store are
 * not read again; every layer is checked against the config's DiffID (and in
 * an OCI layout against its blob digest and size) before it is kept.
 */

export interface LoadedImage {
  id: string;
  /** Familiar `name:tag` strings now pointing at the image. */
  tags: string[];
  /** Tags that pointed at another image before (Docker prints a notice). */
  retagged: { tag: string; previousId: string }[];
}

export interface LoadProgress {
  (event: { kind: 'layer'; index: number; count: number; diffId: string; status: 'exists' | 'loading' | 'loaded' }): void;
}

interface DockerManifestItem {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/** Loads every image of an archive (file path, directory, or stream) into the store. */
export async function loadArchive(store: ImageStore, input: string | Readable, progress?: LoadProgress): Promise<LoadedImage[]> {
  const staging = store.layers.stagingDir();
  try {
    const src = await openArchive(input, join(staging, 'archive.tar'));
    if (src.has('manifest.json')) return await loadDockerArchive(store, src, progress);
    if (src.has('index.json')) return await loadOciLayout(store, src, progress);
    if (src.has('repositories')) {
      throw new UserError(`${src.name} is a docker save archive from before Docker 1.10 (no manifest.json), which tscompose does not read`, 1,
        'Load it into a Docker Engine and `docker save` it again');
    }
    throw new UserError(`${src.name} is neither a docker save archive (no manifest.json) nor an OCI image layout (no index.json)`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (err) {
    throw new UserError(`${what} is not valid JSON (${(err as Error).message})`);
  }
}

async function loadDockerArchive(store: ImageStore, src: ArchiveSource, progress?: LoadProgress): Promise<LoadedImage[]> {
  const items = parseJson<DockerManifestItem[]>(src.readFile('manifest.json'), `${src.name}: manifest.json`);
  if (!Array.isArray(items)) throw new UserError(`${src.name}: manifest.json is not a list of images`);
  const out: LoadedImage[] = [];
  for (const [n, item] of items.entries()) {
    const where = `${src.name}: manifest.json image ${n + 1}`;
    if (typeof item?.Config !== 'string' || !Array.isArray(item.Layers)) throw new UserError(`${where} has no Config or Layers`);
    const configBytes = src.readFile(item.Config);
    const config = validateImageConfig(parseJson(configBytes, `${src.name}: ${item.Config}`), `${src.name}: ${item.Config}`);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== item.Layers.length) {
      throw new UserError(`${where}: invalid manifest, layers length mismatch: ${item.Layers.length} layer files for ${diffIds.length} DiffIDs in the config`);
    }
    await loadLayers(store, diffIds, (i) => ({
      stream: () => src.stream(item.Layers[i]!),
      what: `layer ${i + 1}/${diffIds.length} (${item.Layers[i]}) of ${src.name}`,
    }), progress);
    const tags = (item.RepoTags ?? []).map((t) => {
      const ref = parseReference(t);
      if (ref.tag === undefined || ref.digest !== undefined) throw new UserError(`${where}: invalid tag ${JSON.stringify(t)}`);
      return t;
    });
    const added = await store.addImage(configBytes, { tags });
    out.push({ id: added.image.id, tags: added.image.repoTags.filter((t) => tags.some((x) => sameRef(x, t))), retagged: added.retagged });
  }
  return out;
}

function sameRef(a: string, b: string): boolean {
  return referenceString(withDefaultTag(parseReference(a))) === referenceString(withDefaultTag(parseReference(b)));
}

/** Adds the layers the store lacks, bottom first; each must have the config's DiffID. */
async function loadLayers(
  store: ImageStore,
  diffIds: string[],
  open: (i: number) => { stream: () => Readable; what: string },
  progress?: LoadProgress,
): Promise<void> {
  let parent: string | null = null;
  for (const [i, diffId] of diffIds.entries()) {
    const chainId: string = chainIdOf(parent, diffId);
    if (store.layer(chainId)) {
      progress?.({ kind: 'layer', index: i, count: diffIds.length, diffId, status: 'exists' });
    } else {
      progress?.({ kind: 'layer', index: i, count: diffIds.length, diffId, status: 'loading' });
      const { stream, what } = open(i);
      await store.addLayerFromTar(stream(), { parent, expectDiffId: diffId, what });
      progress?.({ kind: 'layer', index: i, count: diffIds.length, diffId, status: 'loaded' });
    }
    parent = chainId;
  }
}

// ---- OCI image layout --------------------------------------------------------

function blobPath(digest: string): string {
  return `blobs/sha256/${digestHex(digest)}`;
}

/** Reads a small blob and checks its digest and size against the descriptor. */
function readBlob(src: ArchiveSource, desc: OciDescriptor, what: string): Buffer {
  if (!isDigest(desc?.digest)) throw new UserError(`${src.name}: ${what} has no sha256 digest (${JSON.stringify(desc?.digest)})`);
  const bytes = src.readFile(blobPath(desc.digest));
  if (sha256Digest(bytes) !== desc.digest) throw new UserError(`${src.name}: ${what} ${desc.digest} does not match its digest`);
  if (typeof desc.size === 'number' && desc.size !== bytes.length) throw new UserError(`${src.name}: ${what} ${desc.digest} is ${bytes.length} bytes, not ${desc.size}`);
  return bytes;
}

/** Passes a blob through, failing at its end if its digest or size is not the descriptor's. */
function verifying(desc: OciDescriptor, what: string): Transform {
  const hash = createHash('sha256');
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      size += chunk.length;
      if (size > desc.size) return cb(new UserError(`${what} is larger than its declared ${desc.size} bytes`));
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== desc.digest) return cb(new UserError(`${what} does not match its digest ${desc.digest} (got ${got})`));
      if (size !== desc.size) return cb(new UserError(`${what} is ${size} bytes, not the declared ${desc.size}`));
      cb();
    },
  });
}

/** The manifests of an index, nested indexes flattened; for multi-platform ones, this machine's platform. */
function manifestsOf(src: ArchiveSource, index: OciIndex, inherited: Record<string, string>, depth = 0): { desc: OciDescriptor; annotations: Record<string, string> }[] {
  if (depth > 4) throw new UserError(`${src.name}: indexes nested too deep`);
  if (!Array.isArray(index?.manifests)) throw new UserError(`${src.name}: an image index has no manifests list`);
  const out: { desc: OciDescriptor; annotations: Record<string, string> }[] = [];
  const arch = ociArchitecture();
  const candidates = index.manifests.filter((d) => !d.platform || (d.platform.os === 'linux' && d.platform.architecture === arch));
  for (const desc of candidates) {
    const annotations = { ...inherited, ...(desc.annotations ?? {}) };
    const type = desc.mediaType;
    if (INDEX_MEDIA_TYPES.includes(type)) {
      out.push(...manifestsOf(src, parseJson<OciIndex>(readBlob(src, desc, 'index'), `${src.name}: index ${desc.digest}`), annotations, depth + 1));
    } else if (MANIFEST_MEDIA_TYPES.includes(type)) {
      out.push({ desc, annotations });
    } else if (type === MediaType.dockerManifestV1 || type === MediaType.dockerManifestV1Signed) {
      throw new UserError(`${src.name}: ${desc.digest} is a schema 1 manifest, which tscompose does not read`);
    }
    // Anything else (attestations, artifacts) is not an image: skipped.
  }
  return out;
}

/** The tag an index entry names: containerd's full name, or a ref.name that is a full reference (not a bare tag). */
function tagOf(annotations: Record<string, string>): string | undefined {
  for (const candidate of [annotations[ANNOTATION_IMAGE_NAME], annotations[ANNOTATION_REF_NAME]]) {
    if (!candidate || !/[/:]/.test(candidate)) continue;
    try {
      const ref = parseReference(candidate);
      if (ref.digest === undefined) return candidate;
    } catch { /* a ref.name that is not a reference: no tag */ }
  }
  return undefined;
}

async function loadOciLayout(store: ImageStore, src: ArchiveSource, progress?: LoadProgress): Promise<LoadedImage[]> {
  if (src.has('oci-layout')) {
    const layout = parseJson<{ imageLayoutVersion?: string }>(src.readFile('oci-layout'), `${src.name}: oci-layout`);
    if (layout.imageLayoutVersion !== '1.0.0') throw new UserError(`${src.name}: unsupported OCI layout version ${JSON.stringify(layout.imageLayoutVersion)}`);
  }
  const index = parseJson<OciIndex>(src.readFile('index.json'), `${src.name}: index.json`);
  const byId = new Map<string, LoadedImage>();
  for (const { desc, annotations } of manifestsOf(src, index, {})) {
    const manifest = parseJson<OciManifest>(readBlob(src, desc, 'manifest'), `${src.name}: manifest ${desc.digest}`);
    if (!manifest.config || !Array.isArray(manifest.layers)) throw new UserError(`${src.name}: manifest ${desc.digest} has no config or layers`);
    const configBytes = readBlob(src, manifest.config, 'config');
    const config = validateImageConfig(parseJson(configBytes, `${src.name}: config ${manifest.config.digest}`), `${src.name}: config ${manifest.config.digest}`);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) {
      throw new UserError(`${src.name}: manifest ${desc.digest} lists ${manifest.layers.length} layers for ${diffIds.length} DiffIDs in its config`);
    }
    for (const layer of manifest.layers) {
      if (!LAYER_MEDIA_TYPES.includes(layer.mediaType)) throw new UserError(`${src.name}: layer ${layer.digest} has media type ${layer.mediaType}, which is not an image layer`);
      if (!isDigest(layer.digest)) throw new UserError(`${src.name}: a layer of manifest ${desc.digest} has no sha256 digest`);
    }
    await loadLayers(store, diffIds, (i) => {
      const layer = manifest.layers[i]!;
      const what = `layer ${i + 1}/${diffIds.length} (${layer.digest}) of ${src.name}`;
      return {
        stream: () => {
          const raw = src.stream(blobPath(layer.digest));
          const checked = verifying(layer, what);
          raw.on('error', (err) => checked.destroy(err));
          return raw.pipe(checked);
        },
        what,
      };
    }, progress);
    const tag = tagOf(annotations);
    const added = await store.addImage(configBytes, { tags: tag ? [tag] : [] });
    const entry = byId.get(added.image.id) ?? { id: added.image.id, tags: [], retagged: [] };
    if (tag) entry.tags.push(...added.image.repoTags.filter((t) => sameRef(t, tag)));
    entry.retagged.push(...added.retagged);
    byId.set(added.image.id, entry);
  }
  if (byId.size === 0) throw new UserError(`${src.name}: the index lists no image for linux/${ociArchitecture()}`);
  return [...byId.values()];
}
