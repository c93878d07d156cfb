import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { ImageStore, importRootfsTar, mountPoints } from '../../src/engine/native/image/index.js';
import { ContainerRuntime, type ContainerConfig } from '../../src/engine/native/runtime/index.js';
import { hostCgroups } from '../../src/engine/native/runtime/cgroups/index.js';
import { busyboxRootfsTar } from '../support/images.js';
import { cacheDir, repoRoot } from '../support/cache.js';
import { withLock } from '../../src/util/lock.js';
import { run as runProc } from '../../src/util/proc.js';

/**
 * Every runtime test gets its own state and run roots under a temp dir, a
 * busybox image imported into them, and ends with the leak check: no
 * process started for this root, no cgroup of a container it created, no
 * mount under the temp dir. The check reports leaks and then cleans them
 * up, so one failing test does not poison the next.
 */
export interface RuntimeRoot {
  dir: string;
  state: string;
  run: string;
  env: NodeJS.ProcessEnv;
  runtime: ContainerRuntime;
  store: ImageStore;
  /** Every container id this root created (tracked across removals). */
  ids: Set<string>;
  /** Creates a container and remembers its id for the leak check. */
  create(spec: Partial<ContainerConfig>): Promise<string>;
  /** Runs the built CLI with this root's environment. */
  cli(args: string[], opts?: { input?: string; timeout?: number }): { code: number; stdout: string; stderr: string };
}

let current: RuntimeRoot | undefined;

function* walk(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}

function newer(src: string, out: string): boolean {
  return !existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs;
}

/** The CLI runs from dist/ and the helper from native/build/: rebuild what is older than its sources. */
export async function ensureBuilt(): Promise<void> {
  await withLock(join(cacheDir(), 'dist-build.lock'), async () => {
    const ts = ['src'].flatMap((d) => {
      const p = join(repoRoot, d);
      return statSync(p).isDirectory() ? [...walk(p)] : [p];
    }).filter((f) => f.endsWith('.ts'));
    if (ts.some((f) => newer(f, join(repoRoot, 'dist', relative(join(repoRoot, 'src'), f)).replace(/\.ts$/, '.js')))) {
      // Other modules' type errors do not stop tsc from emitting ours.
      await runProc(join(repoRoot, 'node_modules/.bin/tsc'), ['-p', join(repoRoot, 'tsconfig.build.json')], { cwd: repoRoot });
    }
    const r = await runProc('make', ['-s', '-C', join(repoRoot, 'native')]);
    if (r.code !== 0) throw new Error(`building the native helper failed: ${r.stderr}`);
  }, 300_000);
}

export async function makeRuntimeRoot(opts: { image?: boolean } = {}): Promise<RuntimeRoot> {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-rt-'));
  const state = join(dir, 'state');
  const run = join(dir, 'run');
  process.env.TSCOMPOSE_ROOT = state;
  process.env.TSCOMPOSE_RUN = run;
  const store = await ImageStore.open(join(state, 'image'));
  if (opts.image !== false) await importRootfsTar(store, await busyboxRootfsTar(), { tags: ['busybox:latest'] });
  const runtime = await ContainerRuntime.open({ images: store });
  const ids = new Set<string>();
  const env = { ...process.env, TSCOMPOSE_ROOT: state, TSCOMPOSE_RUN: run };
  const root: RuntimeRoot = {
    dir, state, run, env, runtime, store, ids,
    async create(spec) {
      const id = await runtime.create({ image: 'busybox', ...spec });
      ids.add(id);
      return id;
    },
    cli(args, o = {}) {
      const r: SpawnSyncReturns<string> = spawnSync(join(repoRoot, 'bin', 'tscompose'), args, {
        env, input: o.input, encoding: 'utf8', timeout: o.timeout ?? 60_000, cwd: dir,
      });
      // Containers the CLI made count for the leak check too.
      for (const id of listIds(state)) ids.add(id);
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
  };
  current = root;
  return root;
}

function listIds(state: string): string[] {
  try {
    return readdirSync(join(state, 'containers')).filter((n) => /^[0-9a-f]{64}$/.test(n));
  } catch {
    return [];
  }
}

/** The network daemon's keeper (`tsc-helper keep`, which names itself tsc-keep). */
function isKeeper(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'tsc-keep';
  } catch {
    return false;
  }
}

