/**
 * The CLI as npm installs it against the checkout's: `npm pack` of a copy of
 * this tree, `npm install -g --prefix <tmp> --ignore-scripts` of the tarball,
 * then its bin/tscompose (npm's link to the package) and the checkout's
 * bin/tscompose, interleaved, on one state root and one image:
 *   - `container run --rm --network none busybox /bin/busybox true`
 *   - a no-op `up -d` of 10 services (all running already)
 * Each CLI keeps its V8 code cache in a directory of its own, and both get
 * the same history before anything is timed (warmUp): an entry is written by
 * the first command that loads its file and holds the functions that command
 * ran, so a CLI whose first command was `image import` starts `up` with less
 * compiled code than one whose first command was `up` (that asymmetry once
 * made the installed CLI look 8 % slower at a no-op `up`). Pairs run both
 * ways round (bothOrders). A ratio near 1 says the package costs nothing at
 * run time: the helper it runs is its prebuilt one, the code its bundle.
 *
 * With --instructions, also the instructions the CLI's Node process executes
 * for each command (valgrind's callgrind, twice each): a figure the machine's
 * load cannot move, to tell a real difference from the timing's noise: the
 * median of N rounds (default 5) that alternate the two CLIs.
 *
 * With --trace, also where each command's time goes in each CLI (bench/trace.ts:
 * Node's start-up, the loading of the CLI's files, the heaviest by name, and
 * the command's own work), from one untimed run each.
 *
 * Run: npx tsc -p tsconfig.bench.json && node dist-bench/bench/installed-cli.js [runs] [--prefix DIR] [--instructions [--rounds=N] [--keep DIR]] [--trace]
 * (--keep: the callgrind profiles are kept in DIR, for callgrind_annotate)
 * (--prefix: a prefix installed before, to skip the pack and install)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { comparePair, median, type Timed } from './harness.js';
import { busyboxRootfsTar } from '../test/support/images.js';
import { repoRoot } from '../test/support/cache.js';
import { installGlobally, packTree, userEnv } from '../test/support/package.js';
import { printTrace } from './trace.js';
import { callgrindInstructions } from './callgrind.js';

const args = process.argv.slice(2);
const prefixArg = args.includes('--prefix') ? args[args.indexOf('--prefix') + 1] : undefined;
const INSTRUCTIONS = args.includes('--instructions');
const TRACE = args.includes('--trace');
const KEEP = args.includes('--keep') ? args[args.indexOf('--keep') + 1] : undefined;
const INSTRUCTION_ROUNDS = Number(args.find((a) => a.startsWith('--rounds='))?.slice('--rounds='.length) ?? 5);
const RUNS = Number(args.find((a) => /^\d+$/.test(a)) ?? 15);

function runProcess(cmd: string, argv: string[], env: Record<string, string>, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], env, cwd });
    let err = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${argv.join(' ')} exited ${code}: ${err}`))));
  });
}

/** Instructions executed by the CLI's own Node process (not its children), by callgrind; the least of `times` runs. */
async function instructions(cli: string, argv: string[], env: Record<string, string>, dir: string, times = 2): Promise<number> {
  let least = Infinity;
  for (let i = 0; i < times; i++) {
    // --keep DIR: the profiles stay, for callgrind_annotate (which functions make a difference).
    const keepAs = KEEP ? join(KEEP, `${cli.startsWith(repoRoot) ? 'checkout' : 'installed'}-${argv.includes('up') ? 'up' : 'run'}-${Date.now()}.out`) : undefined;
    least = Math.min(least, await callgrindInstructions(cli, argv, env, dir, keepAs));
  }
  return least;
}

function composeFile(n: number): string {
  const services = Array.from({ length: n }, (_, i) => `  s${i}:\n    image: busybox:latest\n    command: ["sleep", "3600"]\n    init: true\n`);
  return `services:\n${services.join('')}`;
}

/**
 * The ratio installed/checkout from pairs run each way round (installed first, then checkout first,
 * RUNS pairs each): whatever the one that runs first in a pair pays (the other's leftovers, a cache)
 * cancels out in the geometric mean of the two ratios.
 */
async function bothOrders(installed: Timed, checkout: Timed): Promise<number> {
  const first = await comparePair(installed, checkout, RUNS, 1);
  const second = await comparePair(checkout, installed, RUNS, 1);
  return Math.sqrt(first.ratio / second.ratio);
}

