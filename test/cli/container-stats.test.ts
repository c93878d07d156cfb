import { describe, it, expect } from 'vitest';
import { bytesSize, renderStats, statsRow } from '../../src/cli/container/stats.js';
import { toDockerStats } from '../../src/engine/native/runtime/stats.js';
import type { CgroupStats } from '../../src/engine/native/runtime/cgroups/index.js';

/** `container stats`: Docker's units and columns from two cgroup readings. */
describe('container stats', () => {
  const reading = (cpuUsageNs: number, systemNs: number, memoryUsage = 9 * 2 ** 20): ReturnType<typeof toDockerStats> => {
    const s: CgroupStats = {
      memoryUsage, memoryInactiveFile: 2 ** 20, memoryLimit: 64 * 2 ** 20, cpuUsageNs, cpuThrottledPeriods: 0, cpuThrottledNs: 0,
      pids: 3, pidsLimit: 20, oomKills: 0,
    };
    const r = toDockerStats('a'.repeat(64), 'web', 2, s);
    return { ...r, cpu_stats: { ...r.cpu_stats, system_cpu_usage: systemNs, online_cpus: 2 } };
  };

  it('prints sizes as docker does (binary units, four significant digits)', () => {
    expect([0, 512, 1536, 1613824, 48 * 2 ** 20, 33.5 * 2 ** 30].map(bytesSize)).toEqual(['0B', '512B', '1.5KiB', '1.539MiB', '48MiB', '33.5GiB']);
  });

  it('computes CPU % from two readings and memory without the inactive cache', () => {
    // 0.5 s of CPU in 1 s of two CPUs' time (2 s): 25% of the host, times 2 CPUs = 50%.
    const row = statsRow(reading(1e9, 10e9), reading(1.5e9, 12e9));
    expect(row).toMatchObject({ ID: 'aaaaaaaaaaaa', Name: 'web', CPUPerc: '50.00%', MemUsage: '8MiB / 64MiB', MemPerc: '12.50%', PIDs: '3' });
    expect(renderStats([row])).toMatch(/^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS\naaaaaaaaaaaa\s+web\s+50.00%\s+8MiB \/ 64MiB/);
    expect(JSON.parse(renderStats([row], 'json'))).toMatchObject({ CPUPerc: '50.00%', MemUsage: '8MiB / 64MiB' });
    expect(renderStats([row], '{{.Name}}: {{.MemPerc}}')).toBe('web: 12.50%\n');
  });

  it('an unlimited container reports the host memory as its limit, a stopped one zeros', () => {
    const r = toDockerStats('b'.repeat(64), 'idle', 1, undefined);
    expect(r.memory_stats.usage).toBe(0);
    expect(r.memory_stats.limit).toBeGreaterThan(0);
    expect(r.cpu_stats.cpu_usage.total_usage).toBe(0);
    expect(r.cpu_stats.system_cpu_usage).toBeGreaterThan(0);
  });
});
