import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mountPointsAmong } from '../../../util/mountinfo.js';
import { join, relative } from 'node:path';
import { readJsonIfExists, writeFilesAtomic } from '../../../util/atomic.js';
import { processStartTime, withLock } from '../../../util/lock.js';
import { runOk } from '../../../util/proc.js';
import { ConflictError, NotFoundError, UserError } from '../../../util/errors.js';
import type { StorePaths } from './layout.js';
import type { LayerStore } from './layers.js';
import type { ImageRecord } from './records.js';

/**
 * Container root filesystems: an overlay of the image's layers (read-only,
 * shared) under a per-container upper and work dir. The layout record is
 * written before anything else and removed last, and it is what keeps the
 * image's layers alive (gc) and an image from being removed (rm), so a crash
 * at any point leaves a state that prepare or release converges from. Whether
 * the overlay is mounted is never recorded: it is read from
 * /proc/self/mountinfo, so mount and unmount are right after any crash.
 */

export interface RootfsLayout {
  containerId: string;
  imageId: string;
  /** The image's layer stack, bottom first. */
  chainIds: string[];
  /** Absolute paths of the read-only layers, topmost first (overlay's lowerdir order). */
  lowerDirs: string[];
  upperDir: string;
  workDir: string;
  mergedDir: string;
  /**
   * The overlay mount options. Its paths are relative to `mountCwd` (short
   * links under l/, as Docker's overlay2), so that 128 layers fit in the one
   * page the kernel takes: mount with the working directory set to mountCwd.
   */
  mountData: string;
  mountCwd: string;
}

const LAYOUT_FILE = 'layout.json';
const MOUNT_LOCK = '.mount.lock';
const PAGE_SIZE = 4096;
const CONTAINER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function checkContainerId(id: string): void {
  if (!CONTAINER_ID_RE.test(id)) {
    throw new UserError(`invalid container id ${JSON.stringify(id)}: use letters, digits, '_', '.', '-' (at most 128)`);
  }
}

/** Overlay options that keep upper dirs diffable (commit/build) and shared lowers mountable many times over. */
export function overlayExtraOptions(): string[] {
  const params = '/sys/module/overlay/parameters';
  const out: string[] = [];
  for (const [param, opt] of [['index', 'index=off'], ['redirect_dir', 'redirect_dir=off'], ['metacopy', 'metacopy=off']] as const) {
    if (existsSync(join(params, param))) out.push(opt);
  }
  return out;
}

/** Mount points of this process's mount namespace (octal escapes decoded). */
export function mountPoints(): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const field = line.split(' ')[4];
    if (field) out.add(field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

export function isMountPoint(path: string): boolean {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return false;
  }
  return mountPointsAmong([real]).size === 1;
}

export class RootfsManager {
  constructor(
    private readonly paths: StorePaths,
    private readonly layers: LayerStore,
  ) {}

  layoutPath(containerId: string): string {
    return join(this.paths.container(containerId), LAYOUT_FILE);
  }

  read(containerId: string): RootfsLayout | undefined {
    checkContainerId(containerId);
    return readJsonIfExists<RootfsLayout>(this.layoutPath(containerId));
  }

  /** Every prepared container's layout (the references that keep images and layers). */
  all(): RootfsLayout[] {
    const out: RootfsLayout[] = [];
    for (const name of readdirSync(this.paths.rw)) {
      const l = readJsonIfExists<RootfsLayout>(join(this.paths.rw, name, LAYOUT_FILE));
      if (l) out.push(l);
    }
    return out;
  }

  /**
   * Called under the store lock with the resolved images: each container's layout (an Error where
   * one cannot be had). The new layouts are written together (writeFilesAtomic: their syncs side
   * by side, not one after another under the lock), then each container's dirs are made.
   */
  async prepareManyLocked(items: readonly { containerId: string; image: ImageRecord }[]): Promise<Array<RootfsLayout | Error>> {
    const out: Array<RootfsLayout | Error> = [];
    const fresh: RootfsLayout[] = [];
    for (const { containerId, image } of items) {
      try {
        checkContainerId(containerId);
        const existing = this.read(containerId);
        if (existing && existing.imageId !== image.id) {
          throw new ConflictError(`the root filesystem of container ${containerId} was prepared from image ${existing.imageId}, not ${image.id}`,
            'Release it first (releaseRootfs) to start over from another image');
        }
        const layout = existing ?? this.layoutFor(containerId, image);
        mkdirSync(this.paths.container(containerId), { recursive: true, mode: 0o700 });
        if (!existing) fresh.push(layout);
        out.push(layout);
      } catch (err) {
        out.push(err as Error);
      }
    }
    try {
      await writeFilesAtomic(fresh.map((l) => ({ path: this.layoutPath(l.containerId), data: JSON.stringify(l, null, 2) + '\n' })));
    } catch (err) {
      return out.map((l) => (l instanceof Error || !fresh.includes(l) ? l : (err as Error)));
    }
    return out.map((l) => {
      if (l instanceof Error) return l;
      try {
        this.ensureDirs(l);
        return l;
      } catch (err) {
        return err as Error;
      }
    });
  }

