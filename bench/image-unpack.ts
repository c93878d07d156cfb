/**
 * Unpack throughput of a Debian image's layer: `tscompose image load` of a
 * `docker save` archive against `docker load` of the same archive, in the
 * same run, interleaved. Each timed run starts from a store (ours, Docker's)
 * that lacks the layer; removing it again happens between the timed parts,
 * after a `sync`, so neither side pays the other's writeback. (That reset is
 * why the pairs are timed here rather than with comparePair, which times
 * whole runs; the medians, the median of per-pair ratios and the printed line
 * are the shared harness's.)
 *
 *   npx tsc -p tsconfig.bench.json && node dist-bench/bench/image-unpack.js [runs]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { median, printPair, type PairResult } from './harness.js';
import { debianRootfsTar } from '../test/support/images.js';
import { ensureDockerd } from '../test/support/docker.js';

const TAG = `tsc-bench-unpack:${process.pid}`;
// dist-bench/bench/ → the checkout, whose bin/tscompose runs the built dist/.
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function sh(cmd: string, args: string[], env?: NodeJS.ProcessEnv): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
}

function timed(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  await ensureDockerd();
  const work = mkdtempSync(join(tmpdir(), 'tsc-bench-unpack-'));
  const storeRoot = join(work, 'state');
  const env = { ...process.env, TSCOMPOSE_ROOT: storeRoot, TSCOMPOSE_RUN: join(work, 'run') };
  try {
    // A Debian layer no image in the Docker Engine has yet: the debootstrap tar plus a marker file.
    const layerTar = join(work, 'layer.tar');
    copyFileSync(await debianRootfsTar(), layerTar);
    writeFileSync(join(work, 'bench-marker'), `${process.pid} ${Date.now()}\n`);
    sh('tar', ['-rf', layerTar, '-C', work, 'bench-marker']);
    sh('docker', ['import', layerTar, TAG]);
    const archive = join(work, 'debian.tar');
    sh('docker', ['save', '-o', archive, TAG]);
    const layerBytes = statSync(layerTar).size;
    const mb = layerBytes / 1e6;
    console.log(`layer: ${mb.toFixed(1)} MB uncompressed, ${execFileSync('tar', ['-tf', layerTar], { encoding: 'utf8' }).split('\n').length - 1} entries; archive ${(statSync(archive).size / 1e6).toFixed(1)} MB`);

    const cli = join(repoRoot, 'bin', 'tscompose');
    const resetOurs = () => { rmSync(storeRoot, { recursive: true, force: true }); sh('sync', []); };
    const resetDocker = () => {
      spawnSync('docker', ['rmi', '-f', TAG], { stdio: 'ignore' });
      sh('sync', []);
    };
    const ours = () => sh(cli, ['image', 'load', '-q', '-i', archive], env);
    const docker = () => sh('docker', ['load', '-q', '-i', archive]);

    resetDocker();
    resetOurs();
    ours(); // warm-up pair: page cache holds the archive for both
    resetOurs();
    docker();
    resetDocker();
    const a: number[] = [];
    const b: number[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < runs; i++) {
      const ta = timed(ours);
      resetOurs();
      const tb = timed(docker);
      resetDocker();
      a.push(ta);
      b.push(tb);
      ratios.push(ta / tb);
    }
    const result: PairResult = {
      subject: 'tscompose image load',
      peer: 'docker load',
      subjectMedianMs: median(a),
      peerMedianMs: median(b),
      ratio: median(ratios),
    };
    printPair(result);
    console.log(`unpack throughput: tscompose ${(mb / (result.subjectMedianMs / 1000)).toFixed(1)} MB/s, docker ${(mb / (result.peerMedianMs / 1000)).toFixed(1)} MB/s ` +
      `(ratio of times ${result.ratio.toFixed(3)}: below 1 means tscompose is faster; ${runs} interleaved pairs)`);
  } finally {
    spawnSync('docker', ['rmi', '-f', TAG], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
