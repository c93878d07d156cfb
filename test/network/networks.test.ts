import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, runOk } from '../../src/util/proc.js';
import { createNetwork, inspectNetwork, pruneNetworks } from '../../src/network/index.js';
import { hostRoutes } from '../../src/network/hostroutes.js';
import { overlaps, parseCidr } from '../../src/network/ipv4.js';
import { ensureDockerd } from '../support/docker.js';
import { repoRoot } from '../support/cache.js';
import { useNetEnv, type FakeContainer } from './support.js';
import { forceCleanup } from './leaks.js';

// Subnets, IPAM, internal networks, egress NAT and the firewall, on the real kernel, next to a
// running Docker daemon (which sets FORWARD's policy to DROP). "Outside" is a namespace of the
// test's own, wired to the host by a veth: no packet leaves the machine.

interface Outside {
  ip: string;
  close(): Promise<void>;
}

/** A namespace standing for "the internet": 10.254.x.2/30 behind a veth, with a UDP who-am-i server. */
async function makeOutside(dir: string): Promise<Outside> {
  const tag = randomBytes(3).toString('hex');
  const host = `nattest-h${tag}`;
  const peer = `nattest-o${tag}`;
  const third = 100 + (parseInt(tag, 16) % 100);
  const handle = join(dir, `outside-${tag}`);
  writeFileSync(handle, '');
  await runOk('unshare', [`--net=${handle}`, 'ip', 'link', 'set', 'lo', 'up']);
  await runOk('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', peer, 'netns', handle]);
  await runOk('ip', ['addr', 'add', `10.254.${third}.1/30`, 'dev', host]);
  await runOk('ip', ['link', 'set', host, 'up']);
  await runOk('nsenter', [`--net=${handle}`, 'ip', 'addr', 'add', `10.254.${third}.2/30`, 'dev', peer]);
  await runOk('nsenter', [`--net=${handle}`, 'ip', 'link', 'set', peer, 'up']);
  const server: ChildProcess = spawn('nsenter', [`--net=${handle}`, process.execPath, join(repoRoot, 'test/network/fixtures/udp-whoami.mjs'), '7777'], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const r = await run('nsenter', [`--net=${handle}`, 'cat', '/proc/net/udp']);
    if (r.stdout.includes(':1E61 ')) break;
    await sleep(25);
  }
  return {
    ip: `10.254.${third}.2`,
    close: async () => {
      server.kill('SIGKILL');
      await run('ip', ['link', 'del', host]);
      await run('umount', [handle]);
    },
  };
}

async function ask(c: FakeContainer, ip: string): Promise<string> {
  const r = await c.exec([process.execPath, join(repoRoot, 'test/network/fixtures/udp-ask.mjs'), ip, '7777']);
  return r.stdout.trim();
}

describe('networks on the kernel', () => {
  const t = useNetEnv();

  it('default subnets skip the host\'s routes and every other network, of this root or another', async () => {
    const before = hostRoutes();
    const a = await createNetwork({ name: 'a' });
    expect(before.some((r) => overlaps(r, parseCidr(a.subnet)!))).toBe(false);
    // Another state root on the same host (another installation, another test): its bridge is a host route now.
    const other = mkdtempSync(join(tmpdir(), 'tsc-net-other-'));
    const saved = { ...process.env };
    Object.assign(process.env, { TSCOMPOSE_ROOT: join(other, 'root'), TSCOMPOSE_RUN: join(other, 'run') });
    let b;
    const switchTo = (root: string, run: string) => Object.assign(process.env, { TSCOMPOSE_ROOT: root, TSCOMPOSE_RUN: run });
    try {
      b = await createNetwork({ name: 'b' });
      expect(overlaps(parseCidr(a.subnet)!, parseCidr(b.subnet)!)).toBe(false);
      switchTo(saved.TSCOMPOSE_ROOT!, saved.TSCOMPOSE_RUN!);
      const c = await createNetwork({ name: 'c' });
      expect([a.subnet, b.subnet]).not.toContain(c.subnet);
    } finally {
      switchTo(join(other, 'root'), join(other, 'run'));
      try {
        await pruneNetworks();
      } finally {
        // Whatever the other root still has in the kernel goes, even when its prune failed.
        await forceCleanup({ runRoot: join(other, 'run') });
        switchTo(saved.TSCOMPOSE_ROOT!, saved.TSCOMPOSE_RUN!);
        rmSync(other, { recursive: true, force: true });
      }
    }
  });

  it('egress is NATed to the host\'s address; internal networks have no route out and are firewalled', async () => {
    await ensureDockerd();
    expect(await runOk('iptables', ['-S', 'FORWARD'])).toMatch(/^-P FORWARD DROP$/m); // Docker's policy
    const outside = await makeOutside(t.tempDir());
    try {
      await createNetwork({ name: 'public' });
      await createNetwork({ name: 'private', internal: true });
      const pub = await t.start('pub', [{ network: 'public' }]);
      const priv = await t.start('priv', [{ network: 'private', aliases: ['secret'] }]);
      const peer = await t.start('peer', [{ network: 'private' }]);

      // Out through the host, masqueraded: the outside sees the host's address, not the container's.
      const seen = await ask(pub, outside.ip);
      expect(seen).toBe(outside.ip.replace(/\.2$/, '.1'));
      expect(await runOk('iptables-save', ['-t', 'nat'])).toContain(`-A TSCOMPOSE-POSTROUTING -s ${inspectNetwork('public').IPAM.Config[0]!.Subnet} ! -o ${inspectNetwork('public').Options['com.docker.network.bridge.name']}`);

      // Internal: no default route, no NAT rule, and forwarding dropped even if a route is forced.
      expect((await priv.exec(['ip', 'route'])).stdout).not.toMatch(/^default/m);
      expect(await ask(priv, outside.ip)).toMatch(/^ERROR/);
      await priv.exec(['ip', 'route', 'add', 'default', 'via', priv.gateway]);
      expect(await ask(priv, outside.ip)).toMatch(/^ERROR/);
      expect(await runOk('iptables-save', ['-t', 'nat'])).not.toContain(inspectNetwork('private').IPAM.Config[0]!.Subnet);
      // Inside the internal network, and with its DNS, all is well (br_netfilter sends bridged traffic through FORWARD).
      expect((await peer.nslookup('secret')).addresses).toEqual([priv.ip]);
      expect((await peer.exec(['busybox', 'ping', '-c', '1', '-W', '2', priv.ip])).code).toBe(0);
    } finally {
      await outside.close();
    }
  });

  it('installs exactly its rules, in its own chains, and its IPAM bitmap', async () => {
    await createNetwork({ name: 'one' });
    const n = inspectNetwork('one');
    const saved = await runOk('iptables-save', []);
    const mine = saved.split('\n').filter((l) => l.includes(`tscompose:`) && l.includes(n.Id.slice(0, 12)));
    expect(mine).toHaveLength(7); // isolation accept, 2 DNS accepts, 2 forward accepts, masquerade, hairpin masquerade
    expect(saved).toMatch(/^-A FORWARD -j TSCOMPOSE-FORWARD$/m);
    expect(saved).toMatch(/^-A TSCOMPOSE-FORWARD -i tsc-br-\+ -o tsc-br-\+ -j TSCOMPOSE-ISOLATION$/m);
    // IPAM bitmap on disk matches what was handed out.
    const rec = JSON.parse(readFileSync(join(t.env.stateRoot, 'networks', `${n.Id}.json`), 'utf8')) as { ipam: { bitmap: string } };
    expect(rec.ipam.bitmap.length).toBeGreaterThan(0);
  });
});
