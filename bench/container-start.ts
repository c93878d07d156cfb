/**
 * Container start-to-exit of `true` in a busybox container (perf-baselines.md
 * sections 1-3; `/bin/busybox true`, deviation 1), at the engine level (the
 * in-process ContainerRuntime: create, start, wait for the exit, remove) and
 * through the CLI (`tscompose container run --rm`), against `runc run` and
 * `crun run` of the same rootfs as a bundle made by `runc spec`, and `docker
 * run --rm --network none` of the same image, measured in the same run.
 *
 * crun 1.8 (Debian 12's) refuses a host with hybrid cgroups ("cgroups in
 * hybrid mode not supported, drop all controllers from cgroupv2"): it runs in
 * a mount namespace of the bench's own where the near-empty cgroup2 mount at
 * /sys/fs/cgroup/unified is unmounted (the host is untouched), entered with
 * `nsenter` for each run. runc runs the same way in the crun-vs-runc row, so
 * that the entry costs both alike; the engine-vs-crun row charges crun that
 * one exec of nsenter (about a millisecond).
 *
 * Run: npx tsc -p tsconfig.bench.json && node dist-bench/bench/container-start.js [runs] [--trace]
 *
 * --trace: no peers; where the engine rows' time goes instead, phase by phase
 * (container-trace.ts), and where the CLI row's goes: its loading, from one
 * untimed run (trace.ts).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { comparePair, fmt } from './harness.js';
import { printTrace } from './trace.js';
import { trace } from './container-trace.js';
import { busyboxRootfsTar } from '../test/support/images.js';
import { ensureDockerd } from '../test/support/docker.js';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const TRACE = process.argv.includes('--trace');
const CLI_ARGS = ['container', 'run', '--rm', '--network', 'none', 'busybox', '/bin/busybox', 'true'];
const RUNS = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 20);

/** The checkout's root, from bench/ or dist-bench/bench/ alike. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'native', 'Makefile'))) dir = dirname(dir);
  return dir;
}

function runProcess(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env });
    let err = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

/**
 * A mount namespace where crun accepts this host's cgroups: a sleeping process
 * in a private copy of the host's mounts, without the cgroup2 mount of a
 * hybrid layout. Runs enter it with `nsenter --mount --target PID`.
 */
