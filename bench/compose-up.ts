/**
 * `up -d`, `down` and a no-op `up` of 1, 10 and 30 services, as a fan-out
 * (independent services) and a chain (each depends on the previous one),
 * busybox `sleep 3600` with `init: true` (signals handled) and without (PID 1
 * ignores SIGTERM: every stop waits out the grace period), tscompose
 * --backend docker against docker-compose 1.29 on the same dockerd, in the
 * same run, interleaved. Prints medians and the median of per-pair ratios.
 *
 *   npx tsc -p tsconfig.bench.json && node dist-bench/bench/compose-up.js
 *
 * BENCH_CASES picks cases by label substring, comma-separated (e.g. "30 chain,no-op").
 * BENCH_RUNS (default 3) sets the recorded pairs per case, after one warm-up.
 * The chain without init is left out: its `down` is N × 10 s for both tools
 * (a stop per link, each waiting the full grace period), which measures the
 * grace period, not the orchestrator.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fmt, median, printPair } from './harness.js';
import { run } from '../src/util/proc.js';
import { ensureDockerd } from '../test/support/docker.js';
import { busyboxRootfsTar } from '../test/support/images.js';
import { repoRoot } from '../test/support/cache.js';

const IMAGE = 'tsc-test/busybox:latest';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
// Compiled into dist-bench/, the support code's root is dist-bench itself.
const ROOT = basename(repoRoot) === 'dist-bench' ? dirname(repoRoot) : repoRoot;
// A private build of the CLI (see buildCli): others rebuilding dist/ mid-run must not break a measurement.
let TSCOMPOSE = join(ROOT, 'dist/cli/main.js');

async function buildCli(): Promise<string> {
  const out = join(ROOT, '.cache', `bench-dist-${process.pid}`);
  await run('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', out], { cwd: ROOT });
  TSCOMPOSE = join(out, 'cli/main.js');
  return out;
}

interface Case {
  n: number;
  shape: 'fan-out' | 'chain';
  init: boolean;
}

function composeFile(c: Case): string {
  // Version 2.4 syntax: docker-compose 1.29 rejects a top-level name: and reads depends_on lists.
  const lines = ['version: "2.4"', 'services:'];
  for (let i = 1; i <= c.n; i++) {
    lines.push(`  s${i}:`, `    image: "${IMAGE}"`, '    command: ["sleep", "3600"]', `    init: ${c.init}`, '    networks: [net]');
    if (c.shape === 'chain' && i > 1) lines.push(`    depends_on: [s${i - 1}]`);
  }
  lines.push('networks:', '  net: {}');
  return lines.join('\n') + '\n';
}

async function timed(cmd: string, args: string[], cwd: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  const r = await run(cmd, args, { cwd, env: { ...process.env, TSCOMPOSE_BACKEND: 'docker', CI: '1' } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return ms;
}

const tool = {
  tscompose: (project: string, ...args: string[]) => [process.execPath, [TSCOMPOSE, '--progress', 'quiet', '-p', project, ...args]] as const,
  compose: (project: string, ...args: string[]) => ['docker-compose', ['--no-ansi', '-p', project, ...args]] as const,
};

async function time(which: keyof typeof tool, project: string, cwd: string, ...args: string[]): Promise<number> {
  const [cmd, a] = tool[which](project, ...args);
  return timed(cmd, [...a], cwd);
}

function summary(label: string, ours: number[], theirs: number[]): void {
  const ratios = ours.map((t, i) => t / theirs[i]!);
  printPair({ subject: `tscompose ${label}`, peer: `docker-compose ${label}`, subjectMedianMs: median(ours), peerMedianMs: median(theirs), ratio: median(ratios) });
}

async function benchCase(c: Case, dir: string): Promise<void> {
  writeFileSync(join(dir, 'compose.yaml'), composeFile(c));
  const label = `${c.n} ${c.shape}${c.init ? ' init' : ''}`;
  const ts = `tscb${c.n}${c.shape[0]}${c.init ? 'i' : 'n'}`;
  const dc = `dccb${c.n}${c.shape[0]}${c.init ? 'i' : 'n'}`;
  const up: [number[], number[]] = [[], []];
  const down: [number[], number[]] = [[], []];
  for (let i = 0; i <= RUNS; i++) {
    const u1 = await time('tscompose', ts, dir, 'up', '-d');
    const u2 = await time('compose', dc, dir, 'up', '-d');
    const d1 = await time('tscompose', ts, dir, 'down');
    const d2 = await time('compose', dc, dir, 'down');
    if (i === 0) continue; // warm-up
    up[0].push(u1);
    up[1].push(u2);
    down[0].push(d1);
    down[1].push(d2);
  }
  summary(`up -d   ${label}`, ...up);
  summary(`down    ${label}`, ...down);
}

async function benchNoop(dir: string): Promise<void> {
  const c: Case = { n: 10, shape: 'fan-out', init: true };
  writeFileSync(join(dir, 'compose.yaml'), composeFile(c));
  await time('tscompose', 'tscbnoop', dir, 'up', '-d');
  await time('compose', 'dccbnoop', dir, 'up', '-d');
  try {
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i <= 10; i++) {
      const a = await time('tscompose', 'tscbnoop', dir, 'up', '-d');
      const b = await time('compose', 'dccbnoop', dir, 'up', '-d');
      if (i === 0) continue;
      ours.push(a);
      theirs.push(b);
    }
    summary('no-op up -d (10 services)', ours, theirs);
  } finally {
    await time('tscompose', 'tscbnoop', dir, 'down');
    await time('compose', 'dccbnoop', dir, 'down');
  }
}

const CASES = process.env.BENCH_CASES?.split(',').map((x) => x.trim()).filter(Boolean);
const wanted = (label: string) => !CASES || CASES.some((c) => (c === 'no-op' ? label === 'no-op' : label === c));

async function main(): Promise<void> {
  await ensureDockerd();
  try {
    execFileSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' });
  } catch {
    execFileSync('docker', ['import', '--change', 'CMD ["sh"]', await busyboxRootfsTar(), IMAGE], { stdio: 'ignore' });
  }
  const dir = mkdtempSync(join(tmpdir(), 'tsc-bench-up-'));
  const build = await buildCli();
  const t0 = Date.now();
  try {
    console.log(`compose-up: tscompose --backend docker vs docker-compose 1.29, same dockerd, ${RUNS} recorded pairs per case`);
    if (wanted('no-op')) await benchNoop(dir);
    const cases: Case[] = [];
    for (const n of [1, 10, 30]) {
      cases.push({ n, shape: 'fan-out', init: true }, { n, shape: 'chain', init: true }, { n, shape: 'fan-out', init: false });
    }
    for (const c of cases) {
      if (c.n === 1 && c.shape === 'chain') continue; // one service: a chain is a fan-out
      if (wanted(`${c.n} ${c.shape}${c.init ? ' init' : ''}`)) await benchCase(c, dir);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(build, { recursive: true, force: true });
    console.log(`(bench took ${fmt(Date.now() - t0)})`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
