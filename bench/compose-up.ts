/**
 * `up -d`, `down` and a no-op `up` of 1, 10 and 30 services, as a fan-out
 * (independent services) and a chain (each depends on the previous one),
 * busybox `sleep 3600` with `init: true` (signals handled) and without (PID 1
 * ignores SIGTERM: every stop waits out the grace period): tscompose on its
 * own engine (--backend native, a state root of the bench's own) and
 * tscompose --backend docker, each against docker-compose 1.29 on dockerd,
 * in the same run, interleaved. Prints medians and the median of per-pair
 * ratios.
 *
 *   npx tsc -p tsconfig.bench.json && node dist-bench/bench/compose-up.js
 *
 * BENCH_CASES picks cases by label substring, comma-separated (e.g. "30 chain,no-op").
 * BENCH_RUNS (default 3) sets the recorded pairs per case, after one warm-up.
 * BENCH_BACKENDS picks the tscompose rows ("native,docker", the default).
 * The chain without init is left out: its `down` is N × 10 s for both tools
 * (a stop per link, each waiting the full grace period), which measures the
 * grace period, not the orchestrator.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fmt, median, printPair } from './harness.js';
import { run, runOk } from '../src/util/proc.js';
import { ensureDockerd } from '../test/support/docker.js';
import { busyboxRootfsTar } from '../test/support/images.js';
import { repoRoot } from '../test/support/cache.js';
import { ImageStore, importRootfsTar } from '../src/engine/native/image/index.js';

const IMAGE = 'tsc-test/busybox:latest';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'native,docker').split(',').map((b) => b.trim()) as Array<'native' | 'docker'>;
// The native engine's state and run roots: the bench's own, removed at the end.
let NATIVE_ENV: Record<string, string> = {};
// Compiled into dist-bench/, the support code's root is dist-bench itself.
const ROOT = basename(repoRoot) === 'dist-bench' ? dirname(repoRoot) : repoRoot;
// A private build of the CLI (see buildCli): others rebuilding dist/ mid-run must not break a measurement.
let TSCOMPOSE = join(ROOT, 'dist/bundle/tscompose.cjs');

async function buildCli(): Promise<string> {
  const out = join(ROOT, '.cache', `bench-dist-${process.pid}`);
  await run('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', out], { cwd: ROOT });
  await runOk(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), out]);
  TSCOMPOSE = join(out, 'bundle/tscompose.cjs'); // what bin/tscompose runs
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

async function timed(cmd: string, args: string[], cwd: string, backend: 'native' | 'docker' = 'docker'): Promise<number> {
  const t0 = process.hrtime.bigint();
  const r = await run(cmd, args, { cwd, env: { ...process.env, ...(backend === 'native' ? NATIVE_ENV : {}), TSCOMPOSE_BACKEND: backend, CI: '1' } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return ms;
}

type Tool = 'native' | 'docker' | 'compose';

async function time(which: Tool, project: string, cwd: string, ...args: string[]): Promise<number> {
  if (which === 'compose') return timedCompose(project, cwd, args);
  return timed(process.execPath, [TSCOMPOSE, '--progress', 'quiet', '-p', project, ...args], cwd, which);
}

/**
 * docker-compose's `down` on a loaded machine sometimes fails on dockerd's own race ("network …
 * has active endpoints": the last endpoint is released just after the container is gone). A user
 * would run it again, so the peer's figure is both runs together and the retry is said.
 */
async function timedCompose(project: string, cwd: string, args: string[]): Promise<number> {
  const argv = ['--no-ansi', '-p', project, ...args];
  const t0 = process.hrtime.bigint();
  try {
    return await timed('docker-compose', argv, cwd);
  } catch (err) {
    if (args[0] !== 'down' || !/has active endpoints/.test(String(err))) throw err;
    console.log(`(docker-compose down of ${project} failed on "network has active endpoints"; run again, both runs counted)`);
    await timed('docker-compose', argv, cwd);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  }
}

const LABEL: Record<Tool, string> = { native: 'tscompose (native)', docker: 'tscompose --backend docker', compose: 'docker-compose' };

