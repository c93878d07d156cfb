/**
 * A no-op rebuild (every step from the cache) of a three-stage Dockerfile
 * from the busybox fixture: `tscompose image build` through the CLI (and
 * buildImage in-process, for the engine's own share) against `docker build`
 * of the same context on dockerd (the same busybox rootfs imported there),
 * measured in the same run. Both caches are warmed by a first build.
 *
 * With --trace, the CLI's no-op rebuild runs twice more first, untimed: once
 * with the loading tracer (bench/trace.ts: Node's start-up, the CLI's files,
 * the command's own work) and once under strace (bench/process-timeline.ts:
 * every process it starts and each connection to a socket).
 *
 * With --compare=DIR, the same CLI rebuild of another checkout (DIR/bin/tscompose, built; the
 * same state root and context) is timed against this one's, interleaved: an A/B of two builds.
 *
 * With --instructions, the instructions the CLI's Node process executes for the rebuild (the least
 * of two callgrind runs; not moved by the machine's load), and DIR's with --compare.
 *
 * Run: npx tsc -p tsconfig.bench.json && node dist-bench/bench/build-noop.js [runs] [--trace] [--compare=DIR] [--instructions]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { comparePair, fmt, timeMedian } from './harness.js';
import { printTrace } from './trace.js';
import { callgrindInstructions } from './callgrind.js';
import { printTrace as printTimeline } from './process-timeline.js';
import { busyboxRootfsTar } from '../test/support/images.js';
import { ensureDockerd } from '../test/support/docker.js';

const args = process.argv.slice(2);
const TRACE = args.includes('--trace');
const RUNS = Number(args.find((a) => /^\d+$/.test(a)) ?? 10);
const INSTRUCTIONS = args.includes('--instructions');
const COMPARE = args.find((a) => a.startsWith('--compare='))?.slice('--compare='.length);

const DOCKERFILE = `ARG BASE=busybox
FROM \${BASE} AS deps
WORKDIR /src
COPY deps.txt ./
RUN sort deps.txt > sorted.txt

FROM \${BASE} AS build
ARG VERSION=1.0
COPY --from=deps /src/sorted.txt /build/
COPY app/ /build/app/
RUN cat /build/app/*.sh > /build/out.sh && echo "echo version=$VERSION" >> /build/out.sh

FROM \${BASE}
LABEL org.example.stage=final
ENV GREETING="hello world"
COPY --from=build /build/out.sh /usr/local/bin/app.sh
RUN chmod 755 /usr/local/bin/app.sh
WORKDIR /home/user/work
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/app.sh"]
CMD ["--help"]
`;

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'native', 'Makefile'))) dir = dirname(dir);
  return dir;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-bench-build-'));
  process.env.TSCOMPOSE_ROOT = join(dir, 'state');
  process.env.TSCOMPOSE_RUN = join(dir, 'run');
  const ctx = join(dir, 'ctx');
  mkdirSync(join(ctx, 'app'), { recursive: true });
  writeFileSync(join(ctx, 'Dockerfile'), DOCKERFILE);
  writeFileSync(join(ctx, 'deps.txt'), 'zlib\nopenssl\nlibc\n');
  writeFileSync(join(ctx, 'app/1-main.sh'), '#!/bin/sh\necho "$GREETING"\n');
  writeFileSync(join(ctx, 'app/2-more.sh'), 'echo "args: $*"\n');
  const suffix = randomBytes(4).toString('hex');
  const dockerBase = `tsc-bench-busybox:${suffix}`;
  const dockerTag = `tsc-bench-noop:${suffix}`;
  const { ImageStore, importRootfsTar } = await import('../src/engine/native/image/index.js');
  const { ContainerRuntime } = await import('../src/engine/native/runtime/index.js');
  const { buildImage } = await import('../src/build/index.js');
  const { runOk } = await import('../src/util/proc.js');
  await ensureDockerd();
  try {
    const tar = await busyboxRootfsTar();
    const store = await ImageStore.open();
    await importRootfsTar(store, tar, { tags: ['busybox:latest'] });
    execFileSync('docker', ['import', tar, dockerBase], { stdio: 'ignore' });
    const deps = { store, runtime: await ContainerRuntime.open({ images: store }) };
    const cli = join(repoRoot(), 'bin', 'tscompose');
    const ours = ['image', 'build', '-q', '-t', 'bench-noop:1', ctx];
    const theirs = ['build', '-q', '-t', dockerTag, '--build-arg', `BASE=${dockerBase}`, ctx];
    // Warm both caches.
    const first = await buildImage(deps, { context: ctx, tags: ['bench-noop:1'] });
    await runOk('docker', theirs);
    const again = await buildImage(deps, { context: ctx, tags: ['bench-noop:1'] });
    if (again.cacheMisses !== 0 || again.imageId !== first.imageId) throw new Error('the rebuild was not all cache hits');
    console.log(`${again.cacheHits} steps, all from the cache`);

    if (TRACE) {
      await printTrace('tscompose image build (CLI, no-op)', cli, ours, process.env, dir);
      printTimeline('tscompose image build (CLI, no-op)', cli, ours);
    }
    const inProcess = await timeMedian({ label: 'buildImage', run: async () => { await buildImage(deps, { context: ctx, tags: ['bench-noop:1'] }); } }, RUNS);
    console.log(`tscompose no-op rebuild, in-process (buildImage): ${fmt(inProcess)}`);
    await comparePair(
      { label: 'tscompose image build (CLI, no-op)', run: async () => { await runOk(cli, ours); } },
      { label: 'docker build (no-op)', run: async () => { await runOk('docker', theirs); } },
      RUNS,
    );
    if (COMPARE) {
      const other = join(COMPARE, 'bin', 'tscompose');
      await comparePair(
        { label: 'tscompose image build (CLI, no-op)', run: async () => { await runOk(cli, ours); } },
        { label: `the same, ${COMPARE}'s build`, run: async () => { await runOk(other, ours); } },
        RUNS,
      );
    }
    if (INSTRUCTIONS) {
      const least = async (bin: string) => Math.min(...[await callgrindInstructions(bin, ours, process.env, dir), await callgrindInstructions(bin, ours, process.env, dir)]);
      const mine = await least(cli);
      const line = [`instructions of the CLI's process (callgrind, least of 2): ${(mine / 1e6).toFixed(1)} M`];
      if (COMPARE) {
        const theirs = await least(join(COMPARE, 'bin', 'tscompose'));
        line.push(`${COMPARE}'s build ${(theirs / 1e6).toFixed(1)} M, ratio ${(mine / theirs).toFixed(3)}`);
      }
      console.log(line.join('  |  '));
    }
  } finally {
    for (const t of [dockerTag, dockerBase]) {
      try { execFileSync('docker', ['rmi', '-f', t], { stdio: 'ignore' }); } catch { /* gone */ }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
