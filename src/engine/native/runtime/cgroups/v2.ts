import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../../../../util/errors.js';
import { ForkWatch, readKeyed, readNumber, readWords, rmdirRetry, tryWrite } from './files.js';
import { cfsQuota, cpusetUnavailable, memoryAndSwap, type CgroupDriver, type CgroupLimits, type CgroupStats } from './types.js';

const PARENT = 'tscompose';
/** What the engine's subtree gets, where the kernel has it (runc enables every controller it knows). */
const CONTROLLERS = ['cpu', 'cpuset', 'io', 'memory', 'pids'];

/**
 * Docker's mapping of cpu.shares (2..262144, default 1024) onto cpu.weight
 * (1..10000, default 100): the curve runc (opencontainers/cgroups) and crun
 * use since 2025, a quadratic in log2(shares) through both ends and 1024 ->
 * 100. (The linear map before it sent the default 1024 to 39.)
 */
export function sharesToWeight(shares: number): number {
  if (shares <= 0) return 100;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  return Math.ceil(10 ** ((l * l + 125 * l) / 612 - 7 / 34));
}

/** blkio.weight (10..1000) onto io.weight (1..10000), as runc does where BFQ's own weight file is missing. */
export function blkioToIoWeight(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * cgroup v2: one directory per container, <mount>/tscompose/<id>.
 *
 * Delegation: a controller works in a cgroup only when every ancestor has it
 * in cgroup.subtree_control, so the engine enables it at the mount's root and
 * in `tscompose`. The no-internal-process rule forbids processes in a cgroup
 * that hands controllers to children, except at the root: that is why the
 * containers live one level down, never in `tscompose` itself, and why a
 * mount root that is not the real root (a cgroup namespace holding
 * processes) cannot delegate, which is said in one sentence. No systemd is
 * needed or asked: with systemd the root already has the controllers on and
 * the writes change nothing; without it (an init that enables nothing) they
 * are what makes the limits work. `tscompose` goes with its last container.
 */
export class CgroupV2 implements CgroupDriver {
  readonly version = 2 as const;

  constructor(private readonly mount: string) {}

  private get parent(): string {
    return join(this.mount, PARENT);
  }

  private dir(id: string): string {
    return join(this.parent, id);
  }

  create(id: string, limits: CgroupLimits): void {
    const dir = this.dir(id);
    let fresh = true;
    // Another process may remove an empty `tscompose` between our steps: start over when it does.
    for (let attempt = 0; ; attempt++) {
      try {
        this.delegate();
        try {
          mkdirSync(dir);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          fresh = false;
        }
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw err;
      }
    }
    this.writeLimits(dir, limits, fresh);
  }

  private delegate(): void {
    this.enableControllers(this.mount);
    try {
      mkdirSync(this.parent);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    this.enableControllers(this.parent);
  }

  private enableControllers(dir: string): void {
    const available = readWords(join(dir, 'cgroup.controllers'));
    if (available === undefined) return;
    const enabled = readWords(join(dir, 'cgroup.subtree_control')) ?? [];
    const missing = CONTROLLERS.filter((c) => available.includes(c) && !enabled.includes(c));
    if (missing.length === 0) return;
    try {
      writeFileSync(join(dir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EBUSY') throw err;
      throw new UserError(
        `cgroup v2: cannot enable the ${missing.join(', ')} controllers in ${dir}: it holds processes and is not the root cgroup`,
        1,
        'run tscompose in the host\'s cgroup namespace, or move the processes of that cgroup into a child cgroup first (the no-internal-process rule)',
      );
    }
  }

  /** `fresh`: a cgroup just made, which has the kernel's defaults: only other values are written. */
  private writeLimits(dir: string, l: CgroupLimits, fresh = false): void {
    const setLimit = (d: string, file: string, value: string, asked: boolean) => {
      if (!(fresh && !asked && NEW_CGROUP_VALUES[file] === value)) writeLimit(d, file, value, asked);
    };
    const memory = l.memory && l.memory > 0 ? l.memory : undefined;
    setLimit(dir, 'memory.max', memory !== undefined ? String(memory) : 'max', memory !== undefined);
    const both = memoryAndSwap(l);
    // v2 limits swap alone: memory.swap.max = (memory + swap) - memory. Without swap accounting
    // the file is missing and Docker too limits the memory alone.
    const swap = both === undefined || both < 0 ? 'max' : String(Math.max(0, both - (memory ?? 0)));
    setLimit(dir, 'memory.swap.max', swap, false);
    const low = l.memoryReservation && l.memoryReservation > 0 ? l.memoryReservation : undefined;
    setLimit(dir, 'memory.low', low !== undefined ? String(low) : '0', low !== undefined);
    const q = cfsQuota(l);
    setLimit(dir, 'cpu.max', q ? `${q.quota} ${q.period}` : 'max 100000', q !== undefined);
    // No shares: the kernel's default weight (100).
    const shares = l.cpuShares && l.cpuShares > 0 ? l.cpuShares : undefined;
    setLimit(dir, 'cpu.weight', String(shares !== undefined ? sharesToWeight(shares) : 100), shares !== undefined);
    const pids = l.pidsLimit && l.pidsLimit > 0 ? l.pidsLimit : undefined;
    setLimit(dir, 'pids.max', pids !== undefined ? String(pids) : 'max', pids !== undefined);
    // Empty cpuset files mean "the parent's": only what is asked is written.
    if (l.cpusetCpus) setLimit(dir, 'cpuset.cpus', l.cpusetCpus, true);
    if (l.cpusetMems) setLimit(dir, 'cpuset.mems', l.cpusetMems, true);
    if (l.blkioWeight) {
      // BFQ's weight takes blkio's scale; the io controller's own (iocost) takes 1..10000.
      if (existsSync(join(dir, 'io.bfq.weight'))) writeFileSync(join(dir, 'io.bfq.weight'), String(l.blkioWeight));
      else if (existsSync(join(dir, 'io.weight'))) writeFileSync(join(dir, 'io.weight'), `default ${blkioToIoWeight(l.blkioWeight)}`);
    }
  }

  /** v2 has no devices controller: the helper attaches the list, as an eBPF program, to the container's directory. */
  deviceFilterCgroup(id: string): string {
    return this.dir(id);
  }

  supportsBlkioWeight(): boolean {
    return readWords(join(this.mount, 'cgroup.controllers'))?.includes('io') ?? false;
  }

  hierarchyMounts(): Array<{ dir: string; options: string }> {
    return [];
  }

  procsFiles(id: string): string[] {
    return [join(this.dir(id), 'cgroup.procs')];
  }

  oomCounter(id: string): { path: string; key: string } {
    return { path: join(this.dir(id), 'memory.events'), key: 'oom_kill' };
  }

  pids(id: string): number[] {
    try {
      return readFileSync(join(this.dir(id), 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /**
   * cgroup.kill (Linux 5.14) kills every task at once, forks in flight
   * included. Before it, the cgroup is frozen (cgroup.freeze, 5.2) so that a
   * fork bomb cannot outrun the kill loop; frozen tasks still die of SIGKILL.
   */
  async killAll(id: string): Promise<void> {
    const dir = this.dir(id);
    if (!existsSync(dir)) return;
    const atomic = existsSync(join(dir, 'cgroup.kill'));
    const forks = new ForkWatch();
    for (let round = 0; round < 500; round++) {
      const pids = this.pids(id);
      if (pids.length === 0) return;
      if (atomic) {
        writeFileSync(join(dir, 'cgroup.kill'), '1');
      } else {
        // Frozen once something forked between two rounds (see the v1 driver's killAll).
        const frozen = forks.seen(pids) && tryWrite(join(dir, 'cgroup.freeze'), '1');
        for (const pid of pids) {
          try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
        }
        if (frozen) tryWrite(join(dir, 'cgroup.freeze'), '0');
      }
      await sleep(round < 20 ? 2 : 20);
    }
    throw new Error(`could not empty the cgroup of container ${id}: processes ${this.pids(id).join(', ')} survive SIGKILL`);
  }

  async remove(id: string): Promise<void> {
    if (this.exists(id)) {
      await this.killAll(id);
      await rmdirRetry(this.dir(id));
    }
    // The last container takes `tscompose` with it; one that still has containers refuses.
    try {
      rmdirSync(this.parent);
    } catch { /* in use (EBUSY), or gone already */ }
  }

  exists(id: string): boolean {
    return existsSync(this.dir(id));
  }

  memoryUsage(id: string): number | undefined {
    return readNumber(join(this.dir(id), 'memory.current'));
  }

  stats(id: string): CgroupStats | undefined {
    const dir = this.dir(id);
    if (!existsSync(dir)) return undefined;
    const mem = readKeyed(join(dir, 'memory.stat'));
    const cpu = readKeyed(join(dir, 'cpu.stat'));
    return {
      memoryUsage: readNumber(join(dir, 'memory.current')) ?? 0,
      memoryInactiveFile: mem.get('inactive_file') ?? 0,
      memoryLimit: readNumber(join(dir, 'memory.max')),
      cpuUsageNs: (cpu.get('usage_usec') ?? 0) * 1000,
      cpuThrottledPeriods: cpu.get('nr_throttled') ?? 0,
      cpuThrottledNs: (cpu.get('throttled_usec') ?? 0) * 1000,
      pids: readNumber(join(dir, 'pids.current')) ?? 0,
      pidsLimit: readNumber(join(dir, 'pids.max')),
      oomKills: readKeyed(join(dir, 'memory.events')).get('oom_kill') ?? 0,
    };
  }
}

/**
 * Writes one interface file. A missing file means the controller is not
 * enabled here: fine when nothing was asked of it, a clear error when a limit was.
 */
/** What the kernel gives a new cgroup, for the files writeLimits writes whatever was asked. */
const NEW_CGROUP_VALUES: Record<string, string> = {
  'memory.max': 'max', 'memory.swap.max': 'max', 'memory.low': '0', 'cpu.max': 'max 100000', 'cpu.weight': '100', 'pids.max': 'max',
};

function writeLimit(dir: string, file: string, value: string, asked: boolean): void {
  const path = join(dir, file);
  const controller = file.split('.')[0]!;
  // Checked first: an open with O_CREAT of a missing cgroupfs file fails with EACCES, which says nothing.
  if (!existsSync(path)) {
    if (!asked) return;
    throw new UserError(`cgroup v2: this host has no ${controller} controller for the container (${file} is missing)`, 1,
      `drop the ${controller} limit, or enable the controller in the kernel (cgroup.controllers of the root cgroup lists what it has)`);
  }
  try {
    writeFileSync(path, value);
  } catch (err) {
    // EINVAL: not in the parent's set; ERANGE: past the CPUs the kernel knows.
    if (['EINVAL', 'ERANGE'].includes((err as NodeJS.ErrnoException).code ?? '') && controller === 'cpuset') {
      throw cpusetUnavailable(file, value, readWords(join(dir, '..', `${file}.effective`))?.join(''));
    }
    throw err;
  }
}
