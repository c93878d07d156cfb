import { UserError } from '../../../../util/errors.js';

/** Limits as the runtime hands them to a cgroup driver (bytes, CPUs, counts). */
export interface CgroupLimits {
  memory?: number;
  /** Memory + swap; -1 unlimited; undefined: twice `memory` when memory is set (Docker's default). */
  memorySwap?: number;
  memoryReservation?: number;
  /** Fractional CPUs; wins over cpuQuota. */
  cpus?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpuShares?: number;
  pidsLimit?: number;
  /** CPUs and memory nodes the container may use ("0-2,4"); unset: the parent's. */
  cpusetCpus?: string;
  cpusetMems?: string;
  /** Block I/O weight, 10..1000 (Docker's --blkio-weight); applied where the kernel has an I/O weight. */
  blkioWeight?: number;
  /** Allow every device (privileged); otherwise Docker's default device list ... */
  allDevices?: boolean;
  /** ... and these rules ("c 1:3 rwm"), for the container's `devices` and `device_cgroup_rules`. Written by v1; on v2 the helper attaches them as an eBPF program (deviceFilterCgroup). */
  deviceRules?: string[];
}

/** One reading of a container's cgroup, as `docker stats` shows it (one sample; rates are the caller's). */
export interface CgroupStats {
  /** Bytes in use, and the part of it that is inactive page cache (Docker subtracts it). */
  memoryUsage: number;
  memoryInactiveFile: number;
  /** The limit in bytes, or undefined when unlimited. */
  memoryLimit: number | undefined;
  /** CPU time used, nanoseconds; periods throttled by the CPU quota, and for how long. */
  cpuUsageNs: number;
  cpuThrottledPeriods: number;
  cpuThrottledNs: number;
  pids: number;
  pidsLimit: number | undefined;
  /** Processes the kernel's OOM killer killed in the cgroup. */
  oomKills: number;
}

/**
 * One interface over cgroup v1 (a directory per hierarchy) and v2 (one
 * unified directory). Paths follow docs/internals.md: <mount>/tscompose/<id>.
 * Node writes every file itself: no process is spawned per step.
 */
export interface CgroupDriver {
  readonly version: 1 | 2;
  /** Creates the container's cgroup (idempotent) and writes its limits. */
  create(id: string, limits: CgroupLimits): void;
  /** The files a single-threaded process writes "0" into to join the container's cgroup(s). */
  procsFiles(id: string): string[];
  /** Where the kernel counts OOM kills for this cgroup, and the key of that line. */
  oomCounter(id: string): { path: string; key: string } | undefined;
  /** Pids of every process in the container's cgroup (host pid namespace). */
  pids(id: string): number[];
  /** SIGKILLs everything in the cgroup and waits until it is empty. */
  killAll(id: string): Promise<void>;
  /** Kills what is left and removes the cgroup directories; a missing cgroup is fine. */
  remove(id: string): Promise<void>;
  exists(id: string): boolean;
  /** The hierarchies to mount in the container's /sys/fs/cgroup (v1: one per hierarchy; v2: none, the unified one is mounted whole). */
  hierarchyMounts(): Array<{ dir: string; options: string }>;
  /** Memory in use (bytes), for stats; undefined when unknown. */
  memoryUsage(id: string): number | undefined;
  /** A reading of the container's counters; undefined when it has no cgroup. */
  stats(id: string): CgroupStats | undefined;
  /** The cgroup directory a device eBPF program attaches to (v2); undefined where the devices controller keeps the list (v1). */
  deviceFilterCgroup(id: string): string | undefined;
  /** Whether a block I/O weight would reach the kernel here (Docker discards it with a warning otherwise). */
  supportsBlkioWeight(): boolean;
}

/** Docker's default device rules (moby oci/defaults.go), as v1 devices.allow lines. */
export const DEFAULT_DEVICE_RULES: readonly string[] = [
  'c *:* m',
  'b *:* m',
  'c 1:3 rwm',
  'c 1:5 rwm',
  'c 1:7 rwm',
  'c 1:8 rwm',
  'c 1:9 rwm',
  'c 5:0 rwm',
  'c 5:1 rwm',
  'c 5:2 rwm',
  'c 136:* rwm',
  'c 10:200 rwm',
];

export const CFS_PERIOD_US = 100_000;

/** CFS quota and period for the limits, or undefined when the CPU is unlimited. */
export function cfsQuota(l: CgroupLimits): { quota: number; period: number } | undefined {
  const period = l.cpuPeriod ?? CFS_PERIOD_US;
  if (l.cpus !== undefined && l.cpus > 0) return { quota: Math.round(l.cpus * period), period };
  if (l.cpuQuota !== undefined && l.cpuQuota > 0) return { quota: l.cpuQuota, period };
  return undefined;
}

/** A cpuset the kernel refused (EINVAL): CPUs or memory nodes this host does not have. */
export function cpusetUnavailable(file: string, asked: string, have: string | undefined): UserError {
  const what = file.endsWith('cpus') ? 'CPUs' : 'memory nodes';
  return new UserError(`Requested ${what} are not available - requested ${asked}, available: ${have ?? 'unknown'}`, 1,
    `give cpuset${file.endsWith('cpus') ? '' : '_mems'} within ${have ?? 'what the host has'}`);
}

/** Memory + swap as Docker computes it: unset means twice the memory limit. */
export function memoryAndSwap(l: CgroupLimits): number | undefined {
  if (l.memory === undefined || l.memory <= 0) return l.memorySwap === -1 ? -1 : undefined;
  if (l.memorySwap === undefined || l.memorySwap === 0) return l.memory * 2;
  return l.memorySwap;
}
