/**
 * The headline, timed: from `up -d` of examples/wordpress-mysql (fresh
 * volumes: the database initialises, WordPress waits for it to be healthy)
 * to `GET /wp-admin/install.php` answering 200 on the published port, with
 * tscompose on its own engine against docker-compose 1.29 on dockerd, in the
 * same run, interleaved; `down -v` after each. Both run images built here
 * from the example's Dockerfiles (the native builder for ours, docker build
 * for Docker's), untimed.
 *
 *   npx tsc -p tsconfig.bench.json && node dist-bench/bench/e2e-wordpress.js
 *
 * BENCH_RUNS (default 3) sets the recorded pairs, after one warm-up pair.
 * BENCH_TRACE=1 prints each round's timeline besides: the project's container
 * events (create, start, health, exits) in seconds from `up -d`, read back
 * from each engine's event journal (`tscompose events --since --until`,
 * `docker events`), when the containers' own work ended (MariaDB listening
 * on 3306, Apache ready: their logs' timestamps), and when the install page
 * first answered.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fmt, median, printPair } from './harness.js';
import { run, runOk } from '../src/util/proc.js';
import { repoRoot, cacheDir } from '../test/support/cache.js';
import { ensureDockerDebianBase } from '../test/support/debian-base.js';
import { freePort } from '../test/support/registry.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ROOT = basename(repoRoot) === 'dist-bench' ? dirname(repoRoot) : repoRoot;
const FILE = join(ROOT, 'examples/wordpress-mysql/compose.yaml');
let TSCOMPOSE = join(ROOT, 'dist/bundle/tscompose.cjs');
let NATIVE_ENV: Record<string, string> = {};

type Tool = 'native' | 'compose';

function cli(tool: Tool, project: string, port: number, args: string[]): Promise<string> {
  const env = { ...process.env, WORDPRESS_PORT: String(port), CI: '1' };
  if (tool === 'compose') return runOk('docker-compose', ['--no-ansi', '-f', FILE, '-p', project, ...args], { env });
  return runOk(process.execPath, [TSCOMPOSE, '--progress', 'quiet', '--backend', 'native', '-f', FILE, '-p', project, ...args], { env: { ...env, ...NATIVE_ENV } });
}

const TRACE = process.env.BENCH_TRACE === '1';

interface Happening {
  at: number;
  what: string;
}

/** The project's container events between two wall-clock times, from the tool's engine. */
async function eventsBetween(tool: Tool, project: string, port: number, from: number, to: number): Promise<Happening[]> {
  const since = (from / 1000).toFixed(3);
  const until = (to / 1000 + 1).toFixed(3);
  const keep = (action: string) => /^(create|start|die|kill|health_status.*)$/.test(action);
  if (tool === 'native') {
    const out = await cli(tool, project, port, ['events', '--json', '--since', since, '--until', until]);
    return out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { time: string; action: string; service: string })
      .filter((e) => keep(e.action)).map((e) => ({ at: Date.parse(e.time), what: `${e.service} ${e.action}` }));
  }
  const out = await runOk('docker', ['events', '--since', since, '--until', until, '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{json .}}']);
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { timeNano: number; Action: string; Type: string; Actor: { Attributes: Record<string, string> } })
    .filter((e) => e.Type === 'container' && keep(e.Action))
    .map((e) => ({ at: e.timeNano / 1e6, what: `${e.Actor.Attributes['com.docker.compose.service'] ?? '?'} ${e.Action}` }));
}

/**
 * Where the containers' own work ends, from their logs' timestamps: MariaDB's
 * final server listening on 3306 (after the first start's set-up), and Apache
 * accepting requests. What lies between those and the next event (the health
 * status, WordPress's start, the page) is the engine's and the CLI's.
 */
const MILESTONES: Array<{ service: string; line: RegExp; what: string }> = [
  // The first start's temporary server says `port: 0`; the one that stays, `port: 3306`.
  { service: 'db', line: /port: 3306/, what: 'db listening on 3306' },
  { service: 'wordpress', line: /resuming normal operations/, what: 'wordpress apache ready' },
];

async function milestones(tool: Tool, project: string, port: number, from: number): Promise<Happening[]> {
  const out: Happening[] = [];
  for (const m of MILESTONES) {
    const text = await cli(tool, project, port, ['logs', '-t', '--no-color', m.service]).catch(() => '');
    // `db-1  | 2026-…Z message` (docker-compose: `db_1  | …`).
    const stamps = text.split('\n').map((l) => /\|\s*(\d{4}-\d\d-\d\dT[\d:.]+Z)\s(.*)$/.exec(l))
      .filter((x): x is RegExpExecArray => !!x && m.line.test(x[2]!))
      .map((x) => Date.parse(x[1]!)).filter((t) => t >= from);
    if (stamps.length) out.push({ at: stamps[0]!, what: m.what });
  }
  return out;
}

