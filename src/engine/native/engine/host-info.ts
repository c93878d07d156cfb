import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseCgroupMounts } from '../runtime/cgroups/index.js';
import { helperPath } from '../runtime/helper.js';
import { KERNEL_FLOOR, parseProbe, type MissingFeature } from '../runtime/kernel.js';
import { daemonPing } from '../../../network/daemon/client.js';
import { ENGINE_TOOLS, HOST_TOOLS, MissingHostToolError, findTool } from '../../../util/host-tools.js';
import { errorMessage } from '../../../util/errors.js';
import { runRoot, stateRoot } from '../../../util/paths.js';
import { VERSION } from '../../../util/version.js';

/**
 * What the native engine finds on this host, as `tscompose info` prints it
 * (Docker's `docker info`): the kernel and what it lacks, cgroups, overlayfs,
 * the firewall, the host programs, where state lives. Reading it changes
 * nothing and never fails: what cannot be read is reported as such, and what
 * the engine would refuse is listed in `problems`, one line each, as the
 * engine would say it.
 */
export interface HostReport {
  tscompose: { version: string; node: string; helper?: string; codeCache?: string };
  kernel: { release: string; arch: string; os?: string; cpus: number; memoryBytes: number };
  root: boolean;
  /** The floor's interfaces the kernel lacks, and the newer ones whose fallbacks are in use (`tsc-helper probe`). */
  kernelInterfaces?: { floor: string; missing: MissingFeature[]; fallbacks: MissingFeature[] };
  cgroups?: { version: 1 | 2; mounts: string[]; controllers: string[] };
  overlay: { filesystem: boolean; lowerdirPlus?: boolean; parameters: Record<string, string> };
  firewall?: { program: string; version: string; backend: 'nf_tables' | 'legacy' | 'unknown' };
  tools: Array<{ name: string; package: string; for: string; path?: string }>;
  stateRoot: string;
  runRoot: string;
  daemon?: { pid: number; services: string[] };
  /** Each as one line: what would stop the native engine here. */
  problems: string[];
}

/** Reads the host; `problems` lists what the native engine would refuse. */
export async function hostReport(): Promise<HostReport> {
  const problems: string[] = [];
  const root = process.getuid?.() === 0;
  if (!root) problems.push('the native engine needs root: containers are made of namespaces, cgroups and mounts');

  let helper: string | undefined;
  try {
    helper = helperPath();
  } catch (err) {
    problems.push(errorMessage(err));
  }

  const tools = Object.entries(HOST_TOOLS).map(([name, t]) => ({ name, ...t, ...optional('path', findTool(name)) }));
  const missingTools = ENGINE_TOOLS.filter((t) => !tools.find((x) => x.name === t)?.path);
  if (missingTools.length) problems.push(new MissingHostToolError(missingTools).message);

  const kernelInterfaces = helper ? probeKernel(helper, problems) : undefined;
  const fallbackOverlay = kernelInterfaces?.fallbacks.some((f) => f.feature === 'lowerdir+');
  const filesystems = readText('/proc/filesystems') ?? '';

  return {
    tscompose: { version: VERSION, node: process.version, ...optional('helper', helper), ...optional('codeCache', codeCacheDir()) },
    kernel: { release: release(), arch: process.arch, ...optional('os', osName()), cpus: cpus().length, memoryBytes: totalmem() },
    root,
    ...optional('kernelInterfaces', kernelInterfaces),
    ...optional('cgroups', cgroupReport(problems)),
    overlay: {
      filesystem: /\toverlay$/m.test(filesystems),
      // Known only from a probe that ran as root with no floor interface missing.
      ...optional('lowerdirPlus', kernelInterfaces && root && !kernelInterfaces.missing.length ? !fallbackOverlay : undefined),
      parameters: overlayParameters(),
    },
    ...optional('firewall', firewallReport()),
    tools,
    stateRoot: stateRoot(),
    runRoot: runRoot(),
    ...optional('daemon', root ? await daemonPing() : undefined),
    problems,
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function probeKernel(helper: string, problems: string[]): HostReport['kernelInterfaces'] {
  const r = spawnSync(helper, ['probe'], { encoding: 'utf8' });
  try {
    if (r.error) throw r.error;
    const missing = parseProbe(r.stdout);
    const fallbacks = [...r.stdout.matchAll(/^fallback (\S+) (\S+)$/gm)].map((m) => ({ feature: m[1]!, since: m[2]! }));
    for (const m of missing) {
      problems.push(m.since === '-' ? `this kernel has no ${m.feature} filesystem (modprobe ${m.feature})` : `this kernel lacks ${m.feature} (Linux ${m.since}); tscompose's engine needs Linux ${KERNEL_FLOOR} or later`);
    }
    return { floor: KERNEL_FLOOR, missing, fallbacks };
  } catch (err) {
    problems.push(`the kernel probe failed: ${errorMessage(err)}`);
    return undefined;
  }
}

function osName(): string | undefined {
  return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readText('/etc/os-release') ?? '')?.[1];
}

/** Which hierarchy the runtime uses (the one with the memory controller, as hostCgroups picks) and its controllers. */
function cgroupReport(problems: string[]): HostReport['cgroups'] {
  const mounts = parseCgroupMounts(readText('/proc/self/mountinfo') ?? '');
  if (mounts.v1.some((h) => h.controllers.includes('memory'))) {
    const controllers = [...new Set(mounts.v1.flatMap((h) => h.controllers).filter((c) => !c.startsWith('name=')))].sort();
    return { version: 1, mounts: mounts.v1.map((h) => h.mount), controllers };
  }
  if (mounts.v2) {
    const controllers = (readText(join(mounts.v2, 'cgroup.controllers')) ?? '').trim().split(/\s+/).filter(Boolean).sort();
    return { version: 2, mounts: [mounts.v2], controllers };
  }
  problems.push('no cgroup hierarchy is mounted (expected /sys/fs/cgroup)');
  return undefined;
}

/** The overlay module's parameters (redirect_dir, index, metacopy, xino_auto...), when it is loaded. */
function overlayParameters(): Record<string, string> {
  const dir = '/sys/module/overlay/parameters';
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const value = readText(join(dir, name))?.trim();
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** The iptables the network code drives, and which kernel backend it speaks to ("v1.8.9 (nf_tables)"). */
function firewallReport(): HostReport['firewall'] {
  const program = findTool('iptables');
  if (!program) return undefined;
  const r = spawnSync(program, ['--version'], { encoding: 'utf8' });
  const m = /v([\d.]+)(?:\s+\((\w+)\))?/.exec(r.stdout ?? '');
  if (!m) return undefined;
  const backend = m[2] === 'nf_tables' ? 'nf_tables' : m[2] === 'legacy' ? 'legacy' : 'unknown';
  return { program, version: m[1]!, backend };
}

/** Where the bundle's launcher keeps V8's code cache (scripts/compile-cache.cjs says so on a global), when this runs from the bundle. */
function codeCacheDir(): string | undefined {
  const info = (globalThis as Record<symbol, unknown>)[Symbol.for('tscompose.codeCache')] as { dir?: string; usable?: boolean } | undefined;
  if (!info?.dir) return undefined;
  return info.usable ? info.dir : `${info.dir} (not usable: not this user's own, or not writable)`;
}
