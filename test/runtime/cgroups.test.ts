import { describe, it, expect, afterEach } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { CgroupV1, CgroupV2, parseCgroupMounts, sharesToWeight } from '../../src/engine/native/runtime/cgroups/index.js';
import { DEFAULT_DEVICE_RULES } from '../../src/engine/native/runtime/cgroups/types.js';

/**
 * The cgroup drivers' file writes, on fake trees (this host's cgroup2 has no
 * controllers, so v2 is exercised here; v1 also runs for real in every
 * runtime test).
 */
let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const read = (...p: string[]) => readFileSync(join(dir, ...p), 'utf8');

describe('cgroup v2 driver (fake tree)', () => {
  function fakeV2(): CgroupV2 {
    dir = mkdtempSync(join(tmpdir(), 'tsc-cg2-'));
    writeFileSync(join(dir, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
    return new CgroupV2(dir);
  }

  it('enables the controllers down the tree and writes the limits Docker would', () => {
    const cg = fakeV2();
    const id = 'c'.repeat(64);
    // The kernel creates a child's interface files; a fake tree needs the parent's list to be there.
    mkdirSync(join(dir, 'tscompose'));
    writeFileSync(join(dir, 'tscompose', 'cgroup.controllers'), 'cpu memory pids\n');
    mkdirSync(join(dir, 'tscompose', id));
    writeFileSync(join(dir, 'tscompose', id, 'memory.swap.max'), 'max\n');
    cg.create(id, { memory: 256 * 2 ** 20, memoryReservation: 128 * 2 ** 20, cpus: 1.5, cpuShares: 512, pidsLimit: 100 });
    expect(read('cgroup.subtree_control')).toBe('+cpu +memory +pids');
    expect(read('tscompose', 'cgroup.subtree_control')).toBe('+cpu +memory +pids');
    const c = (f: string) => read('tscompose', id, f);
    expect(c('memory.max')).toBe(String(256 * 2 ** 20));
    // Docker's default: swap as large as the memory limit (memory + swap = twice the limit).
    expect(c('memory.swap.max')).toBe(String(256 * 2 ** 20));
    expect(c('memory.low')).toBe(String(128 * 2 ** 20));
    expect(c('cpu.max')).toBe('150000 100000');
    expect(c('cpu.weight')).toBe(String(sharesToWeight(512)));
    expect(c('pids.max')).toBe('100');
    expect(cg.procsFiles(id)).toEqual([join(dir, 'tscompose', id, 'cgroup.procs')]);
    expect(cg.oomCounter(id)).toEqual({ path: join(dir, 'tscompose', id, 'memory.events'), key: 'oom_kill' });
    expect(cg.hierarchyMounts()).toEqual([]);
  });

  it('writes "max" for unlimited resources and maps shares to weights as runc does', () => {
    const cg = fakeV2();
    const id = 'd'.repeat(64);
    cg.create(id, {});
    const c = (f: string) => read('tscompose', id, f);
    expect([c('memory.max'), c('cpu.max'), c('pids.max'), c('memory.low')]).toEqual(['max', 'max 100000', 'max', '0']);
    expect(c('cpu.weight')).toBe('100');
    expect([2, 1024, 262144].map(sharesToWeight)).toEqual([1, 40, 10000]);
    cg.create(id, { memory: 64 * 2 ** 20, memorySwap: -1 });
    expect(existsSync(join(dir, 'tscompose', id, 'memory.swap.max'))).toBe(false);
  });

  it('reads the processes of a container and removes an empty one', async () => {
    const cg = fakeV2();
    const id = 'e'.repeat(64);
    cg.create(id, {});
    writeFileSync(join(dir, 'tscompose', id, 'cgroup.procs'), '');
    expect(cg.pids(id)).toEqual([]);
    expect(cg.exists(id)).toBe(true);
    // A fake dir holds files, which rmdir refuses: clear them the way the kernel would not need to.
    for (const f of ['memory.max', 'memory.low', 'cpu.max', 'cpu.weight', 'pids.max', 'cgroup.procs']) rmSync(join(dir, 'tscompose', id, f));
    await cg.remove(id);
    expect(cg.exists(id)).toBe(false);
  });
});

describe('cgroup v1 driver (fake tree)', () => {
  it('writes memory before swap, CFS quota, shares, pids and Docker\'s device rules', () => {
    dir = mkdtempSync(join(tmpdir(), 'tsc-cg1-'));
    const h = (name: string) => {
      mkdirSync(join(dir, name, 'tscompose'), { recursive: true });
      return { mount: join(dir, name), controllers: [name] };
    };
    const cg = new CgroupV1([h('memory'), h('cpu'), h('pids'), h('devices')]);
    const id = 'f'.repeat(64);
    mkdirSync(join(dir, 'memory', 'tscompose', id));
    writeFileSync(join(dir, 'memory', 'tscompose', id, 'memory.memsw.limit_in_bytes'), '');
    cg.create(id, { memory: 2 ** 26, cpus: 0.5, pidsLimit: 20 });
    expect(read('memory', 'tscompose', id, 'memory.limit_in_bytes')).toBe(String(2 ** 26));
    expect(read('memory', 'tscompose', id, 'memory.memsw.limit_in_bytes')).toBe(String(2 ** 27));
    expect(read('cpu', 'tscompose', id, 'cpu.cfs_quota_us')).toBe('50000');
    expect(read('cpu', 'tscompose', id, 'cpu.shares')).toBe('1024');
    expect(read('pids', 'tscompose', id, 'pids.max')).toBe('20');
    // The kernel takes each write(2) as one rule; a plain file keeps them end to end.
    expect(read('devices', 'tscompose', id, 'devices.deny')).toBe('a');
    expect(read('devices', 'tscompose', id, 'devices.allow')).toBe(DEFAULT_DEVICE_RULES.join(''));
    expect(DEFAULT_DEVICE_RULES.at(-1)).toBe('c 10:200 rwm');
    expect(cg.hierarchyMounts()).toEqual(['memory', 'cpu', 'pids', 'devices'].map((d) => ({ dir: d, options: d })));
  });
});

describe('cgroup mount discovery', () => {
  it('finds v1 hierarchies with their controllers and a hybrid host\'s cgroup2 mount', () => {
    const mountinfo = [
      '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
      '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
      '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
      '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
      '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
    ].join('\n');
    expect(parseCgroupMounts(mountinfo)).toEqual({
      v1: [
        { mount: '/sys/fs/cgroup/cpu,cpuacct', controllers: ['cpu', 'cpuacct'] },
        { mount: '/sys/fs/cgroup/memory', controllers: ['memory'] },
        { mount: '/sys/fs/cgroup/systemd', controllers: ['name=systemd'] },
      ],
      v2: '/sys/fs/cgroup/unified',
    });
    dir = mkdtempSync(join(tmpdir(), 'tsc-cg-'));
  });
});

describe('capabilities on a cgroup v2 host', () => {
  it('drop MKNOD (no device controller to stop a block device) unless asked for or privileged', async () => {
    const { containerCapabilities } = await import('../../src/engine/native/runtime/launch.js');
    const { capNames } = await import('../../src/engine/native/runtime/caps.js');
    dir = mkdtempSync(join(tmpdir(), 'tsc-cg-'));
    const v2 = new CgroupV2(dir);
    const v1 = new CgroupV1([]);
    expect(capNames(containerCapabilities({ image: 'x' }, v1))).toContain('MKNOD');
    expect(capNames(containerCapabilities({ image: 'x' }, v2))).not.toContain('MKNOD');
    expect(capNames(containerCapabilities({ image: 'x', capAdd: ['mknod'] }, v2))).toContain('MKNOD');
    expect(capNames(containerCapabilities({ image: 'x', privileged: true }, v2))).toContain('MKNOD');
  });
});
