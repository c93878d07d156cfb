import { createHash } from 'node:crypto';
import { createGzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { UserError } from '../../../util/errors.js';
import {
  MediaType, familiarString, parseReference, referenceString, withDefaultTag,
  type ImageReference, type ImageStore, type OciDescriptor,
} from '../image/index.js';
import { BlobSums, type BlobSum } from './blobsums.js';
import { RepositoryClient } from './client.js';
import type { Credentials } from './credentials.js';
import { ByteProgress, Semaphore, shortDigest, type ProgressFn } from './progress.js';

/**
 * `docker push`: each layer is offered to the registry the cheapest way
 * first — HEAD (it has the blob already), then a cross-repository mount
 * from another repository of the same registry we know has it — and only
 * then compressed (gzip) and uploaded, streamed in one PATCH or sent in
 * chunks. Then the config and a Docker v2 manifest (an OCI one when a
 * layer's known blob has an OCI-only media type), and the repository digest
 * recorded on the image.
 */

export interface PushImageOptions {
  onProgress?: ProgressFn;
  signal?: AbortSignal;
  credentials?: Credentials;
  /** Parallel layer uploads (default 3). */
  concurrency?: number;
  /** Upload in PATCH chunks of this many bytes instead of one streamed PATCH. */
  chunkSize?: number;
}

export type LayerPushAction = 'exists' | 'mounted' | 'pushed';

export interface PushedImage {
  reference: string;
  digest: string;
  /** Bytes of the manifest. */
  size: number;
  mediaType: string;
  layers: { diffId: string; digest: string; action: LayerPushAction; from?: string }[];
}

const UPLOAD_ATTEMPTS = 3;
const OCI_ONLY_LAYER_TYPES = new Set<string>([MediaType.ociLayer, MediaType.ociLayerZstd, MediaType.ociLayerNondistributable]);

export async function pushImage(store: ImageStore, refText: string, opts: PushImageOptions = {}): Promise<PushedImage> {
  const ref = withDefaultTag(parseReference(refText));
  if (ref.digest !== undefined) throw new UserError(`cannot push a digest reference (${refText})`, 1, 'Push a tag: NAME[:TAG]');
  const familiar = familiarString(ref);
  const image = await store.resolve(referenceString(ref));
  if (!image) throw new UserError(`An image does not exist locally with the tag: ${familiarString({ domain: ref.domain, path: ref.path })}`, 1, `Tag it first: tscompose image tag IMAGE ${familiar}`);
  const emit = opts.onProgress;
  const client = new RepositoryClient(ref.domain, ref.path, undefined, { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.credentials ? { credentials: opts.credentials } : {}) });
  emit?.({ status: `The push refers to repository [${familiarString({ domain: ref.domain, path: ref.path })}]` });
  await client.http.ping();

  const diffIds = image.config.rootfs.diff_ids;
  for (const d of diffIds) emit?.({ id: shortDigest(d), status: 'Preparing' });
  const uploads = new Semaphore(opts.concurrency ?? 3);
  const blobSums = new BlobSums();
  const results = await Promise.allSettled(image.chainIds.map(async (chainId, i) => {
    const diffId = diffIds[i]!;
    const release = await uploads.acquire();
    try {
      return await pushLayer(store, client, ref, chainId, diffId, blobSums, opts);
    } finally {
      release();
    }
  }));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const layers = results.map((r) => (r as PromiseFulfilledResult<LayerResult>).value);

  const configBytes = store.configBytes(image.id);
  await client.pushSmallBlob(configBytes);
  const oci = layers.some((l) => OCI_ONLY_LAYER_TYPES.has(l.descriptor.mediaType));
  const manifest = {
    schemaVersion: 2,
    mediaType: oci ? MediaType.ociManifest : MediaType.dockerManifest,
    config: { mediaType: oci ? MediaType.ociConfig : MediaType.dockerConfig, size: configBytes.length, digest: image.id },
    layers: layers.map((l) => ({ ...l.descriptor, mediaType: layerMediaType(l.descriptor.mediaType, oci) })),
  };
  const bytes = Buffer.from(JSON.stringify(manifest, null, 3));
  const digest = await client.putManifest(ref.tag!, bytes, manifest.mediaType);
  await store.addImage(configBytes, { digests: [referenceString({ domain: ref.domain, path: ref.path, digest })] });
  emit?.({ status: `${ref.tag}: digest: ${digest} size: ${bytes.length}` });
  return {
    reference: familiar, digest, size: bytes.length, mediaType: manifest.mediaType,
    layers: layers.map((l, i) => ({ diffId: diffIds[i]!, digest: l.descriptor.digest, action: l.action, ...(l.from ? { from: l.from } : {}) })),
  };
}

