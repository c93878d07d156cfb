/**
 * What batching buys: plumbing a container into a network and out again.
 *
 * - attach + detach through src/network (one `unshare ip -batch` process to
 *   make the namespace with its veth, address, route and master; one
 *   `umount` to take it away: an empty namespace takes its veths along)
 *   against the same kernel work done the usual way, one process per step;
 * - a network's firewall rules added and removed: one iptables-save and one
 *   iptables-restore each way, against one `iptables` process per rule;
 * - `network connect` + `disconnect` of a running container, tscompose CLI
 *   against docker CLI (Docker's peer operation, measured in the same run).
 *
 *   npx tsc -p tsconfig.bench.json && node dist-bench/bench/network-attach.js [runs]
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { comparePair } from './harness.js';
import { benchMain, cli, sh } from './network-support.js';
import { busyboxRootfsTar } from '../test/support/images.js';
import { ensureDockerd } from '../test/support/docker.js';

benchMain('attach', async (s) => {
  const runs = Number(process.argv[2] ?? 15);
  await ensureDockerd();
  // The API runs in this process, on the bench's scratch roots.
  Object.assign(process.env, { TSCOMPOSE_ROOT: s.env.TSCOMPOSE_ROOT, TSCOMPOSE_RUN: s.env.TSCOMPOSE_RUN });
  const { env, work } = s;
  const net = await import('../src/network/index.js');
  const { applyFirewall, withHostLock } = await import('../src/network/firewall.js');
  const tag = `${process.pid}`;
  const image = `tsc-bench-attach-busybox:${tag}`;
  const dnet = `tscbench-attach-${tag}`;
  const dcont = `tscbench-attach-c-${tag}`;
  s.docker.images.push(image);
  s.docker.networks.push(dnet);
  s.docker.containers.push(dcont);
  const rec = await net.createNetwork({ name: 'benchnet' });
  const prefix = rec.subnet.split('/')[1];

  // A. attach + detach, batched (ours) vs one process per step (same links, same addresses).
  const ours = async () => {
    const id = randomBytes(32).toString('hex');
    await net.attachContainer(id, `c${id.slice(0, 6)}`, [{ network: 'benchnet' }]);
    await net.detachContainer(id);
  };
  let n = 0;
  const naive = () => {
    const h = join(work, `ns${n}`);
    const veth = `tscbv${tag.slice(-4)}${(n % 1000).toString().padStart(3, '0')}`.slice(0, 15);
    const ip = `${rec.gateway.split('.').slice(0, 2).join('.')}.200.${(n++ % 250) + 1}`;
    writeFileSync(h, '');
    sh('unshare', [`--net=${h}`, 'true']);
    sh('nsenter', [`--net=${h}`, 'ip', 'link', 'set', 'lo', 'up']);
    sh('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h]);
    sh('ip', ['link', 'set', veth, 'master', rec.bridge]);
    sh('ip', ['link', 'set', veth, 'up']);
    sh('nsenter', [`--net=${h}`, 'ip', 'addr', 'add', `${ip}/${prefix}`, 'dev', 'eth0']);
    sh('nsenter', [`--net=${h}`, 'ip', 'link', 'set', 'eth0', 'up']);
    sh('nsenter', [`--net=${h}`, 'ip', 'route', 'add', 'default', 'via', rec.gateway]);
    sh('ip', ['link', 'del', veth]);
    sh('umount', [h]);
    rmSync(h);
  };
  await comparePair({ label: 'attach+detach (batched, incl. state and daemon reload)', run: ours }, { label: 'same plumbing, one process per step', run: naive }, runs, 2);

  // B. a network's firewall rules in and out: one restore vs one iptables process per rule.
  const fake = { id: randomBytes(32).toString('hex'), bridge: `tsc-br-bench${tag.slice(-1)}`, subnet: '10.199.0.0/24', gateway: '10.199.0.1', internal: false, masquerade: true };
  const batched = async () => {
    await withHostLock(() => applyFirewall([fake], []));
    await withHostLock(() => applyFirewall([], [fake.id]));
  };
  const c = `tscompose-bench-${tag}`;
  const perRule: string[][] = [
    ['-t', 'filter', '-I', 'TSCOMPOSE-ISOLATION', '1', '-i', fake.bridge, '-o', fake.bridge, '-m', 'comment', '--comment', c, '-j', 'ACCEPT'],
    ['-t', 'filter', '-A', 'TSCOMPOSE-INPUT', '-d', '10.199.0.1/32', '-i', fake.bridge, '-p', 'udp', '--dport', '53', '-m', 'comment', '--comment', c, '-j', 'ACCEPT'],
    ['-t', 'filter', '-A', 'TSCOMPOSE-INPUT', '-d', '10.199.0.1/32', '-i', fake.bridge, '-p', 'tcp', '--dport', '53', '-m', 'comment', '--comment', c, '-j', 'ACCEPT'],
    ['-t', 'filter', '-A', 'TSCOMPOSE-FORWARD', '-o', fake.bridge, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-m', 'comment', '--comment', c, '-j', 'ACCEPT'],
    ['-t', 'filter', '-A', 'TSCOMPOSE-FORWARD', '-i', fake.bridge, '-m', 'comment', '--comment', c, '-j', 'ACCEPT'],
    ['-t', 'nat', '-A', 'TSCOMPOSE-POSTROUTING', '-s', '10.199.0.0/24', '!', '-o', fake.bridge, '-m', 'comment', '--comment', c, '-j', 'MASQUERADE'],
  ];
  const oneByOne = () => {
    for (const r of perRule) sh('iptables', ['-w', ...r]);
    for (const r of perRule) sh('iptables', ['-w', ...r.map((a) => (a === '-A' || a === '-I' ? '-D' : a)).filter((a, i, all) => !(all[i - 1] === 'TSCOMPOSE-ISOLATION' && a === '1'))]);
  };
  await comparePair({ label: 'firewall rules in+out (one save+restore each way)', run: batched }, { label: 'one iptables process per rule', run: oneByOne }, runs, 2);

  // C. connect + disconnect of a running container: tscompose CLI vs docker CLI.
  sh(cli, ['image', 'import', await busyboxRootfsTar(), 'busybox:latest'], env);
  sh(cli, ['network', 'create', 'extra'], env);
  sh(cli, ['container', 'run', '-d', '--name', 'bench-c', '--network', 'benchnet', 'busybox', 'sleep', '3600'], env);
  sh('docker', ['import', await busyboxRootfsTar(), image]);
  sh('docker', ['network', 'create', dnet]);
  sh('docker', ['run', '-d', '--name', dcont, image, '/bin/busybox', 'sleep', '3600']);
  await comparePair(
    { label: 'tscompose network connect+disconnect', run: () => { sh(cli, ['network', 'connect', 'extra', 'bench-c'], env); sh(cli, ['network', 'disconnect', 'extra', 'bench-c'], env); } },
    { label: 'docker network connect+disconnect', run: () => { sh('docker', ['network', 'connect', dnet, dcont]); sh('docker', ['network', 'disconnect', dnet, dcont]); } },
    Math.min(runs, 10),
    1,
  );
});
