/**
 * Service-name lookups from inside a container: tscompose's embedded DNS
 * (on the network's gateway, in the network daemon) against Docker's
 * embedded DNS (127.0.0.11 in each container), measured in the same run on
 * the same busybox image (imported from the test fixture tar), two
 * containers per engine on a user network, name `s2` asked from `s1`.
 *
 * Two methods:
 * - median of 1000 single lookups: a UDP client (node) in s1's network
 *   namespace times each A query from send to answer; rounds interleave the
 *   engines, the ratio is the median of per-round ratios;
 * - perf-baselines.md §5: 1000 `nslookup s2` (A + AAAA) in one exec, minus
 *   1000 `busybox true`, divided by 1000.
 *
 *   npx tsc -p tsconfig.bench.json && node dist-bench/bench/network-dns.js [rounds]
 */
import { join } from 'node:path';
import { median, fmt } from './harness.js';
import { benchMain, repoRoot, sh } from './network-support.js';
import { busyboxRootfsTar } from '../test/support/images.js';
import { ensureDockerd } from '../test/support/docker.js';

interface Latency {
  median: number;
  p90: number;
  failures: number;
  answers: string[];
}

function latency(netns: string, server: string): Latency {
  const out = sh('nsenter', [`--net=${netns}`, process.execPath, join(repoRoot, 'test/network/fixtures/dns-latency.mjs'), server, 's2', '1000']);
  return JSON.parse(out) as Latency;
}

function time(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const LOOP = (cmd: string) => `i=0; while [ $i -lt 1000 ]; do ${cmd} >/dev/null || exit 1; i=$((i+1)); done`;

benchMain('dns', async (s) => {
  const rounds = Number(process.argv[2] ?? 5);
  await ensureDockerd();
  const tag = `${process.pid}`;
  const image = `tsc-bench-dns-busybox:${tag}`;
  const dnet = `tscbench-dns-${tag}`;
  const dc = (n: string) => `tscbench-dns-${n}-${tag}`;
  s.docker.images.push(image);
  s.docker.networks.push(dnet);
  s.docker.containers.push(dc('s1'), dc('s2'));

  const tar = await busyboxRootfsTar();
  s.tsc('image', 'import', tar, 'busybox:latest');
  s.tsc('network', 'create', 'benchnet');
  for (const n of ['s1', 's2']) s.tsc('container', 'run', '-d', '--name', n, '--network', 'benchnet', '--network-alias', n, 'busybox', 'sleep', '3600');
  sh('docker', ['import', tar, image]);
  sh('docker', ['network', 'create', dnet]);
  // As in perf-baselines §5: Docker's resolver may only forward to loopback; only its own names are asked.
  for (const n of ['s1', 's2']) sh('docker', ['run', '-d', '--name', dc(n), '--network', dnet, '--network-alias', n, '--dns', '127.0.0.1', image, '/bin/busybox', 'sleep', '3600']);

  const [net] = JSON.parse(s.tsc('network', 'inspect', 'benchnet')) as [{ IPAM: { Config: { Gateway: string }[] }; Containers: Record<string, { Name: string }> }];
  const gateway = net.IPAM.Config[0]!.Gateway;
  const s1 = Object.entries(net.Containers).find(([, c]) => c.Name === 's1')![0];
  const ourNetns = join(s.env.TSCOMPOSE_RUN!, 'netns', s1);
  const dockerNetns = `/proc/${sh('docker', ['inspect', '-f', '{{.State.Pid}}', dc('s1')]).trim()}/ns/net`;

  console.log('median of 1000 lookups of "s2" (A, UDP) from s1\'s network namespace:');
  const ours: number[] = [];
  const theirs: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const a = latency(ourNetns, gateway);
    const b = latency(dockerNetns, '127.0.0.11');
    if (a.failures || b.failures || a.answers.length !== 1 || b.answers.length !== 1) throw new Error(`lookups failed: ours ${JSON.stringify(a)}, docker ${JSON.stringify(b)}`);
    ours.push(a.median);
    theirs.push(b.median);
    ratios.push(a.median / b.median);
    console.log(`  round ${r + 1}: tscompose ${a.median.toFixed(3)} ms (p90 ${a.p90.toFixed(3)})  |  docker ${b.median.toFixed(3)} ms (p90 ${b.p90.toFixed(3)})`);
  }
  console.log(`tscompose DNS: ${median(ours).toFixed(3)} ms  |  docker embedded DNS: ${median(theirs).toFixed(3)} ms  |  ratio ${median(ratios).toFixed(3)} (subject/peer, median of rounds)`);

  console.log('\nperf-baselines §5 method: 1000 × busybox nslookup s2 (A + AAAA) in one exec, minus 1000 × busybox true:');
  const execOurs = (cmd: string) => () => s.tsc('container', 'exec', 's1', 'sh', '-c', LOOP(cmd));
  const execDocker = (cmd: string) => () => sh('docker', ['exec', dc('s1'), 'sh', '-c', LOOP(cmd)]);
  const per: { ours: number[]; docker: number[]; ratio: number[] } = { ours: [], docker: [], ratio: [] };
  for (let r = 0; r < Math.max(3, Math.ceil(rounds / 2)); r++) {
    const oL = time(execOurs('nslookup s2'));
    const oT = time(execOurs('busybox true'));
    const dL = time(execDocker('nslookup s2'));
    const dT = time(execDocker('busybox true'));
    per.ours.push((oL - oT) / 1000);
    per.docker.push((dL - dT) / 1000);
    per.ratio.push((oL - oT) / (dL - dT));
    console.log(`  round ${r + 1}: tscompose ${fmt(oL)} - ${fmt(oT)}  |  docker ${fmt(dL)} - ${fmt(dT)}`);
  }
  console.log(`tscompose: ${median(per.ours).toFixed(3)} ms/lookup  |  docker: ${median(per.docker).toFixed(3)} ms/lookup  |  ratio ${median(per.ratio).toFixed(3)} (subject/peer, median of rounds)`);
});