/** The same compression under the manifest's naming scheme. */
function layerMediaType(mediaType: string, oci: boolean): string {
  const gzip = mediaType === MediaType.dockerLayerGzip || mediaType === MediaType.ociLayerGzip;
  if (gzip) return oci ? MediaType.ociLayerGzip : MediaType.dockerLayerGzip;
  return mediaType;
}

interface LayerResult {
  descriptor: OciDescriptor;
  action: LayerPushAction;
  from?: string;
}

async function pushLayer(store: ImageStore, client: RepositoryClient, ref: ImageReference, chainId: string, diffId: string, blobSums: BlobSums, opts: PushImageOptions): Promise<LayerResult> {
  const emit = opts.onProgress;
  const id = shortDigest(diffId);
  const known = blobSums.of(diffId).filter((s) => s.registry === ref.domain);
  const descriptor = (s: BlobSum): OciDescriptor => ({ mediaType: s.mediaType, size: s.size, digest: s.digest });
  const record = (s: Omit<BlobSum, 'registry' | 'repository'>) => blobSums.add(diffId, { ...s, registry: ref.domain, repository: ref.path });

  for (const s of known.filter((k) => k.repository === ref.path)) {
    if ((await client.blobSize(s.digest, true)) !== undefined) {
      emit?.({ id, status: 'Layer already exists' });
      return { descriptor: descriptor(s), action: 'exists' };
    }
    await blobSums.remove(diffId, s);
  }
  let location: string | undefined;
  for (const s of known.filter((k) => k.repository !== ref.path)) {
    const start = await client.startUpload({ digest: s.digest, from: s.repository });
    if (start.mounted) {
      emit?.({ id, status: `Mounted from ${familiarString({ domain: ref.domain, path: s.repository })}` });
      await record(s);
      return { descriptor: descriptor(s), action: 'mounted', from: s.repository };
    }
    // The registry would not mount it: the session it opened instead takes the upload.
    location = start.location;
    break;
  }
  for (let attempt = 1; ; attempt++) {
    try {
      const uploaded = await uploadLayer(store, client, chainId, id, location, opts);
      emit?.({ id, status: 'Pushed' });
      const sum = { digest: uploaded.digest, size: uploaded.size, mediaType: MediaType.dockerLayerGzip };
      await record(sum);
      return { descriptor: { mediaType: sum.mediaType, size: sum.size, digest: sum.digest }, action: 'pushed' };
    } catch (err) {
      location = undefined;
      if (attempt >= UPLOAD_ATTEMPTS || opts.signal?.aborted || (err instanceof UserError && !/answered 5\d\d|cannot reach|ECONNRESET|socket/i.test(err.message))) throw err;
      emit?.({ id, status: `Retrying in ${attempt} second${attempt > 1 ? 's' : ''}` });
      await new Promise((r) => setTimeout(r, attempt * 1000));
    }
  }
}

/** Compresses the layer's tar and uploads it, hashing what is sent; returns the blob's digest and size. */
async function uploadLayer(store: ImageStore, client: RepositoryClient, chainId: string, id: string, location: string | undefined, opts: PushImageOptions): Promise<{ digest: string; size: number }> {
  const rec = store.layer(chainId);
  if (!rec) throw new UserError(`layer ${chainId} is missing from the store`, 1, 'Remove the image and pull or load it again');
  let loc: string;
  if (location !== undefined) {
    loc = location;
  } else {
    const start = await client.startUpload();
    if (start.mounted) throw new Error('the registry mounted a blob nobody asked it to');
    loc = start.location;
  }
  const tar = store.layerTar(chainId);
  const progress = new ByteProgress(opts.onProgress, id, 'Pushing', rec.tarSize);
  let read = 0;
  tar.on('data', (c: Buffer) => progress.update((read += c.length)));
  const gzip = createGzip({ chunkSize: 256 * 1024 });
  tar.on('error', (err) => gzip.destroy(err));
  const compressed: Readable = tar.pipe(gzip);
  const hash = createHash('sha256');
  let size = 0;
  try {
    if (opts.chunkSize) {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = async () => {
        const body = Buffer.concat(pending);
        loc = await client.patchUpload(loc, body, { start: size - body.length, end: size - 1 });
        pending = [];
        pendingBytes = 0;
      };
      for await (const chunk of compressed as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.length;
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= opts.chunkSize) await flush();
      }
      if (pendingBytes) await flush();
    } else {
      async function* counted(): AsyncGenerator<Uint8Array> {
        for await (const chunk of compressed as AsyncIterable<Buffer>) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      }
      loc = await client.patchUpload(loc, counted);
    }
  } finally {
    tar.destroy();
    gzip.destroy();
  }
  const digest = `sha256:${hash.digest('hex')}`;
  await client.finishUpload(loc, digest);
  return { digest, size };
}
