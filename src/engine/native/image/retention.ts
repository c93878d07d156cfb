import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processStartTime } from '../../../util/lock.js';
import { readStoredImage, storedImageIds } from './records.js';
import type { StorePaths } from './layout.js';
import type { LayerStore } from './layers.js';
import type { RootfsManager } from './rootfs.js';

/**
 * What keeps things in the store, and the sweep of what nothing keeps. A
 * layer lives while an image record lists it, a container's rootfs layout
 * lists it, or a live process holds it (it added the layer and has not yet
 * written the image that uses it). Per-process files (staging dirs, holds)
 * are named `<pid>-<starttime>...`, so a dead owner's are recognised.
 */

/** True when the `<pid>-<starttime>` a name starts with is a running process (not a reused pid). */
export function ownerAlive(name: string): boolean {
  const m = /^(\d+)-(\d+)(?:-|$)/.exec(name);
  if (!m) return false;
  return processStartTime(Number(m[1])) === m[2];
}

/** Staging dirs of processes that died mid-unpack; each belongs to one process, so no lock is needed. */
export function sweepDeadStaging(paths: StorePaths): void {
  for (const name of readdirSync(paths.tmp)) {
    if (/^\d+-\d+-/.test(name) && !ownerAlive(name)) rmSync(join(paths.tmp, name), { recursive: true, force: true });
  }
}

/** This process's holds on layers, in holds/<pid>-<start>; all calls under the store lock. */
export class LayerHolds {
  private readonly held = new Set<string>();
  constructor(private readonly paths: StorePaths) {}

  private file(): string {
    return join(this.paths.holds, `${process.pid}-${processStartTime(process.pid)}`);
  }

  hold(chainId: string): void {
    this.held.add(chainId);
    writeFileSync(this.file(), [...this.held].join('\n') + '\n', { mode: 0o600 });
  }

  release(chainIds: readonly string[]): void {
    let changed = false;
    for (const c of chainIds) changed = this.held.delete(c) || changed;
    if (!changed) return;
    if (this.held.size) writeFileSync(this.file(), [...this.held].join('\n') + '\n', { mode: 0o600 });
    else rmSync(this.file(), { force: true });
  }
}

/** Chain ids that images, containers or live processes' holds keep (dead processes' holds are dropped). */
export function liveLayers(paths: StorePaths, rootfs: RootfsManager): Set<string> {
  const live = new Set<string>();
  for (const id of storedImageIds(paths)) for (const c of readStoredImage(paths, id)?.chainIds ?? []) live.add(c);
  for (const l of rootfs.all()) for (const c of l.chainIds) live.add(c);
  for (const name of readdirSync(paths.holds)) {
    const file = join(paths.holds, name);
    if (!ownerAlive(name)) {
      rmSync(file, { force: true });
      continue;
    }
    for (const c of readFileSync(file, 'utf8').split('\n')) if (c) live.add(c);
  }
  return live;
}

export interface GcReport {
  layers: number;
  blobs: number;
  bytes: number;
}

/** Deletes layers, config blobs, links and debris nothing refers to; the caller holds the store lock. */
export function collectGarbage(paths: StorePaths, layers: LayerStore, rootfs: RootfsManager): GcReport {
  const live = liveLayers(paths, rootfs);
  const report: GcReport = { layers: 0, blobs: 0, bytes: 0 };
  for (const chainId of layers.list()) {
    if (live.has(chainId)) continue;
    report.bytes += layers.removeLocked(chainId);
    report.layers++;
  }
  // Layer dirs without layer.json: an interrupted add or delete.
  for (const name of readdirSync(paths.layers)) {
    if (!existsSync(join(paths.layers, name, 'layer.json'))) rmSync(join(paths.layers, name), { recursive: true, force: true });
  }
  layers.pruneLinksLocked();
  const images = new Set(storedImageIds(paths).map((id) => id.slice(7)));
  for (const hex of readdirSync(paths.blobs)) {
    if (images.has(hex)) continue;
    rmSync(join(paths.blobs, hex), { force: true });
    report.blobs++;
  }
  for (const name of readdirSync(paths.tmp)) {
    if (!ownerAlive(name)) rmSync(join(paths.tmp, name), { recursive: true, force: true });
  }
  // Temp files of atomic writes a crash interrupted (every writer of these dirs holds the lock we hold).
  for (const dir of [paths.root, paths.images, paths.blobs]) {
    for (const name of readdirSync(dir)) if (/^\..+\.tmp$/.test(name)) rmSync(join(dir, name), { force: true });
  }
  return report;
}
