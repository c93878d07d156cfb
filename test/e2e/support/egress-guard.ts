import { run, runOk } from '../../../src/util/proc.js';

/**
 * Proof that no packet left a project's networks: an iptables chain, hooked
 * first into the chain that sees the containers' forwarded traffic
 * (DOCKER-USER on Docker), that lets traffic within a watched subnet and to
 * 127.0.0.0/8 pass and DROPs, and counts, anything else from it. Its counter
 * must be 0 at the end; and since the rule drops, nothing got out while the
 * test ran even if the count is not 0.
 *
 * Traffic from a container to the host itself (the gateway address, the
 * published ports' proxy) goes through INPUT, not FORWARD, and is not counted:
 * it stays on the machine.
 *
 * The chain is named after this process (TSC-E2E-<pid>), so that a later run
 * removes the chains of runs that died before their clean-up.
 */
const PREFIX = 'TSC-E2E-';

async function ipt(...args: string[]): Promise<string> {
  return runOk('iptables', ['-w', ...args]);
}

export class EgressGuard {
  readonly chain = `${PREFIX}${process.pid}`;
  private hook = '';
  /** Packets dropped by rules already removed (a subnet unwatched after `down`). */
  private droppedBefore = 0;
  private readonly watched = new Set<string>();

  private constructor() {}

  static async install(hook: string): Promise<EgressGuard> {
    await removeStaleGuards();
    const guard = new EgressGuard();
    guard.hook = hook;
    await removeChain(guard.chain); // the leftover of an earlier process with the same pid
    await ipt('-N', guard.chain);
    await ipt('-I', hook, '1', '-j', guard.chain);
    return guard;
  }

  /**
   * Starts counting (and dropping) what leaves `subnet`. The guard's jump is
   * moved to the head of its hook again first: an engine that inserts its own
   * jump first when it makes a network (ours in FORWARD) may have got ahead.
   */
  async watch(subnet: string): Promise<void> {
    if (this.hook) {
      await run('iptables', ['-w', '-D', this.hook, '-j', this.chain]);
      await ipt('-I', this.hook, '1', '-j', this.chain);
    }
    if (this.watched.has(subnet)) return;
    for (const rule of rulesFor(subnet)) await ipt('-A', this.chain, ...rule);
    this.watched.add(subnet);
  }

  /** Stops watching a subnet (its network is gone, and another project may get it next); its count is kept. */
  async unwatch(subnet: string): Promise<void> {
    if (!this.watched.has(subnet)) return;
    this.droppedBefore += await this.countFor(subnet);
    for (const rule of rulesFor(subnet)) await run('iptables', ['-w', '-D', this.chain, ...rule]);
    this.watched.delete(subnet);
  }

  async unwatchAll(): Promise<void> {
    for (const s of [...this.watched]) await this.unwatch(s);
  }

  get subnets(): string[] {
    return [...this.watched];
  }

  /** Packets from watched subnets to anywhere outside them and outside 127.0.0.0/8, since install. */
  async dropped(): Promise<number> {
    let n = this.droppedBefore;
    for (const s of this.watched) n += await this.countFor(s);
    return n;
  }

  /** True when the drop rule for `subnet` is in the kernel (checked before a probe is sent). */
  async isDropping(subnet: string): Promise<boolean> {
    const drop = rulesFor(subnet)[2]!;
    return (await run('iptables', ['-w', '-C', this.chain, ...drop])).code === 0;
  }

  async remove(): Promise<void> {
    await removeChain(this.chain);
  }

  private async countFor(subnet: string): Promise<number> {
    // -L -v -x: "pkts bytes target prot opt in out source destination", exact numbers.
    const out = await ipt('-L', this.chain, '-n', '-v', '-x');
    let n = 0;
    for (const line of out.split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f[2] === 'DROP' && f[7] === subnet) n += Number(f[0]);
    }
    return n;
  }
}

function rulesFor(subnet: string): string[][] {
  return [
    ['-s', subnet, '-d', subnet, '-j', 'RETURN'],
    ['-s', subnet, '-d', '127.0.0.0/8', '-j', 'RETURN'],
    ['-s', subnet, '-m', 'comment', '--comment', 'e2e: left the project network', '-j', 'DROP'],
  ];
}

/** Deletes every jump to the chain, then the chain; no error when it does not exist. */
async function removeChain(chain: string): Promise<void> {
  const rules = await ipt('-S');
  for (const line of rules.split('\n')) {
    const m = /^-A (\S+) (.*)-j (\S+)$/.exec(line.trim());
    if (m && m[3] === chain) await run('iptables', ['-w', '-D', m[1]!, ...`${m[2]}-j ${chain}`.split(/\s+/).filter(Boolean)]);
  }
  await run('iptables', ['-w', '-F', chain]);
  await run('iptables', ['-w', '-X', chain]);
}

async function removeStaleGuards(): Promise<void> {
  const rules = await ipt('-S');
  for (const line of rules.split('\n')) {
    const m = new RegExp(`^-N (${PREFIX}(\\d+))$`).exec(line.trim());
    if (m && !processAlive(Number(m[2]))) await removeChain(m[1]!);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
