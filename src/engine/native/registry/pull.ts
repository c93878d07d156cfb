import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../../../util/errors.js';
import {
  chainIds, familiarString, parseReference, referenceString, validateImageConfig, withDefaultTag,
  type ImageRecord, type ImageStore, type ImageReference, type OciDescriptor, type OciImage, type OciManifest,
} from '../image/index.js';
import { BlobSums } from './blobsums.js';
import { RepositoryClient } from './client.js';
import { networkCause } from './http.js';
import type { Credentials } from './credentials.js';
import { parseManifestDocument, parsePlatform, platformString, selectPlatform } from './manifest.js';
import { ByteProgress, Deferred, Semaphore, shortDigest, type ProgressFn } from './progress.js';
import { DigestVerifier } from './verify.js';

/**
 * `docker pull`: manifest (through a manifest list or OCI index for this
 * platform), config, then the layers the store lacks, downloaded in parallel
 * and unpacked in stack order. Every byte is checked: manifests and config
 * against their digests, each blob against its digest and size while it
 * streams, each layer's uncompressed tar against the config's DiffID.
 * Layers already in the store (by chain id) are never fetched again; an
 * image already here by its repository digest costs one HEAD request.
 */

export interface PullImageOptions {
  /** OS/ARCH[/VARIANT]; this host's by default. */
  platform?: string;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
  /** Instead of the credentials in ~/.docker/config.json. */
  credentials?: Credentials;
  /** Parallel layer downloads (default 3, Docker's). */
  concurrency?: number;
}

export interface PulledImage {
  image: ImageRecord;
  /** The reference as the user wrote it, normalized the familiar way (`busybox:latest`). */
  reference: string;
  /** The manifest's digest (the repository digest). */
  digest: string;
  /** True when the store already had the image under that reference. */
  upToDate: boolean;
  /** Layers downloaded, and layers found in the store. */
  fetched: number;
  reused: number;
}

const MAX_INDEX_DEPTH = 2;
/** Tries of one layer whose connection breaks mid-download. */
const LAYER_ATTEMPTS = 3;

export async function pullImage(store: ImageStore, refText: string, opts: PullImageOptions = {}): Promise<PulledImage> {
  const ref = withDefaultTag(parseReference(refText));
  const familiar = familiarString(ref);
  const wanted = parsePlatform(opts.platform);
  const emit = opts.onProgress;
  // Aborted by the caller, or by the pull itself when a layer fails (the other downloads stop).
  const abort = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, abort.signal]) : abort.signal;
  const client = new RepositoryClient(ref.domain, ref.path, undefined, { signal, ...(opts.credentials ? { credentials: opts.credentials } : {}) });
  const reference = ref.digest ?? ref.tag!;
  emit?.({ id: reference, status: `Pulling from ${ref.path}` });

  // Known by its repository digest already: one HEAD, no manifest download.
  const headDigest = ref.digest ?? (await client.manifestDigest(reference).catch(() => undefined));
  if (headDigest) {
    const known = await store.resolve(referenceString({ domain: ref.domain, path: ref.path, digest: headDigest }));
    if (known && known.config.architecture === wanted.architecture) {
      const upToDate = ref.tag === undefined || known.repoTags.includes(familiar);
      const { image } = await store.addImage(store.configBytes(known.id), { tags: ref.tag !== undefined ? [referenceString(ref)] : [] });
      finish(emit, headDigest, familiar, upToDate);
      return { image, reference: familiar, digest: headDigest, upToDate, fetched: 0, reused: image.chainIds.length };
    }
  }

  const { manifest, digest } = await resolveManifest(client, reference, wanted, familiar);
  const existing = await store.resolve(manifest.config.digest);
  if (existing) {
    const upToDate = ref.tag === undefined || existing.repoTags.includes(familiar);
    const image = await record(store, existing.id, store.configBytes(existing.id), ref, digest);
    finish(emit, digest, familiar, upToDate);
    return { image, reference: familiar, digest, upToDate, fetched: 0, reused: image.chainIds.length };
  }

  const configBytes = await client.getBlobBytes(manifest.config.digest);
  const config = checkConfig(configBytes, manifest, familiar);
  if (config.architecture && config.architecture !== wanted.architecture) {
    const got = platformString({ os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) });
    emit?.({ status: `WARNING: The requested image's platform (${got}) does not match the wanted platform (${platformString(wanted)})` });
  }
  const counts = await pullLayers(store, client, manifest, config, ref, opts, abort);
  const image = await record(store, manifest.config.digest, configBytes, ref, digest);
  finish(emit, digest, familiar, false);
  return { image, reference: familiar, digest, upToDate: false, ...counts };
}

function finish(emit: ProgressFn | undefined, digest: string, familiar: string, upToDate: boolean): void {
  emit?.({ status: `Digest: ${digest}` });
  emit?.({ status: upToDate ? `Status: Image is up to date for ${familiar}` : `Status: Downloaded newer image for ${familiar}` });
}

async function record(store: ImageStore, id: string, configBytes: Buffer, ref: ImageReference, digest: string): Promise<ImageRecord> {
  const { image } = await store.addImage(configBytes, {
    tags: ref.tag !== undefined ? [referenceString(ref)] : [],
    digests: [referenceString({ domain: ref.domain, path: ref.path, digest })],
  });
  if (image.id !== id) throw new Error(`stored config ${image.id} is not ${id}`);
  return image;
}

