import { describe, it, expect, afterEach } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkNoLeaks, makeRuntimeRoot, runToEnd, sh } from './helpers.js';

afterEach(checkNoLeaks);

const MB = 1024 * 1024;

describe('runtime: limits (acceptance 2, security test 8)', () => {
  it('OOM-kills a process over the memory limit inside the container; inspect shows OOMKilled; the host is unharmed', async () => {
    const root = await makeRuntimeRoot();
    // tail -c keeps the last 150 MB in memory: far over a 32 MB limit.
    const r = await runToEnd(root, { resources: { memory: 32 * MB }, ...sh('head -c 200m /dev/zero | tail -c 150m > /dev/null; echo "after=$?"') });
    // The kernel picks the biggest task in the cgroup (tail); should it pick PID 1 instead, the container ends 137.
    expect(r.stdout === 'after=137\n' || r.code === 137, JSON.stringify(r)).toBe(true);
    const info = await root.runtime.inspect(r.id);
    expect(info.State.OOMKilled).toBe(true);
    expect(info.HostConfig.Memory).toBe(32 * MB);
    const memDir = `/sys/fs/cgroup/memory/tscompose/${r.id}`;
    expect(Number(readFileSync(`${memDir}/memory.max_usage_in_bytes`, 'utf8'))).toBeLessThanOrEqual(32 * MB);
    expect(readFileSync(`${memDir}/memory.oom_control`, 'utf8')).toMatch(/oom_kill [1-9]/);
    // The host goes on: this process lives, and can still start processes.
    expect(spawnSync('true').status).toBe(0);
    await root.runtime.remove(r.id);
  });

  it('a container within its limit is not reported OOM-killed', async () => {
    const root = await makeRuntimeRoot();
    const r = await runToEnd(root, { resources: { memory: 64 * MB }, ...sh('head -c 1m /dev/zero | tail -c 512k | wc -c') });
    expect(r.stdout.trim()).toBe('524288');
    expect((await root.runtime.inspect(r.id)).State.OOMKilled).toBe(false);
    await root.runtime.remove(r.id);
  });

  it('stops a fork bomb at the pids limit; the host can still fork; the container is killed cleanly', async () => {
    const root = await makeRuntimeRoot();
    const id = await root.create({ resources: { pidsLimit: 24 }, ...sh('f() { f | f & }; f; sleep 1000') });
    await root.runtime.start(id);
    const pidsDir = `/sys/fs/cgroup/pids/tscompose/${id}`;
    // Wait until the bomb has hit the ceiling (the kernel counts refused forks in pids.events).
    for (let i = 0; i < 200 && !/max [1-9]/.test(readFileSync(`${pidsDir}/pids.events`, 'utf8')); i++) await sleep(25);
    expect(readFileSync(`${pidsDir}/pids.events`, 'utf8')).toMatch(/max [1-9]/);
    expect(Number(readFileSync(`${pidsDir}/pids.current`, 'utf8'))).toBeLessThanOrEqual(24);
    expect(spawnSync('true').status).toBe(0);
    await root.runtime.remove(id, { force: true });
  });

  it('maps --cpus and cpu shares onto the CFS quota and shares', async () => {
    const root = await makeRuntimeRoot();
    const id = await root.create({ resources: { cpus: 1.5, cpuShares: 512, pidsLimit: 100 }, cmd: ['sleep', '100'] });
    await root.runtime.start(id);
    const cpu = `/sys/fs/cgroup/cpu/tscompose/${id}`;
    expect(readFileSync(`${cpu}/cpu.cfs_quota_us`, 'utf8').trim()).toBe('150000');
    expect(readFileSync(`${cpu}/cpu.cfs_period_us`, 'utf8').trim()).toBe('100000');
    expect(readFileSync(`${cpu}/cpu.shares`, 'utf8').trim()).toBe('512');
    // Inside, the container sees its own cgroups (cgroup namespace) read-only.
    const inside = await root.runtime.execCapture(id, { cmd: ['sh', '-c', 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/pids/pids.max; cat /proc/self/cgroup | grep pids; touch /sys/fs/cgroup/x'] });
    expect(inside.stdout).toBe('150000\n100\n8:pids:/\n');
    expect(inside.stderr).toMatch(/Read-only file system/);
    await root.runtime.remove(id, { force: true });
  });

  it('applies a cpuset; one the host does not have is refused at start as Docker words it, leaving no cgroup', async () => {
    const root = await makeRuntimeRoot();
    const id = await root.create({ resources: { cpusetCpus: '0' }, cmd: ['sleep', '100'] });
    await root.runtime.start(id);
    expect(readFileSync(`/sys/fs/cgroup/cpuset/tscompose/${id}/cpuset.cpus`, 'utf8').trim()).toBe('0');
    const inside = await root.runtime.execCapture(id, { cmd: ['grep', 'Cpus_allowed_list', '/proc/self/status'] });
    expect(inside.stdout).toMatch(/Cpus_allowed_list:\s+0\n/);
    await root.runtime.remove(id, { force: true });

    const bad = await root.create({ resources: { cpusetCpus: '4095' }, cmd: ['true'] });
    await expect(root.runtime.start(bad)).rejects.toThrow(/Requested CPUs are not available - requested 4095, available: /);
    for (const h of ['cpuset', 'memory', 'cpu', 'pids']) expect(existsSync(`/sys/fs/cgroup/${h}/tscompose/${bad}`), h).toBe(false);
    expect((await root.runtime.inspect(bad)).State.Error).toMatch(/Requested CPUs are not available/);
    await root.runtime.remove(bad);
  });
});
