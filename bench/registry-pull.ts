/**
 * Pull of a ~120 MB image (the Debian base, one layer, with a file of this
 * run's own so that no store has its layer already) from a local registry
 * (Debian's docker-registry on 127.0.0.1): `pullImage` into an empty store
 * (download, digest checks, unpack) against `docker pull` of the same
 * reference into dockerd (which treats 127.0.0.0/8 as insecure), measured
 * in the same run. Each pull starts empty: our store is a fresh dir, docker's
 * image is removed between pulls (untimed).
 *
 * Run: npx tsc -p tsconfig.bench.json && node dist-bench/bench/registry-pull.js [runs]
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, median, printPair } from './harness.js';
import { debianRootfsTar } from '../test/support/images.js';
import { ensureDockerd } from '../test/support/docker.js';
import { startRegistry } from '../test/support/registry.js';

const RUNS = Number(process.argv[2] ?? 5);

async function timed(fn: () => Promise<void> | void): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-bench-pull-'));
  process.env.TSCOMPOSE_ROOT = join(dir, 'state');
  process.env.TSCOMPOSE_RUN = join(dir, 'run');
  process.env.DOCKER_CONFIG = join(dir, 'docker-config');
  const { ImageStore, importRootfsTar } = await import('../src/engine/native/image/index.js');
  const { pullImage, pushImage } = await import('../src/engine/native/registry/index.js');
  await ensureDockerd();
  const registry = await startRegistry('none');
  const ref = `${registry.host}/bench/debian:${randomBytes(4).toString('hex')}`;
  try {
    // This run's own variant of the Debian rootfs: a new layer nobody has.
    const tar = join(dir, 'rootfs.tar');
    copyFileSync(await debianRootfsTar('bookworm'), tar);
    writeFileSync(join(dir, 'bench-marker'), randomBytes(16).toString('hex'));
    execFileSync('tar', ['-rf', tar, '-C', dir, 'bench-marker']);
    const source = await ImageStore.open(join(dir, 'source'));
    await importRootfsTar(source, tar, { tags: [ref] });
    const pushed = await pushImage(source, ref);
    const blobBytes = statSync(registry.blobFile(pushed.layers[0]!.digest)).size;
    console.log(`image ${ref}: ${(statSync(tar).size / 1e6).toFixed(1)} MB tar, ${(blobBytes / 1e6).toFixed(1)} MB compressed layer`);

    const ours: number[] = [];
    const theirs: number[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < RUNS + 1; i++) {
      const storeDir = mkdtempSync(join(dir, 'pull-'));
      const store = await ImageStore.open(join(storeDir, 'image'));
      const a = await timed(async () => { await pullImage(store, ref); });
      rmSync(storeDir, { recursive: true, force: true });
      const b = await timed(() => { execFileSync('docker', ['pull', '-q', ref], { stdio: 'ignore' }); });
      execFileSync('docker', ['rmi', '-f', ref], { stdio: 'ignore' });
      if (i === 0) continue; // warm-up pair
      ours.push(a);
      theirs.push(b);
      ratios.push(a / b);
    }
    const result = { subject: 'tscompose pull (in-process)', peer: 'docker pull', subjectMedianMs: median(ours), peerMedianMs: median(theirs), ratio: median(ratios) };
    printPair(result);
    console.log(`throughput: tscompose ${((blobBytes / 1e6) / (result.subjectMedianMs / 1000)).toFixed(1)} MB/s compressed, docker ${((blobBytes / 1e6) / (result.peerMedianMs / 1000)).toFixed(1)} MB/s (${RUNS} pairs, medians ${fmt(result.subjectMedianMs)} / ${fmt(result.peerMedianMs)})`);
  } finally {
    try { execFileSync('docker', ['rmi', '-f', ref], { stdio: 'ignore' }); } catch { /* already gone */ }
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
