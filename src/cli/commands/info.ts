import { Option, type Command } from 'commander';
import { action, type CliContext } from '../context.js';
import { hostReport, type HostReport } from '../../engine/native/engine/host-info.js';
import type { EngineInfo } from '../../engine/types.js';
import { errorMessage } from '../../util/errors.js';

/**
 * `tscompose info`: what the native engine finds on this host, as `docker
 * info` shows a daemon's: the kernel and the interfaces it lacks, cgroups,
 * overlayfs, the firewall, the host programs, the state roots, the daemon,
 * and what the engine holds. What would stop the engine is listed under
 * WARNING, one line each; info itself exits 0 whatever it finds.
 */
export function register(program: Command): void {
  program
    .command('info')
    .description("Display what the engine finds on this host (kernel, cgroups, overlayfs, firewall, host programs, state)")
    .addOption(new Option('--format <format>', 'Format the output').choices(['text', 'json']).default('text'))
    .action(action(runInfo));
}

interface Counts {
  containers: { total: number; running: number; paused: number; stopped: number };
  images: number;
}

async function runInfo(ctx: CliContext, f: { format: string }): Promise<void> {
  const host = await hostReport();
  let engine: EngineInfo | undefined;
  let counts: Counts | undefined;
  let engineError: string | undefined;
  // Open the engine only where it would open: a refusal is already in the problems.
  if (ctx.globals.backend === 'docker' || !host.problems.length) {
    try {
      const e = await ctx.engine();
      engine = await e.info();
      const list = await e.containers.list({ all: true });
      const running = list.filter((c) => c.state === 'running').length;
      const paused = list.filter((c) => c.state === 'paused').length;
      counts = { containers: { total: list.length, running, paused, stopped: list.length - running - paused }, images: (await e.images.list()).length };
    } catch (err) {
      engineError = errorMessage(err);
    }
  }
  if (f.format === 'json') {
    process.stdout.write(`${JSON.stringify({ ...host, engine, counts, engineError })}\n`);
    return;
  }
  process.stdout.write(renderInfo(host, engine, counts, engineError));
}

const yesNo = (b: boolean | undefined, unknown = 'unknown') => (b === undefined ? unknown : b ? 'yes' : 'no');

export function renderInfo(h: HostReport, engine?: EngineInfo, counts?: Counts, engineError?: string): string {
  const lines: string[] = [];
  const kv = (k: string, v: string | number) => lines.push(` ${k}: ${v}`);
  lines.push('Client:');
  kv('Version', h.tscompose.version);
  kv('Node.js', h.tscompose.node);
  kv('Helper', h.tscompose.helper ?? 'none for this machine');
  if (h.tscompose.codeCache) kv('Code cache', h.tscompose.codeCache);
  lines.push('', 'Engine:');
  if (engine) {
    kv('Backend', engine.backend);
    kv('Name', engine.name);
    kv('Version', engine.version + (engine.apiVersion ? ` (API ${engine.apiVersion})` : ''));
  } else kv('Backend', engineError ? `not available: ${engineError}` : 'native (not opened: see the warnings)');
  if (counts) {
    const c = counts.containers;
    kv('Containers', `${c.total} (running ${c.running}, paused ${c.paused}, stopped ${c.stopped})`);
    kv('Images', counts.images);
  }
  kv('State root', h.stateRoot);
  kv('Run root', h.runRoot);
  kv('Daemon', h.daemon ? `running (pid ${h.daemon.pid}: ${h.daemon.services.join(', ') || 'idle'})` : 'not running (started on demand)');
  lines.push('', 'Host:');
  kv('Kernel version', h.kernel.release);
  kv('Operating system', h.kernel.os ?? 'unknown');
  kv('Architecture', h.kernel.arch);
  kv('CPUs', h.kernel.cpus);
  kv('Total memory', `${(h.kernel.memoryBytes / 2 ** 30).toFixed(1)} GiB`);
  kv('Running as root', yesNo(h.root));
  if (h.kernelInterfaces) {
    const k = h.kernelInterfaces;
    kv(`Kernel interfaces (floor: Linux ${k.floor})`, k.missing.length ? `missing ${k.missing.map((m) => m.feature).join(', ')}` : 'all present');
    kv('Fallbacks in use', k.fallbacks.length ? k.fallbacks.map((x) => `${x.feature} (Linux ${x.since})`).join(', ') : 'none');
  }
  if (h.cgroups) {
    kv('Cgroup version', `${h.cgroups.version} (${h.cgroups.mounts.length > 1 ? `${h.cgroups.mounts.length} hierarchies under ${commonDir(h.cgroups.mounts)}` : h.cgroups.mounts[0]})`);
    kv('Cgroup controllers', h.cgroups.controllers.join(' ') || 'none');
  }
  kv('Overlay filesystem', yesNo(h.overlay.filesystem));
  kv('Overlay lowerdir+', yesNo(h.overlay.lowerdirPlus, 'unknown (probed as root)'));
  const params = Object.entries(h.overlay.parameters);
  if (params.length) kv('Overlay parameters', params.map(([k, v]) => `${k}=${v}`).join(' '));
  kv('Firewall', h.firewall ? `iptables ${h.firewall.version} (${h.firewall.backend === 'nf_tables' ? 'nftables' : h.firewall.backend})` : 'iptables not found');
  lines.push(' Host programs:');
  for (const t of h.tools) lines.push(`  ${t.name}: ${t.path ?? `missing (package ${t.package}; for ${t.for})`}`);
  for (const p of h.problems) lines.push(`WARNING: ${p}`);
  return `${lines.join('\n')}\n`;
}

function commonDir(paths: string[]): string {
  const parts = paths.map((p) => p.split('/'));
  const out: string[] = [];
  for (let i = 0; parts.every((p) => p[i] !== undefined && p[i] === parts[0]![i]); i++) out.push(parts[0]![i]!);
  return out.join('/') || '/';
}
