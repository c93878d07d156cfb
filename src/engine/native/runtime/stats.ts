import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import type { CgroupStats } from './cgroups/index.js';
import type { ContainerStats } from './types.js';

/**
 * A cgroup reading in the shape of Docker's stats API. Docker reports an
 * unlimited container's memory limit as the host's memory, and the host's
 * CPU time (all of /proc/stat's first line, in ns) as the base of CPU %.
 */
export function toDockerStats(id: string, name: string, version: 1 | 2, s: CgroupStats | undefined): ContainerStats {
  return {
    read: new Date().toISOString(),
    id,
    name: `/${name}`,
    pids_stats: { current: s?.pids ?? 0, ...(s?.pidsLimit !== undefined ? { limit: s.pidsLimit } : {}) },
    memory_stats: {
      usage: s?.memoryUsage ?? 0,
      limit: s?.memoryLimit ?? totalmem(),
      stats: { inactive_file: s?.memoryInactiveFile ?? 0 },
    },
    cpu_stats: {
      cpu_usage: { total_usage: s?.cpuUsageNs ?? 0 },
      system_cpu_usage: systemCpuNs(),
      online_cpus: availableParallelism(),
      throttling_data: { throttled_periods: s?.cpuThrottledPeriods ?? 0, throttled_time: s?.cpuThrottledNs ?? 0 },
    },
    cgroup_version: version,
    oom_kills: s?.oomKills ?? 0,
  };
}

/** The host's total CPU time in ns: the "cpu" line of /proc/stat, in clock ticks of 10 ms (USER_HZ 100). */
function systemCpuNs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const ticks = line.split(/\s+/).slice(1, 8).reduce((sum, v) => sum + Number(v), 0);
  return ticks * 10_000_000;
}
