import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore, importRootfsTar } from '../../src/engine/native/image/index.js';
import { withLock } from '../../src/util/lock.js';
import { run } from '../../src/util/proc.js';
import { busyboxRootfsTar } from '../support/images.js';
import { cacheDir, repoRoot } from '../support/cache.js';
import { processesOf } from '../runtime/helpers.js';
import { taggedLinkNames } from '../network/leaks.js';

/**
 * What the native Engine's tests share: a state and run root of their own
 * under a temp dir (the Engine in the test process follows TSCOMPOSE_ROOT),
 * the busybox image imported there, a private build of the CLI and daemon
 * (another engineer's `npm run build` cannot rewrite them mid-test), and the
 * leak check: after the test, nothing of the root may be left in the kernel
 * (processes, cgroups, mounts, links, firewall rules, namespace handles) nor
 * a daemon serving it.
 */

export const BUSYBOX = 'tsc-test/busybox:latest';

export interface NativeRoot {
  dir: string;
  state: string;
  run: string;
  env: Record<string, string>;
}

/** A new root pair under a temp dir; the test process's environment points at it. */
export function nativeRoot(prefix = 'tsc-ne-'): NativeRoot {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const root = { dir, state: join(dir, 'state'), run: join(dir, 'run') };
  process.env.TSCOMPOSE_ROOT = root.state;
  process.env.TSCOMPOSE_RUN = root.run;
  return { ...root, env: { TSCOMPOSE_ROOT: root.state, TSCOMPOSE_RUN: root.run } };
}

/** busybox-static as a one-layer image (CMD ["sh"], as `docker import --change`), in the current root. */
export async function importBusybox(tag = BUSYBOX): Promise<string> {
  const store = await ImageStore.open(join(process.env.TSCOMPOSE_ROOT!, 'image'));
  const { image } = await importRootfsTar(store, await busyboxRootfsTar(), { tags: [tag], changes: ['CMD ["sh"]'] });
  return image.id;
}

let build: { dir: string; cli: string } | undefined;

/**
 * The CLI and the daemon, compiled once per test process into .cache/; the
 * daemon the Engine starts (for the supervisor and the network) is this one.
 */