  private layoutFor(containerId: string, image: ImageRecord): RootfsLayout {
    const links: string[] = [];
    const lowerDirs: string[] = [];
    for (const chainId of [...image.chainIds].reverse()) {
      const rec = this.layers.get(chainId);
      if (!rec) throw new UserError(`image ${image.id} is missing its layer ${chainId}`, 1, 'Remove the image and load or pull it again');
      links.push(`l/${rec.link}`);
      lowerDirs.push(this.paths.layerDiff(chainId));
    }
    if (links.length === 0) {
      // overlay needs at least one lower dir; an image with no layer (FROM scratch) gets an empty one.
      links.push(relative(this.paths.root, this.paths.empty));
      lowerDirs.push(this.paths.empty);
    }
    const dir = this.paths.container(containerId);
    const rel = relative(this.paths.root, dir);
    const mountData = [`lowerdir=${links.join(':')}`, `upperdir=${rel}/upper`, `workdir=${rel}/work`, ...overlayExtraOptions()].join(',');
    if (mountData.length >= PAGE_SIZE) {
      throw new UserError(`image ${image.id} has ${image.chainIds.length} layers: too many for one overlay mount`, 1, 'Flatten the image (fewer than about 128 layers)');
    }
    return {
      containerId,
      imageId: image.id,
      chainIds: image.chainIds,
      lowerDirs,
      upperDir: join(dir, 'upper'),
      workDir: join(dir, 'work'),
      mergedDir: join(dir, 'merged'),
      mountData,
      mountCwd: this.paths.root,
    };
  }

  /** Creates what a crash may have left out: the rw dirs and the layers' short links. */
  private ensureDirs(layout: RootfsLayout): void {
    for (const chainId of layout.chainIds) {
      const rec = this.layers.get(chainId);
      if (!rec) throw new UserError(`the layer ${chainId} of container ${layout.containerId}'s image is gone from the store`);
      this.layers.ensureLink(rec);
    }
    if (!existsSync(layout.upperDir)) {
      // The merged root takes the upper dir's owner and mode: copy the top layer's root, as Docker does.
      const top = layout.lowerDirs[0]!;
      const st = lstatSync(top);
      mkdirSync(layout.upperDir, { mode: 0o755 });
      chownSync(layout.upperDir, st.uid, st.gid);
      chmodSync(layout.upperDir, top === this.paths.empty ? 0o755 : st.mode & 0o7777);
    }
    mkdirSync(layout.workDir, { recursive: true, mode: 0o700 });
    mkdirSync(layout.mergedDir, { recursive: true, mode: 0o755 });
  }

  private requireLayout(containerId: string): RootfsLayout {
    const layout = this.read(containerId);
    if (!layout) throw new NotFoundError('container root filesystem', containerId);
    return layout;
  }

  async mount(containerId: string): Promise<string> {
    const layout = this.requireLayout(containerId);
    return withLock(join(this.paths.container(containerId), MOUNT_LOCK), async () => {
      if (isMountPoint(layout.mergedDir)) return layout.mergedDir;
      this.ensureDirs(layout);
      await runOk('mount', ['-t', 'overlay', 'overlay', '-o', layout.mountData, layout.mergedDir], { cwd: layout.mountCwd });
      return layout.mergedDir;
    });
  }

  async unmount(containerId: string): Promise<void> {
    const layout = this.read(containerId);
    if (!layout) return;
    await withLock(join(this.paths.container(containerId), MOUNT_LOCK), () => this.unmountLayout(layout));
  }

  private async unmountLayout(layout: RootfsLayout): Promise<void> {
    // A merged dir may carry more than one mount after a crash and a retry: take them all off.
    for (let i = 0; i < 16 && isMountPoint(layout.mergedDir); i++) {
      await runOk('umount', [layout.mergedDir]);
    }
    if (isMountPoint(layout.mergedDir)) throw new Error(`${layout.mergedDir} is still mounted`);
  }

  /**
   * Called under the store lock: unmounts, then moves the container's dir (its rw dirs and the layout,
   * its image reference) into tmp/ in one rename, and returns where, for the caller to delete after
   * the lock: deleting the files under the lock made the removals of a `down` wait for each other
   * (~20 files per container, a `down` of 30 spent ~1 s of its event loop on them). A process that
   * dies before deleting leaves a staging dir of a dead owner, which opening the store sweeps.
   */
  async releaseLocked(containerId: string): Promise<string | undefined> {
    const layout = this.read(containerId);
    const dir = this.paths.container(containerId);
    if (layout) await this.unmountLayout(layout);
    if (!existsSync(dir)) return undefined;
    const staging = join(this.paths.tmp, `${process.pid}-${processStartTime(process.pid)}-${randomBytes(6).toString('hex')}`);
    renameSync(dir, staging);
    return staging;
  }
}