function printTimeline(tool: Tool, from: number, happenings: Happening[], answered: number): void {
  const rows = [...happenings, { at: answered, what: 'install page 200' }].sort((a, b) => a.at - b.at);
  console.log(`    ${tool}: ${rows.map((h) => `+${((h.at - from) / 1000).toFixed(1)} s ${h.what}`).join(', ')}`);
}

/** From `up -d` to the install page answering 200 (on 127.0.0.1 only). */
async function upToInstallPage(tool: Tool, project: string, port: number): Promise<number> {
  const wallStart = Date.now();
  const elapsed = await untilInstallPage(tool, project, port);
  if (TRACE) {
    const happenings = [...await eventsBetween(tool, project, port, wallStart, wallStart + elapsed), ...await milestones(tool, project, port, wallStart)];
    printTimeline(tool, wallStart, happenings, wallStart + elapsed);
  }
  return elapsed;
}

async function untilInstallPage(tool: Tool, project: string, port: number): Promise<number> {
  const t0 = performance.now();
  await cli(tool, project, port, ['up', '-d']);
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    const status = await fetch(`http://127.0.0.1:${port}/wp-admin/install.php`, { redirect: 'manual', signal: AbortSignal.timeout(10_000) }).then((r) => r.status, () => 0);
    if (status === 200) return performance.now() - t0;
    if (Date.now() > deadline) throw new Error(`${tool}: the install page did not answer within 5 minutes (last status ${status})`);
    await sleep(100);
  }
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const build = join(ROOT, '.cache', `bench-dist-${process.pid}`);
  const native = mkdtempSync(join(tmpdir(), 'tsc-bench-wp-'));
  NATIVE_ENV = { TSCOMPOSE_ROOT: join(native, 'state'), TSCOMPOSE_RUN: join(native, 'run') };
  const projects = { native: `wpbn${process.pid}`, compose: `wpbd${process.pid}` };
  const ports = { native: await freePort(), compose: await freePort() };
  try {
    await run('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', build], { cwd: ROOT });
    await runOk(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), build]);
    TSCOMPOSE = join(build, 'bundle/tscompose.cjs'); // what bin/tscompose runs
    // Images, untimed: Docker's from its layer cache (after the first time), ours built in the bench's own root.
    await ensureDockerDebianBase('bookworm');
    await runOk('docker-compose', ['-f', FILE, '-p', projects.compose, 'build'], { env: { ...process.env } });
    await runOk(process.execPath, [TSCOMPOSE, 'image', 'bootstrap', 'debian:bookworm', '--cache-dir', cacheDir('images')], { env: { ...process.env, ...NATIVE_ENV } });
    const b0 = Date.now();
    await cli('native', projects.native, ports.native, ['build']);
    console.log(`(native build of both images: ${fmt(Date.now() - b0)})`);

    console.log(`e2e-wordpress: up -d → install page 200, tscompose (native) vs docker-compose 1.29 on dockerd, ${RUNS} recorded pairs`);
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const a = await upToInstallPage('native', projects.native, ports.native);
      await cli('native', projects.native, ports.native, ['down', '-v']);
      const b = await upToInstallPage('compose', projects.compose, ports.compose);
      await cli('compose', projects.compose, ports.compose, ['down', '-v']);
      console.log(`  round ${i}${i === 0 ? ' (warm-up)' : ''}: tscompose ${fmt(a)}, docker-compose ${fmt(b)}`);
      if (i === 0) continue;
      ours.push(a);
      theirs.push(b);
    }
    printPair({
      subject: 'tscompose (native) up -d → install page',
      peer: 'docker-compose up -d → install page',
      subjectMedianMs: median(ours),
      peerMedianMs: median(theirs),
      ratio: median(ours.map((x, i) => x / theirs[i]!)),
    });
  } finally {
    await run(process.execPath, [TSCOMPOSE, '--progress', 'quiet', '--backend', 'native', '-f', FILE, '-p', projects.native, 'down', '-v'], { env: { ...process.env, ...NATIVE_ENV } });
    await run('docker-compose', ['-f', FILE, '-p', projects.compose, 'down', '-v'], { env: { ...process.env } });
    await sleep(1000); // the daemon leaves once the last network is gone
    rmSync(native, { recursive: true, force: true });
    rmSync(build, { recursive: true, force: true });
    console.log(`(bench took ${fmt(Date.now() - t0)})`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