/** Processes whose environment names this root: helpers and monitors we started (never ourselves or our parents). */
/**
 * This process's start server (`tsc-helper serve`, src/engine/native/runtime/start-server.ts): a
 * resource of the live test process, like an open fd, that ends with it (or a second after its last
 * start); not a leftover of a test.
 */
function isOwnStartServer(pid: number): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== process.pid) return false;
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[1] === 'serve';
}

export function processesOf(state: string): number[] {
  const mine = new Set<number>();
  for (let p = process.pid; p > 1;) {
    mine.add(p);
    const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    p = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || mine.has(Number(e))) continue;
    try {
      if (isOwnStartServer(Number(e))) continue;
      if (readFileSync(`/proc/${e}/environ`, 'utf8').split('\0').includes(`TSCOMPOSE_ROOT=${state}`)) out.push(Number(e));
    } catch { /* gone */ }
  }
  // The daemon's keeper first: whoever kills these in order must not leave it time to start a new daemon.
  return out.sort((a, b) => Number(isKeeper(b)) - Number(isKeeper(a)));
}

export function cgroupsOf(ids: Iterable<string>): string[] {
  const left: string[] = [];
  for (const id of ids) {
    for (const h of readdirSync('/sys/fs/cgroup')) {
      const dir = join('/sys/fs/cgroup', h, 'tscompose', id);
      if (existsSync(dir)) left.push(dir);
    }
  }
  return left;
}

export function mountsUnder(dir: string): string[] {
  return [...mountPoints()].filter((m) => m === dir || m.startsWith(dir + '/'));
}

/** The leak check; call it in afterEach. Throws after cleaning up when anything was left. */
export async function checkNoLeaks(): Promise<void> {
  const root = current;
  current = undefined;
  if (!root) return;
  for (const id of listIds(root.state)) root.ids.add(id);
  // Give monitors a moment to finish writing exit records of containers that just ended.
  let procs = processesOf(root.state);
  for (let i = 0; i < 50 && procs.length; i++) {
    await new Promise((r) => setTimeout(r, 20));
    procs = processesOf(root.state);
  }
  const cgroups = cgroupsOf(root.ids);
  const mounts = mountsUnder(root.dir);
  const describe = (pid: number) => {
    try {
      return `${pid} (${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim() || readlinkSync(`/proc/${pid}/exe`)})`;
    } catch {
      return String(pid);
    }
  };
  const leaks = [
    ...procs.map((p) => `process ${describe(p)}`),
    ...cgroups.map((c) => `cgroup ${c}`),
    ...mounts.map((m) => `mount ${m}`),
  ];
  // Clean up whatever is left, leaks or not, so the next test starts clean.
  for (const id of listIds(root.state)) await root.runtime.remove(id, { force: true, volumes: true }).catch(() => undefined);
  for (const p of processesOf(root.state)) {
    try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
  }
  const cg = hostCgroups();
  for (const id of root.ids) await cg.remove(id).catch(() => undefined);
  for (const m of mountsUnder(root.dir).reverse()) spawnSync('umount', ['-l', m]);
  rmSync(root.dir, { recursive: true, force: true });
  if (leaks.length) throw new Error(`leaked by the test:\n  ${leaks.join('\n  ')}`);
}

/** Runs a container to completion and returns its exit code and output (stdout and stderr interleaved by time). */
export async function runToEnd(root: RuntimeRoot, spec: Partial<ContainerConfig>): Promise<{ id: string; code: number; out: string; stdout: string; stderr: string }> {
  const id = await root.create(spec);
  await root.runtime.start(id);
  const { exitCode } = await root.runtime.waitExit(id);
  let out = '', stdout = '', stderr = '';
  for await (const e of root.runtime.logs(id)) {
    const text = e.line + (e.partial ? '' : '\n');
    out += text;
    if (e.stream === 'stdout') stdout += text;
    else stderr += text;
  }
  return { id, code: exitCode, out, stdout, stderr };
}

export const sh = (script: string): Partial<ContainerConfig> => ({ cmd: ['sh', '-c', script] });
