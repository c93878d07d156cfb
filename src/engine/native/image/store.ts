import { chmodSync, existsSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ensurePrivateDir, statePath } from '../../../util/paths.js';
import { writeFileAtomic, writeJsonAtomic } from '../../../util/atomic.js';
import { withLock } from '../../../util/lock.js';
import { ConflictError, NotFoundError } from '../../../util/errors.js';
import { StorePaths } from './layout.js';
import { LayerHolds, collectGarbage, liveLayers, sweepDeadStaging, type GcReport } from './retention.js';
import { LayerStore, type AddLayerOptions, type AddedLayer, type LayerRecord } from './layers.js';
import { RootfsManager, type RootfsLayout } from './rootfs.js';
import { chainIds, sha256Digest, validateImageConfig, type OciImage } from './oci.js';
import {
  readRepositories, readStoredImage, refsOf, storedImageIds, writeRepositories,
  type ImageRecord, type Repositories, type StoredImage,
} from './records.js';
import { familiarize, normalizeTaggedName, parseReference, referenceString, withDefaultTag } from './reference.js';
import { imageRecord, lookupImage, resolveImageId, resolveImageName } from './lookup.js';
import { byCodeUnits } from '../../../util/order.js';

export type { ImageRecord } from './records.js';
export type { RootfsLayout } from './rootfs.js';
export type { LayerRecord, AddedLayer, AddLayerOptions } from './layers.js';

/** What `remove` and `prune` did, in the order Docker reports it. */
export interface DeleteReport {
  untagged: string[];
  deleted: string[];
  reclaimedBytes: number;
}

export interface AddImageOptions {
  /** NAME[:TAG] references to point at the image (moved from any other image). */
  tags?: string[];
  /** NAME@DIGEST references (a registry manifest digest). */
  digests?: string[];
}

export interface AddedImage {
  image: ImageRecord;
  /** Tags that pointed at another image before, as `docker load` reports them. */
  retagged: { tag: string; previousId: string }[];
}

const LOCK_TIMEOUT_MS = 10 * 60_000;

interface PendingPrepare {
  containerId: string;
  imageRef: string;
  resolve: (layout: RootfsLayout) => void;
  reject: (err: unknown) => void;
}

/**
 * The native engine's image store: content-addressed, one unpacked dir per
 * layer stack, images as OCI configs, Docker's tag normalization, container
 * root filesystems on overlayfs. Every mutation of shared state happens under
 * one inter-process lock; unpacking (the slow part) does not hold it.
 */
export class ImageStore {
  readonly paths: StorePaths;
  readonly layers: LayerStore;
  private readonly rootfs: RootfsManager;
  private readonly holds: LayerHolds;
  /** prepareRootfs calls waiting for the next batch (see preparePending). */
  private readonly prepares: PendingPrepare[] = [];
  private preparing = false;

  private constructor(readonly root: string) {
    this.paths = new StorePaths(root);
    this.layers = new LayerStore(this.paths, (fn) => this.locked(fn));
    this.rootfs = new RootfsManager(this.paths, this.layers);
    this.holds = new LayerHolds(this.paths);
  }

  static async open(root: string = statePath('image')): Promise<ImageStore> {
    const store = new ImageStore(root);
    for (const dir of store.paths.all) ensurePrivateDir(dir);
    chmodSync(root, 0o700);
    chmodSync(store.paths.empty, 0o755);
    sweepDeadStaging(store.paths);
    return store;
  }

  /** Runs `fn` holding the store lock (inter-process). */
  locked<T>(fn: () => Promise<T> | T): Promise<T> {
    return withLock(this.paths.lock, fn, LOCK_TIMEOUT_MS);
  }

  // ---- lookup -------------------------------------------------------------

  /**
   * Finds an image by name[:tag] or name@digest (Docker's normalization), by
   * `sha256:<id>`, or by a unique prefix of its id.
   */
  async resolve(ref: string): Promise<ImageRecord | undefined> {
    return lookupImage(this.paths, ref);
  }

  async get(ref: string): Promise<ImageRecord> {
    const img = await this.resolve(ref);
    if (!img) throw new NotFoundError('image', ref);
    return img;
  }