async function crunNamespace(): Promise<{ enter: (cmd: string[]) => [string, string[]]; close: () => void }> {
  const hybrid = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === '/sys/fs/cgroup/unified');
  const script = `${hybrid ? 'umount /sys/fs/cgroup/unified && ' : ''}echo ready && exec sleep 3600`;
  const holder = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout.once('data', () => resolve());
    holder.once('exit', (code) => reject(new Error(`the mount namespace for crun could not be made (exit ${code})`)));
  });
  return {
    enter: (cmd) => ['nsenter', ['--mount', '--target', String(holder.pid), ...cmd]],
    close: () => { holder.kill('SIGKILL'); },
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-bench-start-'));
  process.env.TSCOMPOSE_ROOT = join(dir, 'state');
  process.env.TSCOMPOSE_RUN = join(dir, 'run');
  const tarPath = await busyboxRootfsTar();
  const dockerTag = `tsc-bench-bb:${randomBytes(4).toString('hex')}`;
  const runcId = `tsc-bench-${randomBytes(4).toString('hex')}`;
  // Imported after the roots are set: the runtime reads them when it opens.
  const { ImageStore, importRootfsTar } = await import('../src/engine/native/image/index.js');
  const { ContainerRuntime, closeStartServer } = await import('../src/engine/native/runtime/index.js');
  let rt: Awaited<ReturnType<typeof ContainerRuntime.open>> | undefined;
  const crunNs = TRACE ? undefined : await crunNamespace();
  const crunId = `tsc-bench-crun-${randomBytes(4).toString('hex')}`;
  try {
    const store = await ImageStore.open();
    await importRootfsTar(store, tarPath, { tags: ['busybox:latest'] });
    const runtime = await ContainerRuntime.open({ images: store });
    rt = runtime;
    if (TRACE) {
      await trace(runtime, RUNS, dir, closeStartServer);
      await printTrace('tscompose container run --rm', join(repoRoot(), 'bin/tscompose'), CLI_ARGS, process.env, dir);
      return;
    }

    const bundle = join(dir, 'bundle');
    mkdirSync(join(bundle, 'rootfs'), { recursive: true });
    execFileSync('tar', ['-xf', tarPath, '-C', join(bundle, 'rootfs')]);
    execFileSync('runc', ['spec'], { cwd: bundle });
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    spec.process.args = ['/bin/busybox', 'true'];
    spec.process.terminal = false;
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));

    await ensureDockerd();
    execFileSync('docker', ['import', tarPath, dockerTag], { stdio: 'ignore' });

    // Start-to-exit proper: a created container started and waited for, again and again (like `docker start -a`).
    const warm = await runtime.create({ image: 'busybox', cmd: ['/bin/busybox', 'true'], network: { mode: 'none' } });
    const startToExit = {
      label: 'engine: start -> exit',
      run: async () => {
        await runtime.start(warm);
        const { exitCode } = await runtime.waitExit(warm);
        if (exitCode !== 0) throw new Error(`true exited ${exitCode}`);
      },
    };
    const lifecycle = {
      label: 'engine: create+start+exit+rm',
      run: async () => {
        const id = await runtime.create({ image: 'busybox', cmd: ['/bin/busybox', 'true'], network: { mode: 'none' } });
        await runtime.start(id);
        const { exitCode } = await runtime.waitExit(id);
        if (exitCode !== 0) throw new Error(`true exited ${exitCode}`);
        await runtime.remove(id);
      },
    };
    const runc = { label: 'runc run', run: () => runProcess('runc', ['run', '-b', bundle, runcId]) };
    const inNs = (label: string, cmd: string[]) => ({ label, run: () => runProcess(...crunNs!.enter(cmd)) });
    const crun = inNs('crun run (nsenter)', ['crun', 'run', '-b', bundle, crunId]);
    const runcInNs = inNs('runc run (nsenter)', ['runc', 'run', '-b', bundle, runcId]);
    const cli = {
      label: 'tscompose container run --rm',
      run: () => runProcess(join(repoRoot(), 'bin/tscompose'), CLI_ARGS),
    };
    const docker = { label: 'docker run --rm --network none', run: () => runProcess('docker', ['run', '--rm', '--network', 'none', dockerTag, '/bin/busybox', 'true']) };

    console.log(`container start-to-exit of /bin/busybox true; interleaved pairs, medians (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
    const a = await comparePair(startToExit, runc, RUNS, 2);
    const b = await comparePair(lifecycle, runc, RUNS, 2);
    const e = await comparePair(startToExit, crun, RUNS, 2);
    const f = await comparePair(lifecycle, crun, RUNS, 2);
    const g = await comparePair(crun, runcInNs, RUNS, 2);
    const few = Math.max(5, Math.floor(RUNS / 2));
    const c = await comparePair(cli, docker, few, 1);
    const d = await comparePair(cli, runc, few, 1);
    await runtime.remove(warm);
    const met = a.subjectMedianMs <= 10 && e.ratio < 1;
    console.log(`target (engine start-to-exit <= 10 ms and below crun): ${fmt(a.subjectMedianMs)}, vs crun ${e.ratio.toFixed(3)} -> ${met ? 'met' : 'NOT met'}`);
    console.log(`target (create+start+exit+rm <= 0.35x runc): ${b.ratio.toFixed(3)} -> ${b.ratio <= 0.35 ? 'met' : 'NOT met'}`);
    console.log(`full lifecycle vs crun ${f.ratio.toFixed(3)}; crun vs runc (both entered by nsenter) ${g.ratio.toFixed(3)}; CLI vs docker run ${c.ratio.toFixed(3)}; CLI vs runc ${d.ratio.toFixed(3)}`);
  } finally {
    // A run that failed half-way leaves containers: their monitors and cgroups go before the dir does.
    for (const c of (await rt?.list({ all: true })) ?? []) await rt!.remove(c.Id, { force: true }).catch(() => undefined);
    if (crunNs) {
      try { execFileSync('docker', ['rmi', '-f', dockerTag], { stdio: 'ignore' }); } catch { /* not imported */ }
      try { execFileSync('runc', ['delete', '-f', runcId], { stdio: 'ignore' }); } catch { /* gone with its run */ }
      try { execFileSync(...crunNs.enter(['crun', 'delete', '-f', crunId]), { stdio: 'ignore' }); } catch { /* gone with its run */ }
      crunNs.close();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
