/**
 * What the Compose-level benches share: the busybox image on both engines, a
 * private build of the CLI, a native state root of the bench's own, and one
 * timed command per tool (tscompose on the native engine, tscompose
 * --backend docker, docker-compose 1.29 on dockerd).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fmt, median, printPair } from './harness.js';
import { printTrace } from './trace.js';
import { run, runOk } from '../src/util/proc.js';
import { ensureDockerd } from '../test/support/docker.js';
import { busyboxRootfsTar } from '../test/support/images.js';
import { repoRoot } from '../test/support/cache.js';
import { ImageStore, importRootfsTar } from '../src/engine/native/image/index.js';

export const IMAGE = 'tsc-test/busybox:latest';

export type Tool = 'native' | 'docker' | 'compose';
export const LABEL: Record<Tool, string> = { native: 'tscompose (native)', docker: 'tscompose --backend docker', compose: 'docker-compose' };

// The native engine's state and run roots: the bench's own, removed at the end.
let nativeEnv: Record<string, string> = {};
// Compiled into dist-bench/, the support code's root is dist-bench itself.
const ROOT = basename(repoRoot) === 'dist-bench' ? dirname(repoRoot) : repoRoot;
// A private build of the CLI (see buildCli): others rebuilding dist/ mid-run must not break a measurement.
let tscompose = join(ROOT, 'dist/bundle/tscompose.cjs');

/** The CLI built into a directory of this run's own; returns it (remove it at the end). */
async function buildCli(): Promise<string> {
  const out = join(ROOT, '.cache', `bench-dist-${process.pid}`);
  await run('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', out], { cwd: ROOT });
  await runOk(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), out]);
  tscompose = join(out, 'bundle/tscompose.cjs'); // what bin/tscompose runs
  return out;
}

/** dockerd running and the busybox image in it, for docker-compose and --backend docker. */
async function prepareDocker(): Promise<void> {
  await ensureDockerd();
  try {
    execFileSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' });
  } catch {
    execFileSync('docker', ['import', '--change', 'CMD ["sh"]', await busyboxRootfsTar(), IMAGE], { stdio: 'ignore' });
  }
}

/** A state root for the native engine with the busybox image in its store; returns it (remove it at the end). */
async function prepareNative(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'tsc-bench-native-'));
  nativeEnv = { TSCOMPOSE_ROOT: join(root, 'state'), TSCOMPOSE_RUN: join(root, 'run') };
  const store = await ImageStore.open(join(nativeEnv.TSCOMPOSE_ROOT!, 'image'));
  await importRootfsTar(store, await busyboxRootfsTar(), { tags: [IMAGE], changes: ['CMD ["sh"]'] });
  return root;
}

/** One command's wall time in ms, from spawn to exit, and its output; a failure throws with its stderr. */
async function runTimed(cmd: string, args: string[], cwd: string, backend: 'native' | 'docker'): Promise<{ ms: number; stdout: string }> {
  const t0 = process.hrtime.bigint();
  const r = await run(cmd, args, { cwd, env: { ...process.env, ...(backend === 'native' ? nativeEnv : {}), TSCOMPOSE_BACKEND: backend, CI: '1' } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

async function timed(cmd: string, args: string[], cwd: string, backend: 'native' | 'docker' = 'docker'): Promise<number> {
  return (await runTimed(cmd, args, cwd, backend)).ms;
}

/** The process that runs a Compose verb of `project` for one tool. */
function commandOf(which: Tool, project: string, args: string[]): [string, string[], 'native' | 'docker'] {
  if (which === 'compose') return ['docker-compose', ['--no-ansi', '-p', project, ...args], 'docker'];
  return [process.execPath, [tscompose, '--progress', 'quiet', '-p', project, ...args], which];
}

/** The standard output of a Compose verb of `project` by one tool. */
export async function output(which: Tool, project: string, cwd: string, ...args: string[]): Promise<string> {
  const [cmd, argv, backend] = commandOf(which, project, args);
  return (await runTimed(cmd, argv, cwd, backend)).stdout;
}

/** One untimed run of a tscompose verb of `project` with the tracer (bench/trace.ts), printed. */
export async function trace(which: 'native' | 'docker', project: string, cwd: string, ...args: string[]): Promise<void> {
  const [, argv, backend] = commandOf(which, project, args);
  const env = { ...process.env, ...(backend === 'native' ? nativeEnv : {}), TSCOMPOSE_BACKEND: backend, CI: '1' };
  await printTrace(`${LABEL[which]} ${args.join(' ')} (${project})`, argv[0]!, argv.slice(1), env, cwd);
}

/** BENCH_TRACE=1: each case also prints where the time of tscompose's commands goes (one traced run of each). */
export const TRACING = process.env.BENCH_TRACE === '1';

/** A Compose verb of `project` in `cwd` by one tool, timed. */
export async function time(which: Tool, project: string, cwd: string, ...args: string[]): Promise<number> {
  if (which === 'compose') return timedCompose(project, cwd, args);
  const [cmd, argv, backend] = commandOf(which, project, args);
  return timed(cmd, argv, cwd, backend);
}

/**
 * docker-compose's `down` on a loaded machine sometimes fails on dockerd's own race ("network …
 * has active endpoints": the last endpoint is released just after the container is gone). A user
 * would run it again, so the peer's figure is both runs together and the retry is said.
 */
async function timedCompose(project: string, cwd: string, args: string[]): Promise<number> {
  const [, argv] = commandOf('compose', project, args);
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

/** Prints one tool's medians against docker-compose's, with the median of the per-round ratios. */
export function summary(tool: Tool, label: string, ours: number[], theirs: number[]): void {
  const ratios = ours.map((t, i) => t / theirs[i]!);
  printPair({ subject: `${LABEL[tool]} ${label}`, peer: `docker-compose ${label}`, subjectMedianMs: median(ours), peerMedianMs: median(theirs), ratio: median(ratios) });
}

/** The project name of one tool's copy of a case: the tools never share a project. */
export function projectOf(tool: Tool, key: string): string {
  return `${tool === 'native' ? 'tsnb' : tool === 'docker' ? 'tscb' : 'dccb'}${key}`;
}

/** The tscompose rows a bench runs: BENCH_BACKENDS ("native,docker", the default). */
export const BACKENDS = (process.env.BENCH_BACKENDS ?? 'native,docker').split(',').map((b) => b.trim()) as Array<'native' | 'docker'>;

/**
 * A Compose bench's frame: dockerd and the image, a directory of its own for the compose file, the
 * CLI's private build and the native state root; `body` runs in the directory, and all of it goes
 * afterwards, whatever happened. Prints the heading and the bench's own duration.
 */
export async function composeBench(name: string, heading: string, body: (dir: string) => Promise<void>): Promise<void> {
  await prepareDocker();
  const dir = mkdtempSync(join(tmpdir(), `tsc-bench-${name}-`));
  const build = await buildCli();
  const nativeRoot = BACKENDS.includes('native') ? await prepareNative() : undefined;
  const t0 = Date.now();
  try {
    console.log(`${name}: ${BACKENDS.map((b) => LABEL[b]).join(' and ')} vs docker-compose 1.29 on dockerd, ${heading}`);
    await body(dir);
  } finally {
    for (const d of [dir, build, nativeRoot]) if (d) rmSync(d, { recursive: true, force: true });
    console.log(`(bench took ${fmt(Date.now() - t0)})`);
  }
}

export function runBench(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
