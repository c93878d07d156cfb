import { existsSync, readFileSync } from 'node:fs';
import { CgroupV1, type V1Hierarchy } from './v1.js';
import { CgroupV2 } from './v2.js';
import type { CgroupDriver } from './types.js';

export type { CgroupDriver, CgroupLimits, CgroupStats } from './types.js';
export { CgroupV1 } from './v1.js';
export { CgroupV2, blkioToIoWeight, sharesToWeight } from './v2.js';

export interface CgroupMounts {
  v1: V1Hierarchy[];
  v2?: string;
}

/** Reads the cgroup mounts from mountinfo: fields after " - " are fstype, source, super options. */
export function parseCgroupMounts(mountinfo: string): CgroupMounts {
  const v1: V1Hierarchy[] = [];
  let v2: string | undefined;
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const mountPoint = line.slice(0, sep).split(' ')[4]!.replace(/\\040/g, ' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    if (fstype === 'cgroup2') v2 ??= mountPoint;
    else if (fstype === 'cgroup') {
      const controllers = superOpts.split(',').filter((o) => o !== 'rw' && o !== 'ro' && !o.startsWith('release_agent') && o !== 'clone_children' && o !== 'noprefix' && o !== 'xattr');
      if (!v1.some((h) => h.mount === mountPoint)) v1.push({ mount: mountPoint, controllers });
    }
  }
  return { v1, v2 };
}

let cached: CgroupDriver | undefined;

/**
 * The host's driver: v1 when the memory controller lives in a v1 hierarchy
 * (this covers "hybrid" hosts, whose cgroup2 mount has no controllers), v2
 * otherwise. TSCOMPOSE_CGROUP_ROOT points a v2 driver at another tree.
 */
export function hostCgroups(): CgroupDriver {
  if (cached) return cached;
  if (process.env.TSCOMPOSE_CGROUP_ROOT) return (cached = new CgroupV2(process.env.TSCOMPOSE_CGROUP_ROOT));
  const mounts = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
  if (mounts.v1.some((h) => h.controllers.includes('memory'))) return (cached = new CgroupV1(mounts.v1));
  if (mounts.v2) return (cached = new CgroupV2(mounts.v2));
  throw new Error('no cgroup hierarchy is mounted (expected /sys/fs/cgroup)');
}

/** Whether a cgroup namespace can be made: its root is then the container's own cgroup. */
export function cgroupNamespaceSupported(): boolean {
  return existsSync('/proc/self/ns/cgroup');
}
