import { existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, runOk } from '../../src/util/proc.js';
import { lockHolder } from '../../src/util/lock.js';
import { hostRunRoot } from '../../src/util/paths.js';
import { rootTag } from '../../src/network/names.js';
import { applyFirewall, withHostLock } from '../../src/network/firewall.js';

/**
 * The leak checker: what a network test may leave behind, looked for in the
 * kernel and on disk, for one state/run root (tests run in parallel, each
 * with its own roots; our links and rules carry the roots' tag):
 * - links named tsc-* whose alias carries the tag,
 * - mounts (namespace handles) and files under the run root,
 * - iptables rules with the tag; and when no root has a rule left, any
 *   TSCOMPOSE chain or jump at all,
 * - a daemon process serving the run root, or its keeper,
 * - a stale host-wide lock file (one no live process holds).
 */

export interface Leaks {
  links: string[];
  mounts: string[];
  files: string[];
  rules: string[];
  daemons: number[];
  keepers: number[];
  locks: string[];
}

const HOST_LOCK = join(hostRunRoot(), 'network.lock');

export function taggedLinkNames(tag = rootTag()): string[] {
  return readdirSync('/sys/class/net').filter((name) => {
    if (!name.startsWith('tsc-')) return false;
    try {
      return readFileSync(`/sys/class/net/${name}/ifalias`, 'utf8').includes(`tscompose/${tag}/`);
    } catch {
      return false;
    }
  });
}

export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`));
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

export async function ruleLines(tag = rootTag()): Promise<{ ours: string[]; anyTagged: boolean; skeleton: string[] }> {
  const saved = (await runOk('iptables-save', [])).split('\n');
  return {
    ours: saved.filter((l) => l.includes(`tscompose:${tag}:`)),
    anyTagged: saved.some((l) => l.includes('tscompose:')),
    skeleton: saved.filter((l) => l.includes('TSCOMPOSE')),
  };
}

/** The daemons serving the run root (`keepers: true`: their keepers, `tsc-helper keep ... -- node .../daemon/main.js`, instead). */
export function daemonPids(runRoot: string, opts: { keepers?: boolean } = {}): number[] {
  const pids: number[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const keeper = argv[1] === 'keep';
      if (argv.some((a) => a.endsWith('daemon/main.js')) && argv.includes(runRoot) && keeper === (opts.keepers ?? false)) pids.push(Number(pid));
    } catch { /* gone */ }
  }
  return pids;
}

/** The keepers of the run root's daemon. */
export function keeperPids(runRoot: string): number[] {
  return daemonPids(runRoot, { keepers: true });
}

function staleHostLock(): string[] {
  if (!existsSync(HOST_LOCK)) return [];
  try {
    return lockHolder(HOST_LOCK).held ? [] : [HOST_LOCK];
  } catch {
    return [HOST_LOCK]; // not a lock of ours at all
  }
}

export async function findLeaks(opts: { runRoot: string; waitForDaemonMs?: number }): Promise<Leaks | undefined> {
  // The daemon exits by itself once the last network is gone, and the kernel dismantles a dead
  // namespace (with its veth pairs) in the background: give them the moment they need.
  const deadline = Date.now() + (opts.waitForDaemonMs ?? 0);
  while ((daemonPids(opts.runRoot).length || keeperPids(opts.runRoot).length || taggedLinkNames().length) && Date.now() < deadline) await sleep(25);
  const rules = await ruleLines();
  const leaks: Leaks = {
    links: taggedLinkNames(),
    mounts: mountsUnder(opts.runRoot),
    files: filesUnder(opts.runRoot),
    rules: rules.anyTagged ? rules.ours : rules.skeleton,
    daemons: daemonPids(opts.runRoot),
    keepers: keeperPids(opts.runRoot),
    locks: staleHostLock(),
  };
  return Object.values(leaks).some((v) => v.length) ? leaks : undefined;
}

export function formatLeaks(l: Leaks): string {
  return Object.entries(l)
    .filter(([, v]) => (v as unknown[]).length)
    .map(([k, v]) => `${k}: ${(v as unknown[]).join(', ')}`)
    .join('; ');
}

/** Removes by force whatever the product left (only this root's objects, and processes by their pid). */
export async function forceCleanup(opts: { runRoot: string }): Promise<void> {
  // The keeper first: killed after its daemon, it would have started another.
  for (const pid of [...keeperPids(opts.runRoot), ...daemonPids(opts.runRoot)]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch { /* already gone */ }
  }
  for (const name of taggedLinkNames()) await run('ip', ['link', 'del', 'dev', name]);
  for (const mp of mountsUnder(opts.runRoot).reverse()) await run('umount', ['--lazy', mp]);
  const { ours } = await ruleLines();
  if (ours.length) {
    const byTable: Record<string, string[]> = {};
    const saved = (await runOk('iptables-save', [])).split('\n');
    let table = '';
    for (const l of saved) {
      if (l.startsWith('*')) table = l.slice(1);
      if (ours.includes(l)) (byTable[table] ??= []).push(`-D ${l.slice(3)}`);
    }
    const script = Object.entries(byTable).map(([t, lines]) => `*${t}\n${lines.join('\n')}\nCOMMIT\n`).join('');
    await run('iptables-restore', ['-w', '10', '--noflush'], { input: script });
  }
  const after = await ruleLines();
  if (!after.anyTagged && after.skeleton.length) await withHostLock(() => applyFirewall([], []));
  for (const f of staleHostLock()) {
    try {
      unlinkSync(f);
    } catch { /* gone */ }
  }
}
