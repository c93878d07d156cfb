import { describe, it, expect } from 'vitest';
import { run } from '../../src/util/proc.js';
import { hostRoutes } from '../../src/network/hostroutes.js';
import { formatIpv4 } from '../../src/network/ipv4.js';
import { freeSubnet16, useNetEnv } from './support.js';

// `tscompose network ...` as a user types it, against the real kernel.

describe('tscompose network', () => {
  const t = useNetEnv();
  const cli = t.cli;

  it('create, ls, inspect and rm, with labels, ipam options and filters', async () => {
    const net = freeSubnet16().at;
    const [subnet, gateway, range, aux] = [`${net(0, 0)}/24`, net(0, 254), `${net(0, 128)}/25`, net(0, 129)];
    const created = await cli('network', 'create', '--subnet', subnet, '--gateway', gateway, '--ip-range', range,
      '--aux-address', `router=${aux}`, '--label', 'com.docker.compose.project=demo', '--label', 'com.docker.compose.network=default', 'demo_default');
    expect(created.stderr).toBe('');
    const id = created.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect((await cli('network', 'create', '--internal', 'other')).code).toBe(0);

    const ls = await cli('network', 'ls');
    expect(ls.stdout).toMatch(/^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE\n/);
    expect(ls.stdout).toContain(`${id.slice(0, 12)}   demo_default   bridge   local`);
    expect((await cli('network', 'ls', '-f', 'label=com.docker.compose.project=demo', '-q')).stdout).toBe(`${id.slice(0, 12)}\n`);
    expect((await cli('network', 'ls', '--filter', 'label=com.docker.compose.project', '--no-trunc', '-q')).stdout).toBe(`${id}\n`);
    expect((await cli('network', 'ls', '--filter', 'name=other', '--format', 'json')).stdout).toContain('"Name":"other","Driver":"bridge"');

    const [inspect] = JSON.parse((await cli('network', 'inspect', 'demo_default')).stdout) as [Record<string, any>];
    expect(inspect.Id).toBe(id);
    expect(inspect.IPAM.Config).toEqual([{ Subnet: subnet, Gateway: gateway, IPRange: range, AuxiliaryAddresses: { router: aux } }]);
    expect(inspect.Labels).toEqual({ 'com.docker.compose.project': 'demo', 'com.docker.compose.network': 'default' });
    expect((await cli('network', 'inspect', '-f', '{{.Name}} {{.Internal}} {{json .Labels}}', 'other', id.slice(0, 6))).stdout)
      .toBe(`other true {}\ndemo_default false {"com.docker.compose.project":"demo","com.docker.compose.network":"default"}\n`);

    // The addresses given are the ones used: gateway on the bridge, containers from the range, never the aux address.
    const bridge = inspect.Options['com.docker.network.bridge.name'] as string;
    expect((await run('ip', ['-4', '-br', 'addr', 'show', bridge])).stdout).toContain(`${gateway}/24`);
    const a = await t.start('a', [{ network: 'demo_default' }]);
    const b = await t.start('b', [{ network: 'demo_default' }]);
    expect([a.ip, b.ip]).toEqual([net(0, 128), net(0, 130)]);

    const rm = await cli('network', 'rm', 'other', 'nope');
    expect(rm.code).toBe(1);
    expect(rm.stdout).toBe('other\n');
    expect(rm.stderr).toBe('No such network: nope\n');
  });

  it('refuses to remove a network with running containers and names them; connect, disconnect, prune', async () => {
    expect((await cli('network', 'create', 'app-network')).code).toBe(0);
    expect((await cli('network', 'create', 'extra')).code).toBe(0);
    const web = await t.start('proj-web-1', [{ network: 'app-network' }]);
    await t.start('proj-db-1', [{ network: 'app-network' }]);

    const refused = await cli('network', 'rm', 'app-network');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('network app-network has active endpoints: proj-db-1, proj-web-1\nstop or disconnect these containers first (tscompose network disconnect app-network proj-db-1)\n');
    expect((await cli('network', 'ls', '-q')).stdout.split('\n').filter(Boolean)).toHaveLength(2);

    expect((await cli('network', 'connect', '--alias', 'api', '--ip', '172.30.9.9', 'extra', 'proj-web-1')).stderr).toMatch(/outside network extra's subnet/);
    const conn = await cli('network', 'connect', '--alias', 'api', 'extra', 'proj-web-1');
    expect(conn.stderr).toBe('');
    expect((await web.exec(['ip', '-br', 'link', 'show', 'eth1'])).code).toBe(0);
    expect((await cli('network', 'connect', 'extra', web.id.slice(0, 10))).stderr).toMatch(/already connected to network extra/);
    const [extra] = JSON.parse((await cli('network', 'inspect', 'extra')).stdout) as [Record<string, any>];
    expect(Object.values(extra.Containers).map((c: any) => c.Name)).toEqual(['proj-web-1']);

    expect((await cli('network', 'disconnect', 'extra', 'proj-web-1')).code).toBe(0);
    expect((await web.exec(['ip', 'link', 'show', 'eth1'])).code).not.toBe(0);
    expect((await cli('network', 'disconnect', 'extra', 'proj-web-1')).stderr).toMatch(/is not connected to network extra/);
    expect((await cli('network', 'connect', 'extra', 'ghost')).stderr).toBe('No such container: ghost\n');

    // prune keeps what running containers use.
    const pruned = await cli('network', 'prune', '-f');
    expect(pruned.stdout).toBe('Deleted Networks:\nextra\n');
    expect((await cli('network', 'prune')).stderr).toMatch(/needs confirmation/);
  });

  it('bad input is a clear error and creates nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['--subnet', '10.5.0.7/16', 'x'], /subnet 10\.5\.0\.7\/16 has host bits set\ndid you mean 10\.5\.0\.0\/16\?/],
      [['--subnet', 'banana', 'x'], /invalid subnet "banana"/],
      [['--subnet', '10.6.0.0/24', '--gateway', '10.7.0.1', 'x'], /gateway 10\.7\.0\.1 is outside the subnet 10\.6\.0\.0\/24/],
      [['--gateway', '10.7.0.1', 'x'], /needs a subnet/],
      [['--subnet', '10.6.0.0/24', '--ip-range', '10.6.1.0/25', 'x'], /ip range 10\.6\.1\.0\/25 is not inside/],
      [['-d', 'overlay', 'x'], /driver "overlay" is not supported/],
      [['--ipv6', 'x'], /IPv6 networks are not supported/],
      [['-o', 'com.docker.network.bridge.enable_icc=false', 'x'], /driver option com\.docker\.network\.bridge\.enable_icc is not supported/],
      [['bad name'], /invalid network name "bad name"/],
      [['host'], /network name "host" is reserved/],
      [['bridge'], /"bridge" is the default network's name/],
      [['--label', 'novalue', 'x'], /invalid label "novalue"/],
    ];
    for (const [args, message] of cases) {
      const r = await cli('network', 'create', ...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    // A subnet that overlaps a host route, a special range or another network is refused.
    const route = hostRoutes().find((r) => !r.iface.startsWith('tsc-'))!;
    const routed = `${formatIpv4(route.base)}/${route.prefix}`;
    expect((await cli('network', 'create', '--subnet', routed, 'x')).stderr).toContain(`overlaps the host route ${routed} on ${route.iface}`);
    expect((await cli('network', 'create', '--subnet', '127.99.0.0/16', 'x')).stderr).toContain('overlaps 127.0.0.0/8 (loopback)');
    const free = freeSubnet16();
    expect((await cli('network', 'create', '--subnet', `${free.base}/16`, 'first')).code).toBe(0);
    expect((await cli('network', 'create', '--subnet', `${free.at(3, 0)}/24`, 'second')).stderr).toBe(
      `network second: subnet ${free.at(3, 0)}/24 overlaps network first (${free.base}/16)\npick a subnet that no other network uses, or leave it out to get a free one\n`,
    );
    expect((await cli('network', 'create', 'first')).stderr).toMatch(/network with name first already exists/);
    expect((await cli('network', 'ls', '-q')).stdout.split('\n').filter(Boolean)).toHaveLength(1);
  });
});