/** The same first commands for each CLI, in the same order: import, a container, a real `up` and its `down`. */
async function warmUp(cli: string, env: Record<string, string>, dir: string, tar: string, run: string[], up: string[]): Promise<void> {
  await runProcess(cli, ['image', 'import', '--change', 'CMD ["sh"]', tar, 'busybox:latest'], env, dir);
  await runProcess(cli, run, env, dir);
  await runProcess(cli, up, env, dir);
  await runProcess(cli, [...up.slice(0, 2), 'down', '-t', '0'], env, dir);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-bench-installed-'));
  const roots = { TSCOMPOSE_ROOT: join(dir, 'state'), TSCOMPOSE_RUN: join(dir, 'run') };
  const checkout = join(repoRoot, 'bin', 'tscompose');
  let installed: string | undefined;
  try {
    const prefix = prefixArg ?? join(dir, 'prefix');
    if (!prefixArg) {
      const t0 = Date.now();
      await installGlobally(await packTree(dir), prefix);
      console.log(`packed and installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
    installed = join(prefix, 'bin', 'tscompose');
    if (!existsSync(installed)) throw new Error(`${installed} is missing: is ${prefix} a prefix tscompose was installed into?`);
    const env = (cache: string) => userEnv({ ...roots, TSCOMPOSE_CACHE_DIR: join(dir, cache) });
    const inst = env('cache-installed');
    const chk = env('cache-checkout');
    writeFileSync(join(dir, 'compose.yaml'), composeFile(10));
    const run = ['container', 'run', '--rm', '--network', 'none', 'busybox:latest', '/bin/busybox', 'true'];
    const up = ['-p', 'benchnoop', 'up', '-d'];
    const tar = await busyboxRootfsTar();
    for (const [cli, cliEnv] of [[installed, inst], [checkout, chk]] as const) await warmUp(cli, cliEnv, dir, tar, run, up);

    console.log(`installed CLI (${installed}) vs the checkout's (${checkout}); interleaved pairs, medians (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
    const a = await bothOrders(
      { label: 'installed: container run --rm --network none', run: () => runProcess(installed!, run, inst, dir) },
      { label: 'checkout: container run --rm --network none', run: () => runProcess(checkout, run, chk, dir) },
    );
    await runProcess(checkout, up, chk, dir);
    const b = await bothOrders(
      { label: 'installed: no-op up -d (10 services)', run: () => runProcess(installed!, up, inst, dir) },
      { label: 'checkout: no-op up -d (10 services)', run: () => runProcess(checkout, up, chk, dir) },
    );
    console.log(`installed / checkout (both orders): container run ${a.toFixed(3)}, no-op up ${b.toFixed(3)}`);
    if (TRACE) {
      for (const [label, argv] of [['container run', run], ['no-op up', up]] as const) {
        await printTrace(`${label}, installed`, installed, argv, inst, dir);
        await printTrace(`${label}, checkout`, checkout, argv, chk, dir);
      }
    }
    if (INSTRUCTIONS) {
      for (const [label, argv] of [['container run', run], ['no-op up', up]] as const) {
        // Rounds alternate the two CLIs: a count still moves by a few tenths of a percent from run to
        // run (garbage collection, the daemon's timing), so one pair can mislead; the medians do not.
        const i: number[] = [];
        const c: number[] = [];
        for (let round = 0; round < INSTRUCTION_ROUNDS; round++) {
          i.push(await instructions(installed, argv, inst, dir, 1));
          c.push(await instructions(checkout, argv, chk, dir, 1));
        }
        const [mi, mc] = [median(i), median(c)];
        console.log(
          `instructions, ${label} (median of ${INSTRUCTION_ROUNDS} alternating rounds): installed ${(mi / 1e6).toFixed(1)} M, checkout ${(mc / 1e6).toFixed(1)} M, ratio ${(mi / mc).toFixed(3)}` +
            `  [installed ${i.map((n) => (n / 1e6).toFixed(1)).join(' ')}; checkout ${c.map((n) => (n / 1e6).toFixed(1)).join(' ')}]`,
        );
      }
    }
  } finally {
    if (installed) await runProcess(installed, ['-p', 'benchnoop', 'down', '-t', '0'], userEnv(roots), dir).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