function summary(tool: Tool, label: string, ours: number[], theirs: number[]): void {
  const ratios = ours.map((t, i) => t / theirs[i]!);
  printPair({ subject: `${LABEL[tool]} ${label}`, peer: `docker-compose ${label}`, subjectMedianMs: median(ours), peerMedianMs: median(theirs), ratio: median(ratios) });
}

/** Each round: every tool's `up -d`, then every tool's `down` (interleaved, so drift hits all alike). */
async function benchCase(c: Case, dir: string): Promise<void> {
  writeFileSync(join(dir, 'compose.yaml'), composeFile(c));
  const label = `${c.n} ${c.shape}${c.init ? ' init' : ''}`;
  const key = `${c.n}${c.shape[0]}${c.init ? 'i' : 'n'}`;
  const tools: Tool[] = [...BACKENDS, 'compose'];
  const project = (t: Tool) => `${t === 'native' ? 'tsnb' : t === 'docker' ? 'tscb' : 'dccb'}${key}`;
  const up = new Map<Tool, number[]>(tools.map((t) => [t, []]));
  const down = new Map<Tool, number[]>(tools.map((t) => [t, []]));
  for (let i = 0; i <= RUNS; i++) {
    const u = new Map<Tool, number>();
    const d = new Map<Tool, number>();
    for (const t of tools) u.set(t, await time(t, project(t), dir, 'up', '-d'));
    for (const t of tools) d.set(t, await time(t, project(t), dir, 'down'));
    if (i === 0) continue; // warm-up
    for (const t of tools) {
      up.get(t)!.push(u.get(t)!);
      down.get(t)!.push(d.get(t)!);
    }
  }
  for (const t of BACKENDS) summary(t, `up -d   ${label}`, up.get(t)!, up.get('compose')!);
  for (const t of BACKENDS) summary(t, `down    ${label}`, down.get(t)!, down.get('compose')!);
}

async function benchNoop(dir: string): Promise<void> {
  const c: Case = { n: 10, shape: 'fan-out', init: true };
  writeFileSync(join(dir, 'compose.yaml'), composeFile(c));
  const tools: Tool[] = [...BACKENDS, 'compose'];
  const project = (t: Tool) => `${t === 'native' ? 'tsnb' : t === 'docker' ? 'tscb' : 'dccb'}noop`;
  for (const t of tools) await time(t, project(t), dir, 'up', '-d');
  try {
    const times = new Map<Tool, number[]>(tools.map((t) => [t, []]));
    for (let i = 0; i <= 10; i++) {
      const round = new Map<Tool, number>();
      for (const t of tools) round.set(t, await time(t, project(t), dir, 'up', '-d'));
      if (i === 0) continue;
      for (const t of tools) times.get(t)!.push(round.get(t)!);
    }
    for (const t of BACKENDS) summary(t, 'no-op up -d (10 services)', times.get(t)!, times.get('compose')!);
  } finally {
    for (const t of tools) await time(t, project(t), dir, 'down');
  }
}

/** A state root for the native engine with the busybox image in its store; removed at the end. */
async function prepareNative(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'tsc-bench-native-'));
  NATIVE_ENV = { TSCOMPOSE_ROOT: join(root, 'state'), TSCOMPOSE_RUN: join(root, 'run') };
  const store = await ImageStore.open(join(NATIVE_ENV.TSCOMPOSE_ROOT!, 'image'));
  await importRootfsTar(store, await busyboxRootfsTar(), { tags: [IMAGE], changes: ['CMD ["sh"]'] });
  return root;
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
  const nativeRoot = BACKENDS.includes('native') ? await prepareNative() : undefined;
  const t0 = Date.now();
  try {
    console.log(`compose-up: ${BACKENDS.map((b) => LABEL[b]).join(' and ')} vs docker-compose 1.29 on dockerd, ${RUNS} recorded rounds per case`);
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
    if (nativeRoot) rmSync(nativeRoot, { recursive: true, force: true });
    console.log(`(bench took ${fmt(Date.now() - t0)})`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
