import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ForkWatch, readKeyed, readNumber, rmdirRetry, tryWrite } from './files.js';
import { cfsQuota, cpusetUnavailable, memoryAndSwap, DEFAULT_DEVICE_RULES, type CgroupDriver, type CgroupLimits, type CgroupStats } from './types.js';

export interface V1Hierarchy {
  /** Mount point, e.g. /sys/fs/cgroup/memory. */
  mount: string;
  /** Controllers (or "name=systemd") this hierarchy carries. */
  controllers: string[];
}

const PARENT = 'tscompose';

/**
 * cgroup v1: the container gets a directory in every mounted hierarchy, so
 * that /proc/self/cgroup inside reads "/" everywhere under its cgroup
 * namespace, and limits go to the hierarchy that carries each controller.
 */
export class CgroupV1 implements CgroupDriver {
  readonly version = 1 as const;

  /** Parents known to exist: checked once per process, not per container. */
  private readonly parents = new Set<string>();

  constructor(private readonly hierarchies: V1Hierarchy[]) {}

  private find(controller: string): string | undefined {
    return this.hierarchies.find((h) => h.controllers.includes(controller))?.mount;
  }

  private dirs(id: string): string[] {
    return this.hierarchies.map((h) => join(h.mount, PARENT, id));
  }

  private dir(controller: string, id: string): string | undefined {
    const mount = this.find(controller);
    return mount && join(mount, PARENT, id);
  }

  create(id: string, limits: CgroupLimits): void {
    let fresh = true;
    for (const h of this.hierarchies) {
      const parent = join(h.mount, PARENT);
      const dir = join(parent, id);
      const cpuset = h.controllers.includes('cpuset');
      if (!this.parents.has(parent)) {
        mkdirIfMissing(parent);
        if (cpuset) inheritCpuset(h.mount, parent);
        this.parents.add(parent);
      }
      try {
        mkdirSync(dir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          // The parent went away under us (removed by hand): make it again.
          this.parents.delete(parent);
          return this.create(id, limits);
        }
        if (code !== 'EEXIST') throw err;
        fresh = false;
      }
      // A new cpuset cgroup starts with no CPUs and no memory nodes: nothing could join it.
      if (cpuset) inheritCpuset(parent, dir);
    }
    this.writeLimits(id, limits, fresh);
  }

