import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine } from '../engine/types.js';
import { containerJson, imageSummaryJson } from './json.js';

/**
 * `GET /system/df` (`docker system df`): images with how many containers
 * use each, containers with the size of their writable layer, volumes with
 * their size and users. Sizes are summed file sizes, a hard link counted once.
 */

/** Bytes of the regular files and links under `dir`; 0 when it is gone. */
export async function treeSize(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (path: string): Promise<void> => {
    let st;
    try {
      st = await lstat(path);
    } catch {
      return;
    }
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (!st.isDirectory()) {
      total += st.size;
      return;
    }
    let names: string[] = [];
    try {
      names = await readdir(path);
    } catch {
      return;
    }
    for (const n of names) await walk(join(path, n));
  };
  await walk(dir);
  return total;
}

/** The writable layer of a container, from its inspect JSON's GraphDriver (the native engine's overlay upper dir). */
export async function writableLayerSize(raw: Record<string, unknown> | undefined): Promise<number> {
  const upper = (raw?.GraphDriver as { Data?: { UpperDir?: string } } | undefined)?.Data?.UpperDir;
  return upper ? treeSize(upper) : 0;
}

export async function diskUsage(engine: Engine, verbose: boolean): Promise<Record<string, unknown>> {
  const [images, containers, volumes] = await Promise.all([engine.images.list(), engine.containers.list({ all: true }), engine.volumes.list()]);
  const users = new Map<string, number>();
  for (const c of containers) users.set(c.imageId, (users.get(c.imageId) ?? 0) + 1);
  const containerRows = verbose
    ? await Promise.all(containers.map(async (c) => {
        const size = await writableLayerSize(await engine.containers.inspectRaw(c.id));
        return { ...containerJson(c), SizeRw: size, SizeRootFs: size + (images.find((i) => i.id === c.imageId)?.size ?? 0) };
      }))
    : [];
  const volumeUsers = new Map<string, number>();
  for (const c of containers) for (const m of c.mounts) if (m.type === 'volume' && m.name) volumeUsers.set(m.name, (volumeUsers.get(m.name) ?? 0) + 1);
  const volumeRows = await Promise.all(volumes.map(async (v) => ({
    Name: v.name, Driver: v.driver, Mountpoint: v.mountpoint, Labels: v.labels, Scope: 'local', Options: v.options,
    CreatedAt: v.created ? new Date(v.created).toISOString() : '',
    UsageData: { Size: verbose ? await treeSize(v.mountpoint) : -1, RefCount: volumeUsers.get(v.name) ?? 0 },
  })));
  return {
    LayersSize: images.reduce((n, i) => n + i.size, 0),
    Images: images.map((i) => ({ ...imageSummaryJson(i), Containers: users.get(i.id) ?? 0, SharedSize: -1 })),
    Containers: containerRows,
    Volumes: volumeRows,
    BuildCache: [],
  };
}