/** The image manifest for the platform: through an index (or two) when the reference names one. */
async function resolveManifest(client: RepositoryClient, reference: string, wanted: ReturnType<typeof parsePlatform>, familiar: string): Promise<{ manifest: OciManifest; digest: string }> {
  let fetched = await client.getManifest(reference);
  let doc = parseManifestDocument(fetched.bytes, fetched.contentType, familiar);
  const repoDigest = fetched.digest;
  for (let depth = 0; doc.kind === 'index'; depth++) {
    if (depth >= MAX_INDEX_DEPTH) throw new UserError(`${familiar}: image indexes nest deeper than ${MAX_INDEX_DEPTH} levels`);
    const chosen = selectPlatform(doc.index, wanted, familiar);
    fetched = await client.getManifest(chosen.digest);
    if (fetched.bytes.length !== chosen.size) {
      throw new UserError(`the manifest ${chosen.digest} of ${familiar} has ${fetched.bytes.length} bytes, its index entry says ${chosen.size}: refused`);
    }
    doc = parseManifestDocument(fetched.bytes, fetched.contentType, `${familiar} (${platformString(chosen.platform)})`);
  }
  // The repository digest is the one the reference resolved to (the index's, for a multi-platform image), as Docker records it.
  return { manifest: doc.manifest, digest: repoDigest };
}

function checkConfig(bytes: Buffer, manifest: OciManifest, familiar: string): OciImage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new UserError(`the image config ${manifest.config.digest} of ${familiar} is not valid JSON`);
  }
  let config: OciImage;
  try {
    config = validateImageConfig(parsed, `the image config of ${familiar}`);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new UserError(`${familiar}: the manifest lists ${manifest.layers.length} layers but the config ${config.rootfs.diff_ids.length} DiffIDs`, 1, 'The image in the registry is broken: push it again');
  }
  return config;
}

/** Downloads (in parallel) and unpacks (in stack order) the layers the store lacks. */
async function pullLayers(store: ImageStore, client: RepositoryClient, manifest: OciManifest, config: OciImage, ref: ImageReference, opts: PullImageOptions,
  abort: AbortController): Promise<{ fetched: number; reused: number }> {
  const emit = opts.onProgress;
  const diffIds = config.rootfs.diff_ids;
  const chains = chainIds(diffIds);
  const committed = chains.map(() => new Deferred<void>());
  const downloads = new Semaphore(opts.concurrency ?? 3);
  const blobSums = new BlobSums();
  let fetched = 0;
  let reused = 0;
  for (const [i, d] of manifest.layers.entries()) {
    if (store.layer(chains[i]!)) continue;
    emit?.({ id: shortDigest(d.digest), status: 'Pulling fs layer' });
  }
  let firstError: unknown;
  const task = async (i: number): Promise<void> => {
    const desc = manifest.layers[i]!;
    const id = shortDigest(desc.digest);
    if (store.layer(chains[i]!)) {
      reused++;
      emit?.({ id, status: 'Already exists' });
      return;
    }
    for (let attempt = 1; ; attempt++) {
      const transient: { error?: unknown } = {};
      try {
        await fetchLayer(i, transient);
        return;
      } catch (err) {
        // A connection that broke mid-blob (not a wrong blob) is worth another try; nothing of the first was kept.
        if (!transient.error || attempt >= LAYER_ATTEMPTS || abort.signal.aborted) throw err;
        emit?.({ id, status: `Retrying (${networkCause(transient.error)})` });
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  };
  const fetchLayer = async (i: number, transient: { error?: unknown }): Promise<void> => {
    const desc = manifest.layers[i]!;
    const id = shortDigest(desc.digest);
    const parent = i === 0 ? null : chains[i - 1]!;
    const what = `layer ${desc.digest} of ${familiarString(ref)}`;
    const release = await downloads.acquire();
    let spool: string | undefined;
    try {
      const { stream } = await client.getBlob(desc.digest);
      stream.on('error', (err) => { transient.error ??= err; });
      const bytes = new ByteProgress(emit, id, 'Downloading', desc.size);
      const verifier = new DigestVerifier(desc.digest, desc.size, what, (n) => bytes.update(n));
      const parentReady = i === 0 || committed[i - 1]!.settled;
      let source: Readable | string;
      if (parentReady) {
        // Its parent is in place: unpack while it downloads.
        if (i > 0) await committed[i - 1]!.promise;
        stream.on('error', (err) => verifier.destroy(err));
        source = stream.pipe(verifier);
      } else {
        spool = store.layers.stagingDir();
        const file = join(spool, 'blob');
        await pipeline(stream, verifier, createWriteStream(file, { mode: 0o600 }));
        emit?.({ id, status: 'Download complete' });
        release();
        emit?.({ id, status: 'Waiting' });
        await committed[i - 1]!.promise;
        source = file;
      }
      emit?.({ id, status: 'Extracting' });
      try {
        await store.addLayerFromTar(typeof source === 'string' ? createReadStream(source) : source, { parent, expectDiffId: diffIds[i]!, what });
      } finally {
        stream.destroy();
      }
      fetched++;
      emit?.({ id, status: 'Pull complete' });
      await blobSums.add(diffIds[i]!, { digest: desc.digest, size: desc.size, mediaType: desc.mediaType, registry: ref.domain, repository: ref.path });
    } finally {
      release();
      if (spool) rmSync(spool, { recursive: true, force: true });
    }
  };
  await Promise.allSettled(chains.map((_, i) => task(i).then(() => committed[i]!.resolve(), (err: unknown) => {
    // The first failure is the one to report; it stops the other downloads.
    if (firstError === undefined && !abort.signal.aborted) {
      firstError = err;
      abort.abort();
    }
    committed[i]!.reject(err);
  })));
  if (firstError !== undefined) throw firstError;
  return { fetched, reused };
}

export type { OciDescriptor };
