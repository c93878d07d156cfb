import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../../../src/util/proc.js';

/**
 * What a check of the engine suite works with, the same in a VM and on the
 * host: the CLI as a user runs it (each call kept in the check's
 * transcript, which a failure shows), and the host side of the container's
 * cgroup, read straight from the kernel's files for whichever cgroup layout
 * this machine has.
 */

export interface SuiteConfig {
  /** bin/tscompose of the checkout under test, and its C helper. */
  cli: string;
  helper: string;
  /** The busybox image, as a rootfs tar made on the host before the run. */
  imageTar: string;
  /** Where each check's result goes, one JSON line each. */
  results: string;
  /** A free port on this machine's loopback for the published-port check. */
  port: number;
  /** "vm" when the suite runs as a VM's whole job (it may then expect the machine to be its own). */
  target: 'vm' | 'host';
  /** The cgroup version the harness booted: 2 for the VMs; undefined on the host (whatever it has). */
  expectCgroup?: 1 | 2;
  /** In a VM, how the cgroup tree was laid out before the suite (test/vm/harness/run-suite.ts). */
  cgroupLayout?: 'bare' | 'systemd';
}

export interface CheckResult {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
  transcript: string;
}

export interface Check {
  name: string;
  run(ctx: Ctx): Promise<void>;
}

export const IMAGE = 'vmsuite/busybox:1';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The cgroup mounts of this machine: the v2 mount, or the v1 hierarchy of each controller. */
export class HostCgroups {
  readonly version: 1 | 2;
  readonly v2?: string;
  readonly v1 = new Map<string, string>();

  constructor() {
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const sep = line.indexOf(' - ');
      if (sep < 0) continue;
      const mountPoint = line.slice(0, sep).split(' ')[4]!;
      const [fstype, , options = ''] = line.slice(sep + 3).split(' ');
      if (fstype === 'cgroup2') this.v2 ??= mountPoint;
      if (fstype === 'cgroup') for (const o of options.split(',')) if (!this.v1.has(o)) this.v1.set(o, mountPoint);
    }
    this.version = this.v1.has('memory') ? 1 : 2;
  }

  /** The container's directory for a controller (v1), or its one directory (v2). */
  dir(id: string, controller = 'memory'): string {
    const mount = this.version === 2 ? this.v2 : this.v1.get(controller);
    if (!mount) throw new Error(`this host has no ${controller} cgroup`);
    return join(mount, 'tscompose', id);
  }

  /** Reads one of the container's files, by its v2 name or its v1 [controller, name]. */
  read(id: string, names: { v2?: string; v1?: [string, string] }): string {
    const path = this.version === 2
      ? names.v2 && join(this.dir(id), names.v2)
      : names.v1 && join(this.dir(id, names.v1[0]), names.v1[1]);
    if (!path) throw new Error(`no cgroup v${this.version} file given for ${JSON.stringify(names)}`);
    return readFileSync(path, 'utf8').trim();
  }

  /** Every directory of this container in any hierarchy (none after it is removed). */
  dirsOf(id: string): string[] {
    const mounts = this.version === 2 ? [this.v2!] : [...new Set(this.v1.values())];
    return mounts.map((m) => join(m, 'tscompose', id)).filter((d) => existsSync(d));
  }

  /** "key value" lines as a map (memory.events, cpu.stat, pids.events). */
  keyed(text: string): Map<string, number> {
    return new Map(text.split('\n').filter(Boolean).map((l) => {
      const [k, v] = l.split(' ');
      return [k!, Number(v)];
    }));
  }
}

export class Ctx {
  readonly cgroups = new HostCgroups();
  /** Containers this suite made: what the leak checks look for. */
  readonly containers = new Set<string>();
  transcript = '';
  /** While waitFor polls, each call's output is cut short in the transcript. */
  private polling = false;

  constructor(readonly config: SuiteConfig) {}

  note(text: string): void {
    this.transcript += `${text}\n`;
  }

  /** Runs the CLI; a non-zero exit throws (with the output) unless `allowFail`. */
  async cli(args: string[], opts: { allowFail?: boolean; cwd?: string; input?: string } = {}): Promise<CliResult> {
    const started = Date.now();
    const r = await run(this.config.cli, args, { cwd: opts.cwd ?? process.cwd(), ...(opts.input !== undefined ? { input: opts.input } : {}) });
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    const shown = (text: string) => (this.polling && text.length > 300 ? `${text.slice(0, 300)}...` : text).trimEnd();
    this.note(`$ tscompose ${args.join(' ')}    [exit ${r.code}, ${secs} s]${r.stdout ? `\n${shown(r.stdout)}` : ''}${r.stderr ? `\n(stderr) ${shown(r.stderr)}` : ''}`);
    if (r.code !== 0 && !opts.allowFail) throw new Error(`tscompose ${args.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  }

  /**
   * Runs `fn` with a detached container named `name` (its id, remembered for the leak checks), and removes
   * the container afterwards whatever happened, also when it was created but could not start.
   */
  async withContainer(name: string, args: string[], fn: (id: string, run: CliResult) => Promise<void>): Promise<void> {
    try {
      const run = await this.cli(['container', 'run', '-d', '--name', name, ...args]);
      const id = run.stdout.trim();
      if (!/^[0-9a-f]{64}$/.test(id)) throw new Error(`container run -d printed no id: ${JSON.stringify(id)}`);
      this.containers.add(id);
      await fn(id, run);
    } finally {
      await this.cli(['container', 'rm', '-f', name], { allowFail: true });
    }
  }

  async inspect(ref: string): Promise<Record<string, any>> {
    return JSON.parse((await this.cli(['container', 'inspect', ref])).stdout)[0];
  }

  /** Polls until `probe` returns a value (not undefined), or fails naming what it waited for. */
  async waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    this.polling = true;
    try {
      for (;;) {
        const v = await probe();
        if (v !== undefined) return v;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
        await sleep(200);
      }
    } finally {
      this.polling = false;
    }
  }
}

/** Pids of the processes whose argv passes `match`. */
export function processesWhere(match: (argv: string[]) => boolean): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      if (match(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'))) out.push(Number(pid));
    } catch { /* gone */ }
  }
  return out;
}

/** The monitors of these containers (each renames itself "tsc-monitor <12 hex of its id>"). */
export function monitorsOf(ids: Iterable<string>): number[] {
  const short = new Set([...ids].map((id) => id.slice(0, 12)));
  return processesWhere((argv) => argv[0]?.startsWith('tsc-monitor ') === true && short.has(argv[0].slice(12, 24)));
}

/** The network daemon serving a run root. */
export function daemonsOf(runRoot: string): number[] {
  return processesWhere((argv) => argv.includes('--run-root') && argv[argv.indexOf('--run-root') + 1] === runRoot);
}