export async function nativeBuild(): Promise<{ dir: string; cli: string }> {
  if (build) return build;
  const dir = join(repoRoot, '.cache', `native-engine-dist-${process.pid}`);
  await withLock(join(cacheDir(), 'native-helper-build.lock'), async () => {
    const r = await run('make', ['-s', '-C', join(repoRoot, 'native')]);
    if (r.code !== 0) throw new Error(`building the native helper failed: ${r.stderr}`);
  }, 300_000);
  const r = await run(join(repoRoot, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', '--outDir', dir], { cwd: repoRoot });
  if (!existsSync(join(dir, 'cli/main.js'))) throw new Error(`building the CLI failed:\n${r.stdout}${r.stderr}`);
  process.env.TSCOMPOSE_DAEMON_ENTRY = join(dir, 'daemon/main.js');
  build = { dir, cli: join(dir, 'cli/main.js') };
  return build;
}

export function disposeNativeBuild(): void {
  if (!build) return;
  rmSync(build.dir, { recursive: true, force: true });
  delete process.env.TSCOMPOSE_DAEMON_ENTRY;
  build = undefined;
}

// ---- leaks ---------------------------------------------------------------------

function rootTagOf(r: { state: string; run: string }): string {
  return createHash('sha256').update(`${r.state}\0${r.run}`).digest('hex').slice(0, 8);
}

/** Container ids the root ever had: those on disk, and those the event journal saw created. */
export function containerIdsOf(r: { state: string }): Set<string> {
  const ids = new Set<string>();
  try {
    for (const n of readdirSync(join(r.state, 'containers'))) if (/^[0-9a-f]{64}$/.test(n)) ids.add(n);
  } catch { /* none */ }
  for (const f of ['events.log.1', 'events.log']) {
    try {
      for (const l of readFileSync(join(r.state, 'engine', f), 'utf8').split('\n')) {
        const m = /"type":"container","action":"create","id":"([0-9a-f]{64})"/.exec(l);
        if (m) ids.add(m[1]!);
      }
    } catch { /* none */ }
  }
  return ids;
}

function cgroupDirs(ids: Iterable<string>): string[] {
  const out: string[] = [];
  const mounts = readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h));
  for (const id of ids) for (const m of mounts) if (existsSync(join(m, 'tscompose', id))) out.push(join(m, 'tscompose', id));
  return out;
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => (l.split(' ')[4] ?? '').replace(/\\040/g, ' '))
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`));
}

function taggedRules(tag: string): string[] {
  return execFileSync('iptables-save', [], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`tscompose:${tag}:`));
}

/** Everything of the root left in the kernel or running, as sentences (empty: nothing leaked). */
export function hostLeftovers(r: NativeRoot | { dir: string; state: string; run: string }): string[] {
  const ids = containerIdsOf(r);
  const tag = rootTagOf(r);
  const netns = existsSync(join(r.run, 'netns')) ? readdirSync(join(r.run, 'netns')) : [];
  return [
    ...processesOf(r.state).map((p) => `process ${p} (${cmdline(p)})`),
    ...cgroupDirs(ids).map((c) => `cgroup ${c}`),
    ...mountsUnder(r.dir).map((m) => `mount ${m}`),
    ...taggedLinkNames(tag).map((l) => `link ${l}`),
    ...taggedRules(tag).map((l) => `firewall rule ${l}`),
    ...netns.map((n) => `network namespace handle ${n}`),
  ];
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '?';
  }
}

/** Waits (a few seconds at most) for the root's daemon to go and the kernel to finish tearing down; returns what is left. */
export async function settledLeftovers(r: NativeRoot, ms = 5000): Promise<string[]> {
  const deadline = Date.now() + ms;
  let left = hostLeftovers(r);
  while (left.length && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 50));
    left = hostLeftovers(r);
  }
  return left;
}

/** Removes by force whatever is left of the root (after a failed test), then its dir. */
export function forceRemoveRoot(r: { dir: string; state: string; run: string }): void {
  const ids = containerIdsOf(r);
  // Again while any is left: a daemon's keeper killed after its daemon has started another.
  for (let i = 0; i < 5 && processesOf(r.state).length; i++) {
    for (const p of processesOf(r.state)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch { /* gone */ }
    }
    spawnSync('sleep', ['0.05']);
  }
  for (const dir of cgroupDirs(ids)) {
    try {
      for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
    } catch { /* gone */ }
  }
  for (const dir of cgroupDirs(ids)) {
    for (let i = 0; i < 100; i++) {
      try {
        rmdirSync(dir);
        break;
      } catch {
        spawnSync('sleep', ['0.02']);
      }
    }
  }
  for (const m of mountsUnder(r.dir).reverse()) spawnSync('umount', ['-l', m]);
  const tag = rootTagOf(r);
  for (const l of taggedLinkNames(tag)) spawnSync('ip', ['link', 'del', 'dev', l]);
  const rules = taggedRules(tag);
  if (rules.length) {
    let table = '';
    const byTable: Record<string, string[]> = {};
    for (const l of execFileSync('iptables-save', [], { encoding: 'utf8' }).split('\n')) {
      if (l.startsWith('*')) table = l.slice(1);
      if (rules.includes(l)) (byTable[table] ??= []).push(`-D ${l.slice(3)}`);
    }
    const script = Object.entries(byTable).map(([t, lines]) => `*${t}\n${lines.join('\n')}\nCOMMIT\n`).join('');
    spawnSync('iptables-restore', ['-w', '10', '--noflush'], { input: script });
  }
  rmSync(r.dir, { recursive: true, force: true });
}
