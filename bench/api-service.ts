/**
 * `tscompose system service` against dockerd, through the same client
 * (Debian's docker CLI 20.10, a process per command, as users run it):
 * `docker ps` and `docker run --rm --network none <busybox> true`, the one
 * with DOCKER_HOST on our socket, the other on dockerd's, interleaved.
 * Then the server's resident memory (VmRSS, and its peak VmHWM) idle and
 * with 20 containers running that it started. Targets (issue 16): ratios at
 * most 0.5, RSS with 20 containers under 40 MiB.
 *
 * Run: npx tsc -p tsconfig.bench.json && node dist-bench/bench/api-service.js [runs]
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'node:http';
import { comparePair, fmt } from './harness.js';
import { busyboxRootfsTar } from '../test/support/images.js';
import { ensureDockerd } from '../test/support/docker.js';

const RUNS = Number(process.argv[2] ?? 20);
const DOCKER = '/usr/bin/docker';
const CONTAINERS = 20;

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'native', 'Makefile'))) dir = dirname(dir);
  return dir;
}

function docker(host: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(DOCKER, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DOCKER_HOST: host } });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`docker ${args.join(' ')} on ${host} exited ${code}: ${err}`))));
  });
}

/** One API request on a Unix socket, the body read and dropped: the server's own share of a client's command. */
function get(socket: string, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`GET ${path}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/** VmRSS and VmHWM of a process, in MiB. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-bench-api-'));
  const env = { ...process.env, TSCOMPOSE_ROOT: join(dir, 'state'), TSCOMPOSE_RUN: join(dir, 'run'), TMPDIR: join(dir, 'tmp') };
  mkdirSync(env.TMPDIR, { recursive: true });
  const socket = join(dir, 'api.sock');
  const ours = `unix://${socket}`;
  const theirs = 'unix:///var/run/docker.sock';
  const image = `tsc-bench-api-bb:${randomBytes(4).toString('hex')}`;
  const server = spawn(join(repoRoot(), 'bin/tscompose'), ['system', 'service', '--host', ours], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const started: string[] = [];
  try {
    for (let i = 0; !existsSync(socket); i++) {
      if (i > 300 || server.exitCode !== null) throw new Error('tscompose system service did not start');
      await sleep(100);
    }
    await ensureDockerd();
    const tar = await busyboxRootfsTar();
    await docker(ours, ['import', tar, image]);
    await docker(theirs, ['import', tar, image]);

    console.log(`the Docker Engine API: tscompose system service vs dockerd, the docker CLI 20.10 on each; interleaved pairs, medians (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
    const ps = await comparePair(
      { label: 'docker ps (system service)', run: () => docker(ours, ['ps']).then(() => undefined) },
      { label: 'docker ps (dockerd)', run: () => docker(theirs, ['ps']).then(() => undefined) },
      RUNS, 2,
    );
    // The same list as a bare request: `docker ps` above is mostly the client's own start (~0.1 s of Go runtime and config).
    const list = await comparePair(
      { label: 'GET /containers/json (system service)', run: () => get(socket, '/v1.41/containers/json') },
      { label: 'GET /containers/json (dockerd)', run: () => get('/var/run/docker.sock', '/v1.41/containers/json') },
      RUNS * 10, 5,
    );
    const runArgs = ['run', '--rm', '--network', 'none', image, '/bin/busybox', 'true'];
    const run = await comparePair(
      { label: 'docker run --rm --network none true (system service)', run: () => docker(ours, runArgs).then(() => undefined) },
      { label: 'docker run --rm --network none true (dockerd)', run: () => docker(theirs, runArgs).then(() => undefined) },
      RUNS, 2,
    );

    const idle = memory(server.pid!);
    for (let i = 0; i < CONTAINERS; i++) started.push((await docker(ours, ['run', '-d', '--network', 'none', image, '/bin/busybox', 'sleep', '3600'])).trim());
    const running = (await docker(ours, ['ps', '-q'])).trim().split('\n').filter(Boolean).length;
    // A list and an inspect of each, as a client polling its containers would do.
    await docker(ours, ['inspect', ...started]);
    const busy = memory(server.pid!);
    console.log(`server memory: idle after the runs above ${idle.rss.toFixed(1)} MiB; with ${running} containers running ${busy.rss.toFixed(1)} MiB RSS (peak ${busy.peak.toFixed(1)} MiB)`);
    console.log(`targets: docker ps ratio ${ps.ratio.toFixed(3)}, docker run ratio ${run.ratio.toFixed(3)} (<= 0.5: ${ps.ratio <= 0.5 && run.ratio <= 0.5 ? 'met' : 'NOT met'}); RSS with ${running} containers ${busy.rss.toFixed(1)} MiB (< 40 MiB: ${busy.rss < 40 ? 'met' : 'NOT met'})`);
    console.log(`medians: ps ${fmt(ps.subjectMedianMs)} vs ${fmt(ps.peerMedianMs)}; run ${fmt(run.subjectMedianMs)} vs ${fmt(run.peerMedianMs)}; the bare list request ${fmt(list.subjectMedianMs)} vs ${fmt(list.peerMedianMs)} (ratio ${list.ratio.toFixed(3)})`);
  } finally {
    if (started.length) await docker(ours, ['rm', '-f', ...started]).catch((e) => console.error(e));
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode !== null ? r(null) : server.once('exit', r)));
    try { execFileSync(DOCKER, ['rmi', '-f', image], { stdio: 'ignore', env: { ...process.env, DOCKER_HOST: theirs } }); } catch { /* not imported */ }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
