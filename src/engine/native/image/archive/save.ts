import { pipeline } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import { UserError, NotFoundError } from '../../../../util/errors.js';
import { digestHex, sha256Digest, ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, MediaType, type OciDescriptor, type OciIndex, type OciManifest } from '../oci.js';
import { familiarName, familiarString, parseReference, referenceString, repositoryName, withDefaultTag } from '../reference.js';
import type { ImageRecord, ImageStore } from '../store.js';
import { tar } from '../tarlib.js';
import { byCodeUnits } from '../../../../util/order.js';

/**
 * `image save`: an archive in the form Docker 25+ writes, which both old and
 * new `docker load` accept: an OCI image layout (oci-layout, index.json,
 * blobs/sha256/: configs, OCI manifests, uncompressed layer tars named by
 * DiffID) plus the legacy manifest.json and repositories pointing into the
 * same blobs. Each layer blob is the layer's original tar, rebuilt from its
 * recipe and checked against its DiffID as it is written. Metadata files come
 * first so that a streaming reader finds them before the blobs.
 */

interface Selected {
  image: ImageRecord;
  /** Full tagged references to record for this image (none when named by id or digest). */
  tags: string[];
}

/** Docker's rules for which images and tags an argument selects. */
export async function selectImages(store: ImageStore, refs: string[]): Promise<Selected[]> {
  const byId = new Map<string, Selected>();
  const add = (image: ImageRecord, tag?: string) => {
    const s = byId.get(image.id) ?? { image, tags: [] };
    if (tag && !s.tags.includes(tag)) s.tags.push(tag);
    byId.set(image.id, s);
  };
  const all = await store.list();
  for (const ref of refs) {
    let parsed;
    try {
      parsed = parseReference(ref);
    } catch {
      parsed = undefined;
    }
    if (parsed && parsed.tag === undefined && parsed.digest === undefined) {
      // A bare name saves every tag of that repository.
      const repo = repositoryName(parsed);
      let found = false;
      for (const image of all) {
        for (const t of image.repoTags) {
          const full = referenceString(withDefaultTag(parseReference(t)));
          if (repositoryName(parseReference(full)) === repo) {
            add(image, full);
            found = true;
          }
        }
      }
      if (found) continue;
    }
    const image = await store.resolve(ref);
    if (!image) throw new NotFoundError('image', ref);
    const named = parsed && parsed.digest === undefined && image.repoTags.some((t) => referenceString(withDefaultTag(parseReference(t))) === referenceString(withDefaultTag(parsed)));
    add(image, named ? referenceString(withDefaultTag(parsed!)) : undefined);
  }
  return [...byId.values()];
}

interface PlannedFile {
  name: string;
  size: number;
  mtime: Date;
  content: Buffer | (() => Readable);
}

const EPOCH = new Date(0);

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** What goes into the archive, in order. */
export function planArchive(store: ImageStore, selected: Selected[]): PlannedFile[] {
  const meta: PlannedFile[] = [];
  const blobs = new Map<string, PlannedFile>();
  const legacy: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const index: OciIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };

  for (const { image, tags } of selected) {
    const created = new Date(image.created);
    const mtime = Number.isNaN(created.getTime()) ? EPOCH : created;
    const layers: OciDescriptor[] = [];
    for (const chainId of image.chainIds) {
      const rec = store.layer(chainId);
      if (!rec) throw new UserError(`image ${image.id} is missing its layer ${chainId}`, 1, 'Remove the image and load it again');
      layers.push({ mediaType: MediaType.ociLayer, digest: rec.diffId, size: rec.tarSize });
      if (!blobs.has(rec.diffId)) {
        blobs.set(rec.diffId, { name: `blobs/sha256/${digestHex(rec.diffId)}`, size: rec.tarSize, mtime, content: () => store.layerTar(chainId) });
      }
    }
    const configBytes = store.configBytes(image.id);
    blobs.set(image.id, { name: `blobs/sha256/${digestHex(image.id)}`, size: configBytes.length, mtime, content: configBytes });
    const platform = { architecture: image.config.architecture, os: image.config.os, ...(image.config.variant ? { variant: image.config.variant } : {}) };
    const manifest: OciManifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: image.id, size: configBytes.length },
      layers,
    };
    const manifestBytes = json(manifest);
    const manifestDigest = sha256Digest(manifestBytes);
    blobs.set(manifestDigest, { name: `blobs/sha256/${digestHex(manifestDigest)}`, size: manifestBytes.length, mtime: EPOCH, content: manifestBytes });
    const desc = { mediaType: MediaType.ociManifest, digest: manifestDigest, size: manifestBytes.length, platform };
    if (tags.length === 0) index.manifests.push(desc);
    for (const full of tags) {
      const ref = parseReference(full);
      index.manifests.push({ ...desc, annotations: { [ANNOTATION_IMAGE_NAME]: full, [ANNOTATION_REF_NAME]: ref.tag! } });
      const top = image.config.rootfs.diff_ids.at(-1);
      if (top) (repositories[familiarName(ref)] ??= {})[ref.tag!] = digestHex(top);
    }
    legacy.push({
      Config: `blobs/sha256/${digestHex(image.id)}`,
      RepoTags: tags.length ? tags.map((t) => familiarString(parseReference(t))) : null,
      Layers: layers.map((l) => `blobs/sha256/${digestHex(l.digest)}`),
    });
  }
  const file = (name: string, content: Buffer): PlannedFile => ({ name, size: content.length, mtime: EPOCH, content });
  meta.push(file('oci-layout', json({ imageLayoutVersion: '1.0.0' })));
  meta.push(file('index.json', json(index)));
  meta.push(file('manifest.json', Buffer.from(JSON.stringify(legacy) + '\n')));
  if (Object.keys(repositories).length) meta.push(file('repositories', Buffer.from(JSON.stringify(repositories) + '\n')));
  return [...meta, ...[...blobs.values()].sort((a, b) => byCodeUnits(a.name, b.name))];
}

/** Writes the archive of `refs` to `out`; rejects (and stops writing) on the first error. */
export async function saveImages(store: ImageStore, refs: string[], out: Writable): Promise<void> {
  if (refs.length === 0) throw new UserError('image save needs at least one image');
  const files = planArchive(store, await selectImages(store, refs));
  const pack = tar.pack();
  const written = pipeline(pack as unknown as Readable, out);
  written.catch(() => { /* reported below */ });
  try {
    for (const dir of ['blobs/', 'blobs/sha256/']) {
      await new Promise<void>((resolve, reject) => pack.entry({ name: dir, type: 'directory', mode: 0o755, mtime: EPOCH }, (err) => (err ? reject(err) : resolve())));
    }
    for (const f of files) {
      const header = { name: f.name, size: f.size, mode: 0o644, mtime: f.mtime, uid: 0, gid: 0 };
      if (Buffer.isBuffer(f.content)) {
        const bytes = f.content;
        await new Promise<void>((resolve, reject) => pack.entry(header, bytes, (err) => (err ? reject(err) : resolve())));
      } else {
        const open = f.content;
        await new Promise<void>((resolve, reject) => {
          const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
          const src = open();
          src.on('error', (err) => {
            sink.destroy(err);
            reject(err);
          });
          src.pipe(sink as unknown as Writable);
        });
      }
    }
    pack.finalize();
    await written;
  } catch (err) {
    pack.destroy(err as Error);
    out.destroy(err as Error);
    throw err;
  }
}
