import type { ContainerStats } from './types.js';

/** The figures `docker stats` shows, from the Engine's readings (either backend's). */

/** `docker stats`' CPU %: the container's share of the host's CPU time between two readings, times the CPUs. */
export function cpuPercent(before: ContainerStats, after: ContainerStats): number {
  const used = after.cpu_stats.cpu_usage.total_usage - before.cpu_stats.cpu_usage.total_usage;
  const system = after.cpu_stats.system_cpu_usage - before.cpu_stats.system_cpu_usage;
  return used > 0 && system > 0 ? (used / system) * after.cpu_stats.online_cpus * 100 : 0;
}

/** `docker stats`' memory usage: without the inactive page cache (docker CLI, cgroup v1 and v2 alike). */
export function memoryInUse(s: ContainerStats): number {
  return Math.max(0, s.memory_stats.usage - s.memory_stats.stats.inactive_file);
}
