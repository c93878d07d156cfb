/**
 * `tscompose container run --rm busybox /bin/busybox true` on the default
 * network, the two shapes, against `docker run --rm` of the same
 * image on Docker's default bridge, interleaved in the same run:
 *   - another container running (the network daemon and the default network
 *     are up, as dockerd and docker0 always are);
 *   - nothing else running: before each timed run the bench waits (untimed)
 *     until the network daemon has left, so every run creates the default
 *     network, starts the daemon, and removes the network again.
 * `--trace` first prints one traced run of each shape (bench/process-timeline.ts).
 *
 * Run: npx tsc -p tsconfig.bench.json && node dist-bench/bench/container-run-network.js [runs] [--trace]
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { comparePair, fmt } from './harness.js';
import { printTrace } from './process-timeline.js';
import { busyboxRootfsTar } from '../test/support/images.js';
import { ensureDockerd } from '../test/support/docker.js';

const args = process.argv.slice(2);
const TRACE = args.includes('--trace');
const RUNS = Number(args.find((a) => /^\d+$/.test(a)) ?? 10);

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'native', 'Makefile'))) dir = dirname(dir);
  return dir;
}

function runProcess(cmd: string, argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let err = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${argv.join(' ')} exited ${code}: ${err}`))));
  });
}

/** Whether a network daemon serves this run root (its keeper's and its own argv name the root). */
function daemonAlive(run: string): boolean {
  try {
    execFileSync('pgrep', ['-f', `--run-root ${run}$`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function waitDaemonGone(run: string): Promise<void> {
  for (let i = 0; i < 200 && daemonAlive(run); i++) await sleep(50);
  if (daemonAlive(run)) throw new Error(`the network daemon of ${run} did not leave within 10 s`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-bench-runnet-'));
  const root = join(dir, 'root');
  const run = join(dir, 'run');
  const env = { ...process.env, TSCOMPOSE_ROOT: root, TSCOMPOSE_RUN: run };
  const cli = join(repoRoot(), 'bin/tscompose');
  const dockerTag = `tsc-bench-bb:${randomBytes(4).toString('hex')}`;
  const keeper = `tsc-bench-keeper-${randomBytes(3).toString('hex')}`;
  const ours = ['container', 'run', '--rm', 'busybox', '/bin/busybox', 'true'];
  try {
    const tar = await busyboxRootfsTar();
    execFileSync(cli, ['image', 'import', tar, 'busybox:latest'], { env, stdio: 'ignore' });
    await ensureDockerd();
    execFileSync('docker', ['import', tar, dockerTag], { stdio: 'ignore' });
    const docker = { label: 'docker run --rm (default bridge)', run: () => runProcess('docker', ['run', '--rm', dockerTag, '/bin/busybox', 'true']) };

    console.log(`container run --rm of /bin/busybox true on the default network; interleaved pairs, medians (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
    if (TRACE) {
      await waitDaemonGone(run);
      printTrace('nothing else running', cli, ours, env);
    }
    // Each timed run starts the daemon again: waiting for the last one to leave is not timed.
    const alone = { label: 'tscompose container run --rm, nothing else running', run: () => runProcess(cli, ours, env) };
    const a = await comparePair(alone, docker, RUNS, 1, () => waitDaemonGone(run));

    execFileSync(cli, ['container', 'run', '-d', '--name', keeper, 'busybox', '/bin/busybox', 'sleep', '3600'], { env, stdio: 'ignore' });
    if (TRACE) printTrace('another container running', cli, ours, env);
    const beside = { label: 'tscompose container run --rm, another container running', run: () => runProcess(cli, ours, env) };
    const b = await comparePair(beside, docker, RUNS, 1);
    console.log(`target (<= 0.35x docker run): another container running ${b.ratio.toFixed(3)} -> ${b.ratio <= 0.35 ? 'met' : 'NOT met'}; ` +
      `nothing else running ${a.ratio.toFixed(3)} -> ${a.ratio <= 0.35 ? 'met' : 'NOT met'} (${fmt(a.subjectMedianMs)} vs ${fmt(a.peerMedianMs)})`);
  } finally {
    try { execFileSync(cli, ['container', 'rm', '-f', keeper], { env, stdio: 'ignore' }); } catch { /* never made */ }
    await waitDaemonGone(run).catch((err: Error) => console.error(err.message));
    try { execFileSync('docker', ['rmi', '-f', dockerTag], { stdio: 'ignore' }); } catch { /* not imported */ }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
