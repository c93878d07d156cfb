/**
 * Published-port throughput and connection cost: a busybox httpd in a
 * container, published on 127.0.0.1, downloaded through tscompose's
 * userland proxy (in the network daemon) and through docker-proxy (Docker's
 * userland proxy, which serves 127.0.0.1), in the same run on the same image
 * (imported from the test fixture tar) and the same file.
 *
 * - throughput: GET of a 64 MiB file, MB/s, interleaved runs;
 * - connections: 200 sequential GETs of a tiny file, one TCP connection
 *   each, median per request.
 *
 *   npx tsc -p tsconfig.bench.json && node dist-bench/bench/network-ports.js [runs]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { median } from './harness.js';
import { benchMain, freePort, sh } from './network-support.js';
import { busyboxRootfsTar } from '../test/support/images.js';
import { ensureDockerd } from '../test/support/docker.js';

const SIZE = 64 << 20;

/** Downloads a path; resolves with [bytes, ms]. */
function download(port: number, path: string): Promise<[number, number]> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => resolve([bytes, Number(process.hrtime.bigint() - t0) / 1e6]));
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function waitUp(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      await download(port, '/small');
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nothing answers on 127.0.0.1:${port}`);
}

benchMain('ports', async (s) => {
  const runs = Number(process.argv[2] ?? 8);
  await ensureDockerd();
  const tag = `${process.pid}`;
  const image = `tsc-bench-ports-busybox:${tag}`;
  const dname = `tscbench-ports-${tag}`;
  s.docker.images.push(image);
  s.docker.containers.push(dname);
  const data = join(s.work, 'www');
  mkdirSync(data);
  writeFileSync(join(data, 'big'), randomBytes(SIZE));
  writeFileSync(join(data, 'small'), 'ok\n');
  const tar = await busyboxRootfsTar();
  const [ours, theirs] = [await freePort(), await freePort()];
  s.tsc('image', 'import', tar, 'busybox:latest');
  s.tsc('container', 'run', '-d', '--name', 'web', '-p', `127.0.0.1:${ours}:80`, '-v', `${data}:/data:ro`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/data');
  sh('docker', ['import', tar, image]);
  sh('docker', ['run', '-d', '--name', dname, '-p', `127.0.0.1:${theirs}:80`, '-v', `${data}:/data:ro`, image, '/bin/busybox', 'httpd', '-f', '-p', '80', '-h', '/data']);
  await waitUp(ours);
  await waitUp(theirs);
  const peerProcess = sh('ps', ['-eo', 'args']).split('\n').some((l) => l.includes('docker-proxy') && l.includes(String(theirs)));
  console.log(`peer: ${peerProcess ? 'docker-proxy' : 'Docker (no docker-proxy process found for the port!)'} on 127.0.0.1:${theirs}`);

  const oursMBs: number[] = [];
  const theirsMBs: number[] = [];
  const ratios: number[] = [];
  await download(ours, '/big');
  await download(theirs, '/big');
  for (let i = 0; i < runs; i++) {
    const [ob, oms] = await download(ours, '/big');
    const [tb, tms] = await download(theirs, '/big');
    if (ob !== SIZE || tb !== SIZE) throw new Error(`short download: ${ob}, ${tb}`);
    oursMBs.push(SIZE / 1e6 / (oms / 1000));
    theirsMBs.push(SIZE / 1e6 / (tms / 1000));
    ratios.push(oursMBs.at(-1)! / theirsMBs.at(-1)!);
  }
  console.log(`throughput, 64 MiB GET: tscompose proxy ${median(oursMBs).toFixed(0)} MB/s  |  docker-proxy ${median(theirsMBs).toFixed(0)} MB/s  |  ratio ${median(ratios).toFixed(3)} (subject/peer, higher is better, median of pairs)`);

  const per: { o: number[]; t: number[] } = { o: [], t: [] };
  for (let i = 0; i < 200; i++) {
    per.o.push((await download(ours, '/small'))[1]);
    per.t.push((await download(theirs, '/small'))[1]);
  }
  console.log(`connection + tiny GET: tscompose proxy ${median(per.o).toFixed(3)} ms  |  docker-proxy ${median(per.t).toFixed(3)} ms  |  ratio ${(median(per.o) / median(per.t)).toFixed(3)} (subject/peer, lower is better)`);
});