  /**
   * `fresh`: cgroups just made, with the kernel's defaults (no memory or pids limit, the default CFS
   * period, no quota, 1024 shares): the files a limit would change are written only for a limit.
   * The device list is written always: a new devices cgroup inherits its parent's.
   */
  private writeLimits(id: string, l: CgroupLimits, fresh = false): void {
    const mem = this.dir('memory', id);
    const memoryAsked = (l.memory ?? 0) > 0 || (memoryAndSwap(l) ?? 0) > 0 || (l.memoryReservation ?? 0) > 0;
    if (mem && !(fresh && !memoryAsked)) {
      const limit = l.memory && l.memory > 0 ? String(l.memory) : '-1';
      const both = memoryAndSwap(l);
      const swapFile = join(mem, 'memory.memsw.limit_in_bytes');
      const hasSwapAccounting = existsSync(swapFile);
      // The kernel refuses memory > memsw: raise memsw first when growing, lower it last when shrinking.
      if (hasSwapAccounting) writeFileSync(swapFile, '-1');
      writeFileSync(join(mem, 'memory.limit_in_bytes'), limit);
      if (hasSwapAccounting && both !== undefined && both > 0) writeFileSync(swapFile, String(both));
      writeFileSync(join(mem, 'memory.soft_limit_in_bytes'), l.memoryReservation && l.memoryReservation > 0 ? String(l.memoryReservation) : '-1');
    }
    const cpu = this.dir('cpu', id);
    if (cpu && !(fresh && !cfsQuota(l) && !((l.cpuShares ?? 0) > 0))) {
      const q = cfsQuota(l);
      writeFileSync(join(cpu, 'cpu.cfs_period_us'), String(q?.period ?? 100_000));
      writeFileSync(join(cpu, 'cpu.cfs_quota_us'), q ? String(q.quota) : '-1');
      writeFileSync(join(cpu, 'cpu.shares'), String(l.cpuShares && l.cpuShares > 0 ? l.cpuShares : 1024));
    }
    const pids = this.dir('pids', id);
    if (pids && !(fresh && !((l.pidsLimit ?? 0) > 0))) writeFileSync(join(pids, 'pids.max'), l.pidsLimit && l.pidsLimit > 0 ? String(l.pidsLimit) : 'max');
    const cpuset = this.dir('cpuset', id);
    for (const [file, value] of [['cpuset.cpus', l.cpusetCpus], ['cpuset.mems', l.cpusetMems]] as const) {
      if (!value || !cpuset) continue;
      try {
        writeFileSync(join(cpuset, file), value);
      } catch (err) {
        // EINVAL: not in the parent's set; ERANGE: past the CPUs the kernel knows.
        if (!['EINVAL', 'ERANGE'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
        throw cpusetUnavailable(file, value, readFileSync(join(cpuset, '..', file), 'utf8').trim());
      }
    }
    const weight = l.blkioWeight ? this.blkioWeightFile(id) : undefined;
    if (weight) writeFileSync(weight, String(l.blkioWeight));
    const devices = this.dir('devices', id);
    if (devices) {
      if (l.allDevices) {
        writeFileSync(join(devices, 'devices.allow'), 'a');
      } else {
        writeFileSync(join(devices, 'devices.deny'), 'a');
        // One rule per write(2), as the kernel wants, but one open for them all.
        const fd = openSync(join(devices, 'devices.allow'), 'w');
        try {
          for (const rule of [...DEFAULT_DEVICE_RULES, ...(l.deviceRules ?? [])]) writeSync(fd, rule);
        } finally {
          closeSync(fd);
        }
      }
    }
  }

  /** CFQ's blkio.weight went with Linux 5.0; BFQ's takes the same scale where BFQ is loaded. */
  private blkioWeightFile(id?: string): string | undefined {
    const mount = this.find('blkio');
    if (!mount) return undefined;
    const name = ['blkio.weight', 'blkio.bfq.weight'].find((f) => existsSync(join(mount, f)));
    return name && (id ? join(mount, PARENT, id, name) : join(mount, name));
  }

  /** v1's devices controller keeps the list (create writes it). */
  deviceFilterCgroup(): undefined {
    return undefined;
  }

  supportsBlkioWeight(): boolean {
    return this.blkioWeightFile() !== undefined;
  }

  hierarchyMounts(): Array<{ dir: string; options: string }> {
    return this.hierarchies.filter((h) => h.controllers.length).map((h) => ({ dir: basename(h.mount), options: h.controllers.join(',') }));
  }

  /**
   * `tasks`, not `cgroup.procs`: the joining process is single-threaded and
   * writes "0" (itself), which the kernel moves without taking the global
   * threadgroup lock, and so without the RCU grace period that costs a
   * cgroup.procs write 10-20 ms on a busy host.
   */
  procsFiles(id: string): string[] {
    return this.dirs(id).map((d) => join(d, 'tasks'));
  }

  oomCounter(id: string): { path: string; key: string } | undefined {
    const mem = this.dir('memory', id);
    return mem ? { path: join(mem, 'memory.oom_control'), key: 'oom_kill' } : undefined;
  }

  pids(id: string): number[] {
    const seen = new Set<number>();
    for (const d of this.dirs(id)) {
      let text: string;
      try {
        text = readFileSync(join(d, 'cgroup.procs'), 'utf8');
      } catch {
        continue;
      }
      for (const l of text.split('\n')) if (l) seen.add(Number(l));
    }
    return [...seen];
  }

  async killAll(id: string): Promise<void> {
    const freezer = this.dir('freezer', id);
    const forks = new ForkWatch();
    for (let round = 0; round < 500; round++) {
      const pids = this.pids(id);
      if (pids.length === 0) return;
      // Freeze first once something forked between two rounds, so that a fork bomb cannot outrun the
      // kill loop; frozen tasks still die of SIGKILL. Not before: a write to freezer.state takes
      // 6-13 ms of this thread (measured on this host's v1 hierarchy), paid twice per stop of a
      // `down` where PID 1 just died and took its namespace with it (0.6 s of a fan-out of 30).
      const frozen = forks.seen(pids) && freezer !== undefined && existsSync(freezer) && tryWrite(join(freezer, 'freezer.state'), 'FROZEN');
      for (const pid of pids) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      }
      if (frozen) tryWrite(join(freezer!, 'freezer.state'), 'THAWED');
      await sleep(round < 20 ? 2 : 20);
    }
    throw new Error(`could not empty the cgroup of container ${id}: processes ${this.pids(id).join(', ')} survive SIGKILL`);
  }

  async remove(id: string): Promise<void> {
    if (!this.exists(id)) return;
    await this.killAll(id);
    for (const d of this.dirs(id)) await rmdirRetry(d);
  }

  exists(id: string): boolean {
    return this.dirs(id).some((d) => existsSync(d));
  }

  memoryUsage(id: string): number | undefined {
    const mem = this.dir('memory', id);
    return mem ? readNumber(join(mem, 'memory.usage_in_bytes')) : undefined;
  }

  stats(id: string): CgroupStats | undefined {
    if (!this.exists(id)) return undefined;
    const file = (controller: string, name: string) => join(this.dir(controller, id) ?? '/nonexistent', name);
    const mem = readKeyed(file('memory', 'memory.stat'));
    const cpu = readKeyed(file('cpu', 'cpu.stat'));
    return {
      memoryUsage: readNumber(file('memory', 'memory.usage_in_bytes')) ?? 0,
      memoryInactiveFile: mem.get('total_inactive_file') ?? 0,
      memoryLimit: readNumber(file('memory', 'memory.limit_in_bytes')),
      cpuUsageNs: readNumber(file('cpuacct', 'cpuacct.usage')) ?? 0,
      cpuThrottledPeriods: cpu.get('nr_throttled') ?? 0,
      cpuThrottledNs: cpu.get('throttled_time') ?? 0,
      pids: readNumber(file('pids', 'pids.current')) ?? 0,
      pidsLimit: readNumber(file('pids', 'pids.max')),
      oomKills: readKeyed(file('memory', 'memory.oom_control')).get('oom_kill') ?? 0,
    };
  }
}

function mkdirIfMissing(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

function inheritCpuset(from: string, to: string): void {
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    const current = readFileSync(join(to, f), 'utf8').trim();
    if (current === '') writeFileSync(join(to, f), readFileSync(join(from, f), 'utf8').trim());
  }
}
