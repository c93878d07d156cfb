import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { rmdirRetry } from './v1.js';
import { cfsQuota, memoryAndSwap, type CgroupDriver, type CgroupLimits } from './types.js';

const PARENT = 'tscompose';
const CONTROLLERS = ['cpu', 'memory', 'pids'];

/** Docker/runc's mapping of cpu.shares (2..262144) onto cpu.weight (1..10000). */
export function sharesToWeight(shares: number): number {
  if (shares <= 0) return 100;
  return Math.round(1 + ((Math.min(Math.max(shares, 2), 262144) - 2) * 9999) / 262142);
}

/**
 * cgroup v2: one directory, <mount>/tscompose/<id>. Controllers must be
 * enabled in every ancestor's cgroup.subtree_control, and a cgroup with
 * children may hold no process (the no-internal-process rule), which is why
 * containers live one level under `tscompose`, never in it.
 */
export class CgroupV2 implements CgroupDriver {
  readonly version = 2 as const;

  constructor(private readonly mount: string) {}

  private dir(id: string): string {
    return join(this.mount, PARENT, id);
  }

  create(id: string, limits: CgroupLimits): void {
    const parent = join(this.mount, PARENT);
    this.enableControllers(this.mount);
    if (!existsSync(parent)) mkdirSync(parent, { recursive: true });
    this.enableControllers(parent);
    const dir = this.dir(id);
    if (!existsSync(dir)) mkdirSync(dir);
    this.writeLimits(dir, limits);
  }

  private enableControllers(dir: string): void {
    let available: string[];
    try {
      available = readFileSync(join(dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
    } catch {
      return;
    }
    const wanted = CONTROLLERS.filter((c) => available.includes(c));
    if (wanted.length) writeFileSync(join(dir, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '));
  }

  private writeLimits(dir: string, l: CgroupLimits): void {
    writeFileSync(join(dir, 'memory.max'), l.memory && l.memory > 0 ? String(l.memory) : 'max');
    const both = memoryAndSwap(l);
    // v2 limits swap alone: memory.swap.max = (memory + swap) - memory.
    const swap = both === undefined || both < 0 ? 'max' : String(Math.max(0, both - (l.memory ?? 0)));
    writeIfPresent(join(dir, 'memory.swap.max'), swap);
    writeFileSync(join(dir, 'memory.low'), l.memoryReservation && l.memoryReservation > 0 ? String(l.memoryReservation) : '0');
    const q = cfsQuota(l);
    writeFileSync(join(dir, 'cpu.max'), q ? `${q.quota} ${q.period}` : 'max 100000');
    // No shares: the kernel's default weight (100), not the weight 1024 shares would map to.
    writeFileSync(join(dir, 'cpu.weight'), l.cpuShares && l.cpuShares > 0 ? String(sharesToWeight(l.cpuShares)) : '100');
    writeFileSync(join(dir, 'pids.max'), l.pidsLimit && l.pidsLimit > 0 ? String(l.pidsLimit) : 'max');
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

  async killAll(id: string): Promise<void> {
    const dir = this.dir(id);
    if (!existsSync(dir)) return;
    // cgroup.kill (Linux 5.14) kills every task atomically, forks included.
    const atomic = existsSync(join(dir, 'cgroup.kill'));
    for (let round = 0; round < 500; round++) {
      const pids = this.pids(id);
      if (pids.length === 0) return;
      if (atomic) writeFileSync(join(dir, 'cgroup.kill'), '1');
      else for (const pid of pids) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      }
      await sleep(round < 20 ? 2 : 20);
    }
    throw new Error(`could not empty the cgroup of container ${id}`);
  }

  async remove(id: string): Promise<void> {
    if (!this.exists(id)) return;
    await this.killAll(id);
    await rmdirRetry(this.dir(id));
  }

  exists(id: string): boolean {
    return existsSync(this.dir(id));
  }

  memoryUsage(id: string): number | undefined {
    try {
      return Number(readFileSync(join(this.dir(id), 'memory.current'), 'utf8'));
    } catch {
      return undefined;
    }
  }
}

function writeIfPresent(path: string, text: string): void {
  if (existsSync(path)) writeFileSync(path, text);
}
