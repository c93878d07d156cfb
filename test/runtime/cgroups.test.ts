import { describe, it, expect, afterEach } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { CgroupV1, CgroupV2, blkioToIoWeight, parseCgroupMounts, sharesToWeight } from '../../src/engine/native/runtime/cgroups/index.js';
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
  const V2_FILES = ['cgroup.procs', 'memory.max', 'memory.low', 'memory.swap.max', 'memory.events', 'cpu.max', 'cpu.weight', 'pids.max', 'cpuset.cpus', 'cpuset.mems', 'io.weight'];

  function fakeV2(): CgroupV2 {
    dir = mkdtempSync(join(tmpdir(), 'tsc-cg2-'));
    writeFileSync(join(dir, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
    return new CgroupV2(dir);
  }

  /** What the kernel makes in a new cgroup: its interface files (here the ones the driver writes). */
  function fakeChild(id: string, files = V2_FILES): string {
    const child = join(dir, 'tscompose', id);
    mkdirSync(child, { recursive: true });
    for (const f of files) writeFileSync(join(child, f), '');
    return child;
  }

  it('enables the controllers down the tree and writes the limits Docker would', () => {
    const cg = fakeV2();
    const id = 'c'.repeat(64);
    mkdirSync(join(dir, 'tscompose'));
    writeFileSync(join(dir, 'tscompose', 'cgroup.controllers'), 'cpu memory pids\n');
    fakeChild(id);
    cg.create(id, { memory: 256 * 2 ** 20, memoryReservation: 128 * 2 ** 20, cpus: 1.5, cpuShares: 512, pidsLimit: 100, cpusetCpus: '0-1', blkioWeight: 500 });
    expect(read('cgroup.subtree_control')).toBe('+cpu +cpuset +io +memory +pids');
    expect(read('tscompose', 'cgroup.subtree_control')).toBe('+cpu +memory +pids');
    const c = (f: string) => read('tscompose', id, f);
    expect(c('memory.max')).toBe(String(256 * 2 ** 20));
    // Docker's default: swap as large as the memory limit (memory + swap = twice the limit).
    expect(c('memory.swap.max')).toBe(String(256 * 2 ** 20));
    expect(c('memory.low')).toBe(String(128 * 2 ** 20));
    expect(c('cpu.max')).toBe('150000 100000');
    expect(c('cpu.weight')).toBe(String(sharesToWeight(512)));
    expect(c('pids.max')).toBe('100');
    expect(c('cpuset.cpus')).toBe('0-1');
    expect(c('cpuset.mems')).toBe('');
    // No BFQ here: the io controller's weight, on its 1..10000 scale.
    expect(c('io.weight')).toBe(`default ${blkioToIoWeight(500)}`);
    expect(cg.procsFiles(id)).toEqual([join(dir, 'tscompose', id, 'cgroup.procs')]);
    expect(cg.oomCounter(id)).toEqual({ path: join(dir, 'tscompose', id, 'memory.events'), key: 'oom_kill' });
    expect(cg.hierarchyMounts()).toEqual([]);
    expect(cg.supportsBlkioWeight()).toBe(true);
  });

  it('leaves enabled controllers alone, and enables only what is missing', () => {
    const cg = fakeV2();
    writeFileSync(join(dir, 'cgroup.subtree_control'), 'cpuset cpu io memory pids\n');
    const id = 'b'.repeat(64);
    fakeChild(id);
    writeFileSync(join(dir, 'tscompose', 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    writeFileSync(join(dir, 'tscompose', 'cgroup.subtree_control'), 'memory\n');
    cg.create(id, {});
    // A host whose init (systemd) enabled them all: no write at the root.
    expect(read('cgroup.subtree_control')).toBe('cpuset cpu io memory pids\n');
    expect(read('tscompose', 'cgroup.subtree_control')).toBe('+cpu +cpuset +io +pids');
  });

  it('writes "max" for unlimited resources and maps shares and blkio weights as runc and crun do', () => {
    const cg = fakeV2();
    const id = 'd'.repeat(64);
    fakeChild(id);
    cg.create(id, {});
    const c = (f: string) => read('tscompose', id, f);
    expect([c('memory.max'), c('cpu.max'), c('pids.max'), c('memory.low'), c('memory.swap.max')]).toEqual(['max', 'max 100000', 'max', '0', 'max']);
    expect(c('cpu.weight')).toBe('100');
    // The default 1024 shares are the default weight 100; the ends map to the ends.
    expect([2, 512, 1024, 2048, 262144].map(sharesToWeight)).toEqual([1, 59, 100, 174, 10000]);
    expect([10, 500, 1000].map(blkioToIoWeight)).toEqual([1, 4950, 10000]);
    // Without swap accounting there is no memory.swap.max: the memory alone is limited, as Docker does.
    rmSync(join(dir, 'tscompose', id, 'memory.swap.max'));
    cg.create(id, { memory: 64 * 2 ** 20, memorySwap: -1 });
    expect(existsSync(join(dir, 'tscompose', id, 'memory.swap.max'))).toBe(false);
    expect(c('memory.max')).toBe(String(64 * 2 ** 20));
  });

  it('says which controller is missing when a limit needs it', () => {
    const cg = fakeV2();
    const id = 'a'.repeat(64);
    fakeChild(id, V2_FILES.filter((f) => !f.startsWith('pids.')));
    expect(() => cg.create(id, {})).not.toThrow();
    expect(() => cg.create(id, { pidsLimit: 10 })).toThrow(/no pids controller for the container \(pids.max is missing\)/);
  });

  it('reads stats from the v2 files', () => {
    const cg = fakeV2();
    const id = '9'.repeat(64);
    const child = fakeChild(id);
    writeFileSync(join(child, 'memory.current'), '7340032\n');
    writeFileSync(join(child, 'memory.max'), '33554432\n');
    writeFileSync(join(child, 'memory.stat'), 'anon 5242880\nfile 2097152\ninactive_file 1048576\n');
    writeFileSync(join(child, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
    writeFileSync(join(child, 'cpu.stat'), 'usage_usec 250000\nuser_usec 200000\nsystem_usec 50000\nnr_periods 30\nnr_throttled 12\nthrottled_usec 600000\n');
    writeFileSync(join(child, 'pids.current'), '4\n');
    writeFileSync(join(child, 'pids.max'), 'max\n');
    expect(cg.stats(id)).toEqual({
      memoryUsage: 7340032, memoryInactiveFile: 1048576, memoryLimit: 33554432,
      cpuUsageNs: 250_000_000, cpuThrottledPeriods: 12, cpuThrottledNs: 600_000_000,
      pids: 4, pidsLimit: undefined, oomKills: 1,
    });
    expect(cg.stats('8'.repeat(64))).toBeUndefined();
  });

  it('reads the processes of a container, removes an empty one, and `tscompose` with the last', async () => {
    const cg = fakeV2();
    const id = 'e'.repeat(64);
    const other = 'f'.repeat(64);
    fakeChild(id, ['cgroup.procs']);
    fakeChild(other, []);
    cg.create(id, {});
    expect(cg.pids(id)).toEqual([]);
    expect(cg.exists(id)).toBe(true);
    // A fake dir holds files, which rmdir refuses: clear them the way the kernel would not need to.
    rmSync(join(dir, 'tscompose', id, 'cgroup.procs'));
    await cg.remove(id);
    expect(cg.exists(id)).toBe(false);
    expect(existsSync(join(dir, 'tscompose'))).toBe(true);
    await cg.remove(other);
    expect(existsSync(join(dir, 'tscompose'))).toBe(false);
  });

  it('kills without freezing while the tasks only go away (a PID 1 just killed), and freezes once one forks', async () => {
    const cg = fakeV2();
    const id = 'd'.repeat(64);
    const child = fakeChild(id, ['cgroup.procs', 'cgroup.freeze']);
    // Pids above pid_max: the driver's kills find no such process, as with tasks that died meanwhile.
    const rounds = (...lists: number[][]) => {
      writeFileSync(join(child, 'cgroup.freeze'), 'untouched');
      const queue = [...lists];
      cg.pids = () => queue.shift() ?? [];
    };
    rounds([4_194_400, 4_194_401], [4_194_401]);
    await cg.killAll(id);
    expect(read('tscompose', id, 'cgroup.freeze')).toBe('untouched');
    rounds([4_194_400], [4_194_400, 4_194_402], [4_194_402]);
    await cg.killAll(id);
    expect(read('tscompose', id, 'cgroup.freeze')).toBe('0'); // frozen for the kills, thawed after
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
    // A container's `devices` come after Docker's rules.
    cg.create(id, { deviceRules: ['c 10:229 r'] });
    expect(read('devices', 'tscompose', id, 'devices.allow')).toBe([...DEFAULT_DEVICE_RULES, 'c 10:229 r'].join(''));
    expect(cg.hierarchyMounts()).toEqual(['memory', 'cpu', 'pids', 'devices'].map((d) => ({ dir: d, options: d })));
  });
});

describe('cgroup v1 driver: cpuset, block I/O weight, stats (fake tree)', () => {
  it('writes the cpuset and a weight where a weight file exists, and reads stats from v1 files', () => {
    dir = mkdtempSync(join(tmpdir(), 'tsc-cg1-'));
    const id = '7'.repeat(64);
    const h = (name: string, files: Record<string, string> = {}) => {
      mkdirSync(join(dir, name, 'tscompose', id), { recursive: true });
      for (const [f, v] of Object.entries(files)) writeFileSync(join(dir, name, f), v);
      return { mount: join(dir, name), controllers: [name] };
    };
    const cpuset = h('cpuset', { 'cpuset.cpus': '0-3', 'cpuset.mems': '0' });
    // What the kernel makes empty in a new cpuset cgroup, the parent's and the container's.
    for (const d of [join(dir, 'cpuset', 'tscompose'), join(dir, 'cpuset', 'tscompose', id)]) {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(d, f), '');
    }
    const blkio = h('blkio', { 'blkio.bfq.weight': '100' });
    const cg = new CgroupV1([cpuset, blkio, h('memory'), h('cpu'), h('cpuacct'), h('pids')]);
    expect(cg.supportsBlkioWeight()).toBe(true);
    cg.create(id, { cpusetCpus: '1-2', blkioWeight: 300 });
    expect(read('cpuset', 'tscompose', id, 'cpuset.cpus')).toBe('1-2');
    // Not asked: the parent's, as a new v1 cpuset needs.
    expect(read('cpuset', 'tscompose', id, 'cpuset.mems')).toBe('0');
    expect(read('blkio', 'tscompose', id, 'blkio.bfq.weight')).toBe('300');
    const f = (c: string, name: string, v: string) => writeFileSync(join(dir, c, 'tscompose', id, name), v);
    f('memory', 'memory.usage_in_bytes', '9437184\n');
    f('memory', 'memory.limit_in_bytes', '9223372036854771712\n');
    f('memory', 'memory.stat', 'cache 1048576\ntotal_inactive_file 524288\n');
    f('memory', 'memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    f('cpuacct', 'cpuacct.usage', '123456789\n');
    f('cpu', 'cpu.stat', 'nr_periods 10\nnr_throttled 4\nthrottled_time 5000000\n');
    f('pids', 'pids.current', '3\n');
    f('pids', 'pids.max', '20\n');
    expect(cg.stats(id)).toEqual({
      memoryUsage: 9437184, memoryInactiveFile: 524288, memoryLimit: undefined,
      cpuUsageNs: 123456789, cpuThrottledPeriods: 4, cpuThrottledNs: 5_000_000,
      pids: 3, pidsLimit: 20, oomKills: 2,
    });
    expect(new CgroupV1([h('memory')]).supportsBlkioWeight()).toBe(false);
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
