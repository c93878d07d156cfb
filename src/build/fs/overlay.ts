import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { runOk, run } from '../../util/proc.js';
import { processStartTime } from '../../util/lock.js';
import { UserError } from '../../util/errors.js';
import { mountPoints, type ImageStore } from '../../engine/native/image/index.js';

/**
 * A layer stack of the image store mounted on the host for the builder:
 * writable (an upper dir of our own, diffed into the step's layer) for
 * COPY, ADD and WORKDIR, read-only for `COPY --from`. The mount lives in a
 * staging dir of the store's tmp/ named after this process, so that a
 * build that died with a mount in place is recognised and cleaned by the
 * next one (unmountStale). Paths in the mount data are relative to the
 * store root (its short l/ links), as the store's own overlay mounts are.
 */

export interface MountedStack {
  dir: string;
  merged: string;
  /** The writable layer (writable mounts only). */
  upper: string | undefined;
  /** The read-only layers, topmost first (host paths), for looking things up below the upper dir. */
  lowers: string[];
  /** Unmounts (the upper dir stays, to be diffed). */
  unmount(): Promise<void>;
  /** Unmounts and removes everything. */
  close(): Promise<void>;
}

const PAGE_SIZE = 4096;

/** The options that keep an upper dir diffable (no redirects, no metacopy) where the kernel has them. */
function extraOptions(): string[] {
  const params = '/sys/module/overlay/parameters';
  const out: string[] = [];
  for (const [p, o] of [['index', 'index=off'], ['redirect_dir', 'redirect_dir=off'], ['metacopy', 'metacopy=off']] as const) {
    if (existsSync(join(params, p))) out.push(o);
  }
  return out;
}

export async function mountStack(store: ImageStore, chainIds: string[], writable: boolean): Promise<MountedStack> {
  const dir = store.layers.stagingDir();
  const merged = join(dir, 'merged');
  mkdirSync(merged, { mode: 0o755 });
  const links: string[] = [];
  const lowers: string[] = [];
  for (const chainId of [...chainIds].reverse()) {
    const rec = store.layer(chainId);
    if (!rec) {
      rmSync(dir, { recursive: true, force: true });
      throw new UserError(`layer ${chainId} is missing from the image store`, 1, 'Build again with --no-cache, or pull the base image again');
    }
    store.layers.ensureLink(rec);
    links.push(`l/${rec.link}`);
    lowers.push(store.paths.layerDiff(chainId));
  }
  const root = store.root;
  const emptyRel = relative(root, store.paths.empty);
  let upper: string | undefined;
  let data: string | undefined;
  if (writable) {
    upper = join(dir, 'upper');
    const work = join(dir, 'work');
    mkdirSync(upper, { mode: 0o755 });
    mkdirSync(work, { mode: 0o700 });
    // The merged root takes the upper dir's owner and mode: those of the image's root.
    if (lowers[0]) {
      const st = lstatSync(lowers[0]);
      chownSync(upper, st.uid, st.gid);
      chmodSync(upper, st.mode & 0o7777);
    }
    data = [`lowerdir=${[...links, emptyRel].join(':')}`, `upperdir=${relative(root, upper)}`, `workdir=${relative(root, work)}`, ...extraOptions()].join(',');
  } else if (links.length) {
    // Without an upper dir overlayfs wants two lower dirs at least: the store's empty dir is the second.
    data = [`lowerdir=${[...links, emptyRel].join(':')}`, ...extraOptions()].join(',');
  }
  if (data && data.length >= PAGE_SIZE) {
    rmSync(dir, { recursive: true, force: true });
    throw new UserError(`the image has ${chainIds.length} layers: too many to mount in one overlay`, 1, 'Use fewer layers (combine RUN instructions)');
  }
  if (data) {
    try {
      await runOk('mount', ['-t', 'overlay', 'overlay', '-o', data, merged], { cwd: root });
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }
  let mounted = !!data;
  const detach = async () => {
    if (!mounted) return;
    mounted = false;
    await unmount(merged);
  };
  return {
    dir, merged, upper, lowers,
    unmount: detach,
    async close() {
      await detach();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function unmount(path: string): Promise<void> {
  for (let i = 0; i < 8 && mountPoints().has(path); i++) {
    const r = await run('umount', [path]);
    if (r.code !== 0) await run('umount', ['-l', path]);
  }
  if (mountPoints().has(path)) throw new Error(`${path} is still mounted`);
}

/**
 * Unmounts and removes the mounts a dead build process left in the store's
 * tmp/ (killed between mount and unmount), so that nothing stays mounted and
 * the store's gc can remove their dirs.
 */
export async function unmountStale(store: ImageStore): Promise<number> {
  const tmp = `${store.paths.tmp}/`;
  let n = 0;
  for (const m of [...mountPoints()].filter((p) => p.startsWith(tmp)).sort().reverse()) {
    const name = m.slice(tmp.length).split('/')[0]!;
    const owner = /^(\d+)-(\d+)-/.exec(name);
    if (owner && processStartTime(Number(owner[1])) === owner[2]) continue;
    await unmount(m);
    rmSync(join(tmp, name), { recursive: true, force: true });
    n++;
  }
  return n;
}