  private resolveId(ref: string, repos: Repositories): string | undefined {
    return resolveImageId(this.paths, ref, repos);
  }

  /** True when `ref` names the image through a tag or digest reference (not by id). */
  private isNameRef(ref: string, repos: Repositories): boolean {
    return resolveImageName(this.paths, ref, repos) !== undefined;
  }

  private record(id: string, repos: Repositories): ImageRecord | undefined {
    return imageRecord(this.paths, id, repos);
  }

  async list(): Promise<ImageRecord[]> {
    const repos = readRepositories(this.paths);
    const out: ImageRecord[] = [];
    for (const id of storedImageIds(this.paths)) {
      const r = this.record(id, repos);
      if (r) out.push(r);
    }
    return out.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : byCodeUnits(a.id, b.id)));
  }

  /** The stored record (added time, last tag time), for inspect's Metadata. */
  storedImage(id: string): StoredImage | undefined {
    return readStoredImage(this.paths, id);
  }

  /** The config exactly as stored (its sha256 is the image id). */
  configBytes(id: string): Buffer {
    return readFileSync(this.paths.blob(id));
  }

  // ---- adding ---------------------------------------------------------------

  /**
   * Unpacks a layer tar (stream or file path; gzip or plain) on top of
   * `opts.parent` and returns its record (diffId, chainId, sizes). The layer
   * is kept from gc for this process's lifetime or until an image uses it.
   */
  async addLayerFromTar(source: Readable | string, opts: AddLayerOptions = {}): Promise<AddedLayer> {
    return this.layers.add(source, opts, (chainId) => this.holds.hold(chainId));
  }

  layer(chainId: string): LayerRecord | undefined {
    return this.layers.get(chainId);
  }

  /** The layer's tar as it was added (the DiffID's bytes), for save, push and commit. */
  layerTar(chainId: string): Readable {
    return this.layers.tarStream(chainId);
  }

  /**
   * Stores an image config (exact bytes, or an object to serialize) whose
   * layers are all in the store, and points `tags` at it.
   */
  async addImage(config: OciImage | Uint8Array, opts: AddImageOptions = {}): Promise<AddedImage> {
    const bytes = config instanceof Uint8Array ? Buffer.from(config) : Buffer.from(JSON.stringify(config));
    const parsed = validateImageConfig(config instanceof Uint8Array ? JSON.parse(bytes.toString('utf8')) : config, 'image config');
    const id = sha256Digest(bytes);
    const chains = chainIds(parsed.rootfs.diff_ids);
    const tags = (opts.tags ?? []).map(normalizeTaggedName);
    const digests = (opts.digests ?? []).map((d) => referenceString(parseReference(d)));
    return this.locked(() => {
      let size = 0;
      for (const c of chains) {
        const rec = this.layers.get(c);
        if (!rec) throw new Error(`cannot add image ${id}: its layer ${c} is not in the store`);
        size += rec.size;
      }
      if (!existsSync(this.paths.blob(id))) writeFileAtomic(this.paths.blob(id), bytes);
      const now = new Date().toISOString();
      const known = readStoredImage(this.paths, id);
      const stored: StoredImage = known ?? { id, chainIds: chains, size, added: now };
      if (tags.length) stored.lastTagTime = now;
      // A record already stored and not tagged now is unchanged: an untagged image added again (a
      // build's stage images on a rebuild) writes nothing; a tagged one records its tag time, as docker's.
      if (!known || tags.length) writeJsonAtomic(this.paths.image(id), stored);
      const repos = readRepositories(this.paths);
      const retagged: AddedImage['retagged'] = [];
      let moved = false;
      for (const t of tags) {
        const prev = repos.tags[t];
        if (prev !== undefined && prev !== id) retagged.push({ tag: familiarize(t), previousId: prev });
        moved ||= prev !== id;
        repos.tags[t] = id;
      }
      for (const d of digests) {
        moved ||= repos.digests[d] !== id;
        repos.digests[d] = id;
      }
      // Tags and digests that already name this image leave the file as it is (a no-op rebuild's tag).
      if (moved) writeRepositories(this.paths, repos);
      this.holds.release(chains);
      return { image: this.record(id, repos)!, retagged };
    });
  }

  // ---- tags -----------------------------------------------------------------

  async tag(source: string, target: string): Promise<void> {
    const full = normalizeTaggedName(target);
    await this.locked(() => {
      const repos = readRepositories(this.paths);
      const id = this.resolveId(source, repos);
      if (id === undefined) throw new NotFoundError('image', source);
      repos.tags[full] = id;
      writeRepositories(this.paths, repos);
      const stored = readStoredImage(this.paths, id);
      if (stored) writeJsonAtomic(this.paths.image(id), { ...stored, lastTagTime: new Date().toISOString() });
    });
  }

  /** Removes one tag or digest reference; returns it in familiar form. */
  async untag(ref: string): Promise<string> {
    const parsed = withDefaultTag(parseReference(ref));
    const full = referenceString(parsed);
    return this.locked(() => {
      const repos = readRepositories(this.paths);
      const table = parsed.digest !== undefined ? repos.digests : repos.tags;
      if (table[full] === undefined) throw new NotFoundError('image', ref);
      delete table[full];
      writeRepositories(this.paths, repos);
      return familiarize(full);
    });
  }

  // ---- removal and gc ---------------------------------------------------------

  /** Ids of the containers whose root filesystem uses the image. */
  containersUsing(imageId: string): string[] {
    return this.rootfs.all().filter((l) => l.imageId === imageId).map((l) => l.containerId);
  }

  /**
   * `docker rmi` semantics: by name, untags that reference and deletes the
   * image once no reference is left; by id, deletes the image (refused when
   * other names still point at it, unless forced). Refused while a container
   * uses the image, unless forced (the container keeps its layers anyway).
   */
  async remove(ref: string, opts: { force?: boolean } = {}): Promise<DeleteReport> {
    return this.locked(() => {
      const report: DeleteReport = { untagged: [], deleted: [], reclaimedBytes: 0 };
      const repos = readRepositories(this.paths);
      const id = this.resolveId(ref, repos);
      if (id === undefined) throw new NotFoundError('image', ref);
      const short = id.slice(7, 19);
      const users = this.containersUsing(id);
      let refs = refsOf(repos, id);
      if (this.isNameRef(ref, repos)) {
        const full = referenceString(withDefaultTag(parseReference(ref)));
        // Removing a repository's last tag takes its digest references along, as Docker does.
        const lastTag = refs.tags.length === 1 && refs.tags[0] === full;
        const dropping = lastTag ? [full, ...refs.digests] : [full];
        const leftAfter = refs.tags.length + refs.digests.length - dropping.length;
        if (leftAfter === 0 && users.length && !opts.force) {
          throw new ConflictError(`conflict: unable to remove repository reference "${ref}" (must force) - container ${users[0]!.slice(0, 12)} is using its referenced image ${short}`);
        }
        for (const r of dropping) this.dropRef(repos, r, report);
        writeRepositories(this.paths, repos);
        refs = refsOf(repos, id);
        if (refs.tags.length + refs.digests.length > 0) return report;
      } else {
        if (refs.tags.length + refs.digests.length > 1 && !opts.force) {
          throw new ConflictError(`conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`);
        }
        if (users.length && !opts.force) {
          throw new ConflictError(`conflict: unable to delete ${short} (must be forced) - image is being used by container ${users[0]!.slice(0, 12)}`);
        }
        for (const r of [...refs.tags, ...refs.digests]) this.dropRef(repos, r, report);
        writeRepositories(this.paths, repos);
      }
      this.deleteImageLocked(id, report);
      return report;
    });
  }

  private dropRef(repos: Repositories, full: string, report: DeleteReport): void {
    if (repos.tags[full] !== undefined) delete repos.tags[full];
    else if (repos.digests[full] !== undefined) delete repos.digests[full];
    else return;
    report.untagged.push(familiarize(full));
  }

  /** Deletes the record, the config blob and the layers nothing else keeps. */
  private deleteImageLocked(id: string, report: DeleteReport): void {
    const stored = readStoredImage(this.paths, id);
    unlinkSync(this.paths.image(id));
    rmSync(this.paths.blob(id), { force: true });
    report.deleted.push(id);
    const live = liveLayers(this.paths, this.rootfs);
    for (const chainId of [...(stored?.chainIds ?? [])].reverse()) {
      if (live.has(chainId) || !this.layers.get(chainId)) continue;
      report.reclaimedBytes += this.layers.removeLocked(chainId);
      report.deleted.push(chainId);
    }
  }

  /** Deletes dangling images (all unused ones with `all`) that no container uses, then gc. */
  async prune(opts: { all?: boolean } = {}): Promise<DeleteReport> {
    const report = await this.locked(() => {
      const report: DeleteReport = { untagged: [], deleted: [], reclaimedBytes: 0 };
      const repos = readRepositories(this.paths);
      const used = new Set(this.rootfs.all().map((l) => l.imageId));
      for (const id of storedImageIds(this.paths)) {
        const refs = refsOf(repos, id);
        const dangling = refs.tags.length === 0;
        if (used.has(id) || !(dangling || opts.all)) continue;
        for (const r of [...refs.tags, ...refs.digests]) this.dropRef(repos, r, report);
        writeRepositories(this.paths, repos);
        this.deleteImageLocked(id, report);
      }
      return report;
    });
    const swept = await this.gc();
    report.reclaimedBytes += swept.bytes;
    return report;
  }

  /** Layers, blobs, links and staging dirs that nothing refers to. */
  async gc(): Promise<GcReport> {
    return this.locked(() => collectGarbage(this.paths, this.layers, this.rootfs));
  }

  // ---- container root filesystems ------------------------------------------------

  /**
   * Records that the container uses the image (rm refuses, gc keeps its
   * layers), creates its upper/work/merged dirs and returns the overlay
   * layout. Idempotent for the same image.
   */
  async prepareRootfs(containerId: string, imageRef: string): Promise<RootfsLayout> {
    return new Promise((resolve, reject) => {
      this.prepares.push({ containerId, imageRef, resolve, reject });
      if (!this.preparing) void this.preparePending();
    });
  }

  /**
   * The prepares asked for while the last batch held the lock go in together: one taking of the
   * store lock and one set of syncs for all of them (the creates of an `up`), as a group commit.
   */
  private async preparePending(): Promise<void> {
    this.preparing = true;
    try {
      await new Promise<void>((resolve) => setImmediate(resolve)); // the prepares asked for in this turn too
      while (this.prepares.length > 0) {
        const batch = this.prepares.splice(0);
        try {
          await this.locked(async () => {
            const items: Array<{ containerId: string; image: ImageRecord }> = [];
            const asked: PendingPrepare[] = [];
            for (const p of batch) {
              try {
                items.push({ containerId: p.containerId, image: await this.get(p.imageRef) });
                asked.push(p);
              } catch (err) {
                p.reject(err);
              }
            }
            const layouts = await this.rootfs.prepareManyLocked(items);
            layouts.forEach((l, i) => (l instanceof Error ? asked[i]!.reject(l) : asked[i]!.resolve(l)));
          });
        } catch (err) {
          for (const p of batch) p.reject(err); // the lock itself failed; settled ones stay settled
        }
      }
    } finally {
      this.preparing = false;
    }
  }

  async rootfsLayout(containerId: string): Promise<RootfsLayout | undefined> {
    return this.rootfs.read(containerId);
  }

  /** Mounts the overlay at the layout's mergedDir (host mount namespace); mounted already is fine. */
  async mountRootfs(containerId: string): Promise<string> {
    return this.rootfs.mount(containerId);
  }

  /** Unmounts it if mounted (per /proc/self/mountinfo); unknown or unmounted is fine. */
  async unmountRootfs(containerId: string): Promise<void> {
    return this.rootfs.unmount(containerId);
  }

  /** Unmounts, deletes the container's rw dirs and drops its image reference. Idempotent. */
  async releaseRootfs(containerId: string): Promise<void> {
    const staging = await this.locked(() => this.rootfs.releaseLocked(containerId));
    // Off the lock and the event loop: the removals of many containers go on side by side.
    if (staging) await rm(staging, { recursive: true, force: true });
  }
}
