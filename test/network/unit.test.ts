import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import * as packet from 'dns-packet';
import { parseIpv4, parseCidr, formatCidr, overlaps, containsCidr } from '../../src/network/ipv4.js';
import { AddressBitmap, defaultPools, pickSubnet } from '../../src/network/ipam.js';
import { hostRoutes } from '../../src/network/hostroutes.js';
import { firewallScript, parseIptablesSave, networkRules, portRules, portTag, rulesScript, taggedPortIds, taggedRuleIds, type FirewallNetwork } from '../../src/network/firewall.js';
import { parsePublishFlag, fromPortMapping } from '../../src/network/ports/mapping.js';
import { socketsOnPort } from '../../src/network/ports/holder.js';
import { DnsTable, ptrToIpv4, type DnsNetwork } from '../../src/network/dns/table.js';
import { answerQuery } from '../../src/network/dns/answer.js';
import { parseUpstreams } from '../../src/network/dns/forwarder.js';
import { containerResolvConf, parseResolvConf } from '../../src/network/resolvconf.js';
import { parseExtraHost } from '../../src/util/etc-hosts.js';
import { endpointScript, hostEndpointScript, isNetnsMounted } from '../../src/network/links.js';
import { macForIpv4, vethName, bridgeName } from '../../src/network/names.js';
import { renderTemplate } from '../../src/cli/commands/network.js';
import { UserError } from '../../src/util/errors.js';

// The pure parts of src/network: no kernel, no daemon.

describe('IPv4 and IPAM', () => {
  it('parses strictly and compares subnets', () => {
    expect(parseIpv4('172.18.0.1')).toBe(0xac120001);
    for (const bad of ['256.1.1.1', '1.2.3', '01.2.3.4', '1.2.3.4 5', '']) expect(parseIpv4(bad)).toBeUndefined();
    expect(parseCidr('10.0.0.5/8')).toBeUndefined();
    expect(formatCidr(parseCidr('10.0.0.5/8', false)!)).toBe('10.0.0.0/8');
    expect(overlaps(parseCidr('172.16.0.0/12')!, parseCidr('172.18.0.0/16')!)).toBe(true);
    expect(overlaps(parseCidr('172.18.0.0/16')!, parseCidr('172.19.0.0/16')!)).toBe(false);
    expect(containsCidr(parseCidr('10.0.0.0/24')!, parseCidr('10.0.0.128/25')!)).toBe(true);
  });

  it('picks Docker\'s default pools in order, skipping what is taken', () => {
    expect(defaultPools().map(formatCidr).slice(0, 2)).toEqual(['172.17.0.0/16', '172.18.0.0/16']);
    expect(defaultPools().map(formatCidr)[15]).toBe('192.168.0.0/20');
    expect(defaultPools()).toHaveLength(15 + 16);
    expect(formatCidr(pickSubnet([parseCidr('172.17.0.0/16')!, parseCidr('172.18.5.0/24')!])!)).toBe('172.19.0.0/16');
    expect(formatCidr(pickSubnet([parseCidr('172.16.0.0/12')!, parseCidr('192.168.0.0/19')!])!)).toBe('192.168.32.0/20');
    expect(pickSubnet([parseCidr('172.16.0.0/12')!, parseCidr('192.168.0.0/16')!])).toBeUndefined();
  });

  it('allocates serially, never the reserved addresses, wraps, and round-trips through state', () => {
    const subnet = parseCidr('10.1.0.0/29')!; // .0 network, .7 broadcast
    const map = AddressBitmap.create(subnet, [parseIpv4('10.1.0.1')!, parseIpv4('10.1.0.3')!]);
    const got = [map.allocate(), map.allocate(), map.allocate(), map.allocate()].map((a) => a && a - subnet.base);
    expect(got).toEqual([2, 4, 5, 6]);
    expect(map.allocate()).toBeUndefined();
    map.release(subnet.base + 4);
    const reloaded = AddressBitmap.load(subnet, map.toState());
    expect(reloaded.allocate()! - subnet.base).toBe(4); // after the cursor (6) it wraps to the freed one
    expect(reloaded.claim(subnet.base + 2)).toBe(false);
  });

  it('does not hand back a freed address at once (serial), and honours an ip range', () => {
    const subnet = parseCidr('10.2.0.0/24')!;
    const map = AddressBitmap.create(subnet, [subnet.base + 1]);
    const a = map.allocate()!;
    map.release(a);
    expect(map.allocate()).toBe(a + 1);
    expect(map.allocate(parseCidr('10.2.0.128/25')!)! - subnet.base).toBe(128);
    expect(map.allocate(parseCidr('10.2.0.128/25')!)! - subnet.base).toBe(129);
    const big = AddressBitmap.create(parseCidr('10.0.0.0/8')!, []);
    expect(big.toState().bitmap.length).toBeLessThan(10_000); // 2 MiB of bits, deflated
  });

  it('reads the host routes from /proc/net/route, without the default route', () => {
    const text = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' +
      'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n' +
      'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n' +
      'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n';
    expect(hostRoutes(text).map((r) => `${r.iface} ${formatCidr(r)}`)).toEqual(['eth0 192.0.2.0/24', 'docker0 172.17.0.0/16']);
  });
});

describe('firewall transaction', () => {
  const net: FirewallNetwork = { id: 'a'.repeat(64), bridge: 'tsc-br-aaaaaaaa', subnet: '172.18.0.0/16', gateway: '172.18.0.1', internal: false, masquerade: true };
  const empty = parseIptablesSave('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\nCOMMIT\n*nat\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n');

  it('creates the skeleton and the network\'s rules in one script', () => {
    const script = firewallScript(empty, [net], [], 'tag');
    expect(script).toContain(':TSCOMPOSE-FORWARD - [0:0]');
    expect(script).toContain('-I FORWARD 1 -j TSCOMPOSE-FORWARD');
    expect(script).toContain('-I TSCOMPOSE-FORWARD 1 -i tsc-br-+ -o tsc-br-+ -j TSCOMPOSE-ISOLATION');
    expect(script).toContain('-I TSCOMPOSE-ISOLATION 1 -i tsc-br-aaaaaaaa -o tsc-br-aaaaaaaa -m comment --comment "tscompose:tag:aaaaaaaaaaaa" -j ACCEPT');
    expect(script).toContain('-A TSCOMPOSE-POSTROUTING -s 172.18.0.0/16 ! -o tsc-br-aaaaaaaa -m comment --comment "tscompose:tag:aaaaaaaaaaaa" -j MASQUERADE');
    expect(script.match(/^COMMIT$/gm)).toHaveLength(2);
  });

  it('is idempotent against what is installed, removes by the saved text, and takes the skeleton away last', () => {
    // What iptables-save prints after the first script.
    const installed = [
      '*filter', ':TSCOMPOSE-FORWARD - [0:0]', ':TSCOMPOSE-ISOLATION - [0:0]', ':TSCOMPOSE-INPUT - [0:0]',
      '-A INPUT -j TSCOMPOSE-INPUT', '-A FORWARD -j TSCOMPOSE-FORWARD',
      '-A TSCOMPOSE-FORWARD -i tsc-br-+ -m conntrack --ctstate DNAT -j ACCEPT',
      '-A TSCOMPOSE-FORWARD -o tsc-br-+ -m conntrack --ctstate DNAT -j ACCEPT',
      '-A TSCOMPOSE-FORWARD -i tsc-br-+ -o tsc-br-+ -j TSCOMPOSE-ISOLATION',
      '-A TSCOMPOSE-INPUT -s 127.0.0.0/8 -i tsc-br-+ -j DROP',
      '-A TSCOMPOSE-INPUT -d 127.0.0.0/8 -i tsc-br-+ -m conntrack ! --ctstate RELATED,ESTABLISHED -j DROP',
      ...networkRules(net, 'tag').filter((r) => r.table === 'filter').map((r) => `-A ${r.chain} ${r.spec}`),
      '-A TSCOMPOSE-ISOLATION -j DROP', 'COMMIT',
      '*nat', ':TSCOMPOSE-POSTROUTING - [0:0]', ':TSCOMPOSE-DNAT - [0:0]',
      '-A PREROUTING -m addrtype --dst-type LOCAL -j TSCOMPOSE-DNAT', '-A OUTPUT -m addrtype --dst-type LOCAL -j TSCOMPOSE-DNAT',
      '-A POSTROUTING -j TSCOMPOSE-POSTROUTING',
      '-A TSCOMPOSE-POSTROUTING -o tsc-br-+ -m addrtype --src-type LOCAL -m conntrack --ctstate DNAT -j MASQUERADE',
      ...networkRules(net, 'tag').filter((r) => r.table === 'nat').map((r) => `-A ${r.chain} ${r.spec}`), 'COMMIT',
    ].join('\n');
    const saved = parseIptablesSave(installed);
    const again = firewallScript(saved, [net], [], 'tag');
    expect(again).not.toContain(':TSCOMPOSE'); // declaring a chain would flush it
    expect(again).not.toContain('-I FORWARD');
    expect(again.match(/^-D /gm)).toHaveLength(7);
    expect(again.match(/^-[AI] TSCOMPOSE-/gm)).toHaveLength(7);

    const removal = firewallScript(saved, [], [net.id], 'tag');
    expect(removal).toContain('-D FORWARD -j TSCOMPOSE-FORWARD');
    expect(removal).toContain('-X TSCOMPOSE-ISOLATION');
    expect(removal).toContain('-D POSTROUTING -j TSCOMPOSE-POSTROUTING');
    expect(removal).toContain('-D PREROUTING -m addrtype --dst-type LOCAL -j TSCOMPOSE-DNAT');
    expect(removal).toContain('-X TSCOMPOSE-DNAT');

    // Another root still has a network: the skeleton stays, only our lines go.
    const shared = parseIptablesSave(installed.replace("'", '') + '\n*filter\n-A TSCOMPOSE-ISOLATION -i tsc-br-bbbbbbbb -o tsc-br-bbbbbbbb -m comment --comment "tscompose:other:bbbbbbbbbbbb" -j ACCEPT\nCOMMIT\n');
    const partial = firewallScript(shared, [], [net.id], 'tag');
    expect(partial).not.toContain('-X TSCOMPOSE-FORWARD');
    expect(partial).not.toContain('bbbbbbbb');
  });

  it('internal networks drop forwarding both ways and get no NAT', () => {
    const rules = networkRules({ ...net, internal: true, masquerade: false }, 'tag').map((r) => `${r.chain} ${r.spec}`);
    expect(rules).toContain('TSCOMPOSE-FORWARD -i tsc-br-aaaaaaaa -m comment --comment "tscompose:tag:aaaaaaaaaaaa" -j DROP');
    expect(rules).toContain('TSCOMPOSE-FORWARD -o tsc-br-aaaaaaaa -m comment --comment "tscompose:tag:aaaaaaaaaaaa" -j DROP');
    expect(rules.some((r) => r.includes('MASQUERADE'))).toBe(false);
    // Others have the hairpin rule: a published port's answer to a container of the same network, through the host.
    expect(networkRules(net, 'tag').map((r) => `${r.chain} ${r.spec}`)).toContain(
      'TSCOMPOSE-POSTROUTING -s 172.18.0.0/16 -o tsc-br-aaaaaaaa -m conntrack --ctstate DNAT -m comment --comment "tscompose:tag:aaaaaaaaaaaa" -j MASQUERADE',
    );
  });

  it('forwards published IPv4 ports in the kernel, one group per container; IPv6 host addresses are left to the proxy', () => {
    const cid = 'c'.repeat(64);
    const fwd = { containerId: cid, targetIp: '172.18.0.2', ports: [
      { hostIp: '', hostPort: 8080, protocol: 'tcp', target: 80 },
      { hostIp: '127.0.0.1', hostPort: 5353, protocol: 'udp', target: 53 },
      { hostIp: '::1', hostPort: 8081, protocol: 'tcp', target: 80 },
    ] };
    expect(portRules(fwd, 'tag').map((r) => `${r.table} ${r.chain} ${r.spec}`)).toEqual([
      'nat TSCOMPOSE-DNAT -p tcp -m tcp --dport 8080 -m comment --comment "tscompose:tag:port-cccccccccccc" -j DNAT --to-destination 172.18.0.2:80',
      'nat TSCOMPOSE-DNAT -d 127.0.0.1/32 -p udp -m udp --dport 5353 -m comment --comment "tscompose:tag:port-cccccccccccc" -j DNAT --to-destination 172.18.0.2:53',
    ]);
    // Only forwards on a host with no network rules: the nat skeleton alone is made; taken away with the last group.
    const script = rulesScript(empty, [{ tag: portTag(cid, 'tag'), rules: portRules(fwd, 'tag') }], []);
    expect(script).toContain('-I OUTPUT 1 -m addrtype --dst-type LOCAL -j TSCOMPOSE-DNAT');
    expect(script).not.toContain('*filter');
    const installed = parseIptablesSave(['*nat', ':TSCOMPOSE-POSTROUTING - [0:0]', ':TSCOMPOSE-DNAT - [0:0]',
      '-A PREROUTING -m addrtype --dst-type LOCAL -j TSCOMPOSE-DNAT', '-A OUTPUT -m addrtype --dst-type LOCAL -j TSCOMPOSE-DNAT', '-A POSTROUTING -j TSCOMPOSE-POSTROUTING',
      ...portRules(fwd, 'tag').map((r) => `-A ${r.chain} ${r.spec}`), 'COMMIT'].join('\n'));
    expect(taggedPortIds(installed, 'tag')).toEqual(new Set(['cccccccccccc']));
    expect(taggedRuleIds(installed, 'tag')).toEqual(new Set());
    const removal = rulesScript(installed, [], [portTag(cid, 'tag')]);
    expect(removal).toContain('-D OUTPUT -m addrtype --dst-type LOCAL -j TSCOMPOSE-DNAT');
    expect(removal).toContain('-X TSCOMPOSE-DNAT');
  });
});

describe('links', () => {
  it('tells a namespace handle bound to a namespace from the empty file and from nothing', () => {
    expect(isNetnsMounted('/proc/self/ns/net')).toBe(true);
    expect(isNetnsMounted('/proc/self/stat')).toBe(false);
    expect(isNetnsMounted('/nonexistent/handle')).toBe(false);
  });
  it('plumbs the container\'s half inside its namespace (host ends made in the host\'s) and the host\'s half by bridge name', () => {
    expect(endpointScript([], true)).toEqual(['link set dev lo up']);
    const spec = { ifname: 'eth0', veth: 'tsc-v0123456789', mac: '02:42:ac:12:00:02', ipv4: '172.18.0.2', prefix: 16, gateway: '172.18.0.1', bridge: 'tsc-br-01234567', containerId: 'c'.repeat(64), defaultRoute: true };
    const second = { ...spec, ifname: 'eth1', veth: 'tsc-vabcdefabcd', ipv4: '10.0.0.2', prefix: 24, defaultRoute: false, mtu: 1400, bridge: 'tsc-br-89abcdef' };
    expect(endpointScript([spec, second], true, '/proc/1/ns/net')).toEqual([
      'link set dev lo up',
      'link add name eth0 address 02:42:ac:12:00:02 type veth peer name tsc-v0123456789 netns /proc/1/ns/net',
      'addr add 172.18.0.2/16 dev eth0',
      'link set dev eth0 up',
      'route replace default via 172.18.0.1 dev eth0',
      'link add name eth1 address 02:42:ac:12:00:02 mtu 1400 type veth peer name tsc-vabcdefabcd mtu 1400 netns /proc/1/ns/net',
      'addr add 10.0.0.2/24 dev eth1',
      'link set dev eth1 up',
    ]);
    const host = hostEndpointScript([spec, second]);
    expect(host).toEqual([
      `link set dev tsc-v0123456789 master tsc-br-01234567 alias ${host[0]!.split(' alias ')[1]!.split(' ')[0]} up`,
      'link set dev tsc-v0123456789 type bridge_slave hairpin on',
      `link set dev tsc-vabcdefabcd master tsc-br-89abcdef alias ${host[0]!.split(' alias ')[1]!.split(' ')[0]} up`,
      'link set dev tsc-vabcdefabcd type bridge_slave hairpin on',
    ]);
    expect(host[0]).toMatch(/ alias tscompose\/[0-9a-f]{8}\/endpoint\/c{64} up$/);
    expect(vethName('c'.repeat(64), 'n'.repeat(64))).toMatch(/^tsc-v[0-9a-f]{10}$/);
    expect(bridgeName('0123456789abcdef')).toBe('tsc-br-01234567');
    expect(macForIpv4(parseIpv4('172.18.0.2')!)).toBe('02:42:ac:12:00:02');
  });
});

describe('port specs', () => {
  it('parses -p like Docker', () => {
    expect(parsePublishFlag('8080:80')).toEqual([{ target: 80, protocol: 'tcp', hostIp: '', hostPortFirst: 8080, hostPortLast: 8080 }]);
    expect(parsePublishFlag('127.0.0.1:5353:53/udp')).toEqual([{ target: 53, protocol: 'udp', hostIp: '127.0.0.1', hostPortFirst: 5353, hostPortLast: 5353 }]);
    expect(parsePublishFlag('[::1]:8080:80')[0]!.hostIp).toBe('::1');
    expect(parsePublishFlag('80')).toEqual([{ target: 80, protocol: 'tcp', hostIp: '', hostPortFirst: 0, hostPortLast: 0 }]);
    expect(parsePublishFlag('127.0.0.1::80')[0]).toMatchObject({ hostIp: '127.0.0.1', hostPortFirst: 0 });
    expect(parsePublishFlag('8000-8001:80-81').map((r) => [r.hostPortFirst, r.target])).toEqual([[8000, 80], [8001, 81]]);
    expect(parsePublishFlag('8000-8010:80')).toEqual([{ target: 80, protocol: 'tcp', hostIp: '', hostPortFirst: 8000, hostPortLast: 8010 }]);
    expect(parsePublishFlag('80-81').map((r) => r.target)).toEqual([80, 81]);
    expect(fromPortMapping({ target: 80, published: '8080-8081', protocol: 'udp', hostIp: '0.0.0.0' })[0]).toMatchObject({ hostIp: '0.0.0.0', hostPortFirst: 8080, hostPortLast: 8081, protocol: 'udp' });
  });

  it('refuses bad mappings with the mapping in the message', () => {
    for (const [spec, msg] of [
      ['70000:80', /invalid host port "70000" in port mapping "70000:80"/],
      ['8000-8002:80-81', /differ in length/],
      ['80/sctp', /SCTP is not supported/],
      ['80/icmp', /invalid protocol "icmp"/],
      ['1.2.3:80:80', /invalid host IP "1.2.3"/],
      ['a:b:c:d', /invalid port mapping/],
      ['9-8:80', /invalid host port range "9-8"/],
    ] as const) {
      expect(() => parsePublishFlag(spec)).toThrow(msg);
      expect(() => parsePublishFlag(spec)).toThrow(UserError);
    }
  });

  it('finds the sockets bound to a port in /proc/net tables', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsc-procnet-'));
    try {
      const head = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
      writeFileSync(join(dir, 'tcp'), head + '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1\n' +
        '   1: 0100007F:1F90 0100007F:C000 01 00000000:00000000 00:00000000 00000000     0        0 4243 1\n');
      writeFileSync(join(dir, 'tcp6'), head + '   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4244 1\n' +
        '   1: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4245 1\n');
      expect(socketsOnPort('tcp', 8080, dir)).toEqual([
        { address: '127.0.0.1', inode: 4242 },
        { address: '[::1]', inode: 4244 },
        { address: '[::ffff:127.0.0.1]', inode: 4245 },
      ]);
      expect(socketsOnPort('udp', 8080, dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('DNS', () => {
  const ep = (cid: string, name: string, ip: string, aliases: string[] = [], running = true) => ({ containerId: cid.repeat(64), containerName: name, aliases, ipv4: ip, running });
  const nets: DnsNetwork[] = [
    { id: 'n1', name: 'front', dnsNames: true, endpoints: [ep('a', 'web-1', '10.0.0.2', ['web']), ep('b', 'web-2', '10.0.0.3', ['web']), ep('c', 'proxy', '10.0.0.4')] },
    { id: 'n2', name: 'back', dnsNames: true, endpoints: [ep('c', 'proxy', '10.1.0.4'), ep('d', 'db', '10.1.0.2', ['database']), ep('e', 'gone', '10.1.0.9', [], false)] },
    { id: 'n3', name: 'bridge', dnsNames: false, endpoints: [ep('f', 'solo', '172.17.0.2'), ep('g', 'solo2', '172.17.0.3')] },
  ];
  const table = new DnsTable(nets);

  it('scopes names to the asker\'s networks, returns every replica, and skips stopped containers', () => {
    expect(table.lookup('10.0.0.2', 'web')!.sort()).toEqual(['10.0.0.2', '10.0.0.3']);
    expect(table.lookup('10.0.0.2', 'WEB.')!.sort()).toEqual(['10.0.0.2', '10.0.0.3']);
    expect(table.lookup('10.0.0.2', 'db')).toBeUndefined();
    expect(table.lookup('10.1.0.4', 'db')).toEqual(['10.1.0.2']); // proxy is on both
    expect(table.lookup('10.0.0.4', 'database')).toEqual(['10.1.0.2']); // by any of its addresses
    expect(table.lookup('10.1.0.2', 'web')).toBeUndefined();
    expect(table.lookup('10.1.0.2', 'gone')).toBeUndefined();
    expect(table.lookup('10.1.0.2', 'proxy.back')).toEqual(['10.1.0.4']);
    expect(table.lookup('10.1.0.2', 'proxy.front')).toBeUndefined(); // not on front
    expect(table.lookup('10.1.0.2', 'd'.repeat(12))).toEqual(['10.1.0.2']);
    expect(table.lookup('172.17.0.2', 'solo2')).toBeUndefined(); // the default bridge has no names
    expect(table.lookup('192.0.2.1', 'web')).toBeUndefined(); // not one of ours
    expect(table.reverse('10.1.0.4', '10.1.0.2')).toBe('db');
    expect(ptrToIpv4('2.0.1.10.in-addr.arpa.')).toBe('10.1.0.2');
  });

  const query = (name: string, type: packet.RecordType, extra: Partial<packet.Packet> = {}) =>
    packet.encode({ type: 'query', id: 77, flags: packet.RECURSION_DESIRED, questions: [{ type, name }], ...extra });
  const rcodeOf = (b: Buffer) => (packet.decode(b) as unknown as { rcode: string }).rcode;
  const never = async () => {
    throw new Error('must not forward');
  };

  it('answers A with TTL 0, AAAA empty, forwards unknown names, SERVFAIL without an answer, FORMERR on garbage', async () => {
    const a = packet.decode((await answerQuery(query('web', 'A'), '10.0.0.4', 'udp', table, never))!);
    expect(a).toMatchObject({ id: 77, rcode: 'NOERROR', flag_qr: true, flag_aa: true, flag_rd: true, flag_ra: true });
    expect(a.answers!.map((x) => [x.type, (x as packet.StringAnswer).data, (x as packet.StringAnswer).ttl])).toHaveLength(2);
    expect(a.answers!.every((x) => (x as packet.StringAnswer).ttl === 0)).toBe(true);
    const aaaa = packet.decode((await answerQuery(query('web', 'AAAA'), '10.0.0.4', 'udp', table, never))!);
    expect(aaaa).toMatchObject({ rcode: 'NOERROR', answers: [] });

    const forwarded: Buffer[] = [];
    const upstreamReply = Buffer.from(packet.encode({ type: 'response', id: 77, flags: 3, questions: [{ type: 'A', name: 'db' }] }));
    const fwd = await answerQuery(query('db', 'A'), '10.0.0.2', 'udp', table, async (q) => (forwarded.push(q), upstreamReply));
    expect(forwarded).toHaveLength(1);
    expect(rcodeOf(fwd!)).toBe('NXDOMAIN');
    expect(rcodeOf((await answerQuery(query('x.example', 'A'), '10.0.0.2', 'tcp', table, async () => undefined))!)).toBe('SERVFAIL');
    const garbage = Buffer.from([0, 9, 1, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0xff]);
    expect(rcodeOf((await answerQuery(garbage, '10.0.0.2', 'udp', table, never))!)).toBe('FORMERR');
    const response = packet.encode({ type: 'response', id: 1, questions: [{ type: 'A', name: 'web' }] });
    expect(await answerQuery(response, '10.0.0.2', 'udp', table, never)).toBeUndefined();
  });

  it('truncates (TC) a UDP answer that does not fit, and not over TCP', async () => {
    const many: DnsNetwork = { id: 'm', name: 'm', dnsNames: true, endpoints: [] };
    const eps = [];
    for (let i = 0; i < 60; i++) eps.push(ep(i.toString(16).padStart(2, '0').slice(0, 1), `replica-${i}`, `10.9.0.${i + 2}`, ['a-very-long-service-name-to-fill-the-packet']));
    const big = new DnsTable([{ ...many, endpoints: eps.map((e, i) => ({ ...e, containerId: i.toString(16).padStart(64, '0') })) }]);
    const q = query('a-very-long-service-name-to-fill-the-packet', 'A');
    const udp = await answerQuery(q, '10.9.0.2', 'udp', big, never);
    expect(udp!.length).toBeLessThanOrEqual(512);
    expect(packet.decode(udp!).flag_tc).toBe(true);
    const tcp = await answerQuery(q, '10.9.0.2', 'tcp', big, never);
    expect(packet.decode(tcp!).answers).toHaveLength(60);
    const edns = await answerQuery(query('a-very-long-service-name-to-fill-the-packet', 'A', { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] }), '10.9.0.2', 'udp', big, never);
    expect(packet.decode(edns!).answers).toHaveLength(60);
  });

  it('reads upstreams from the environment syntax and resolv.conf', () => {
    expect(parseUpstreams('127.0.0.1:5353, 10.0.0.1 [::1]:53 fe80::1')).toEqual([
      { host: '127.0.0.1', port: 5353 }, { host: '10.0.0.1', port: 53 }, { host: '::1', port: 53 }, { host: 'fe80::1', port: 53 },
    ]);
    const rc = parseResolvConf('# x\nnameserver 10.0.0.53\nnameserver ::1\nsearch a.example b.example\noptions edns0 ndots:2\n');
    expect(rc).toEqual({ nameservers: ['10.0.0.53', '::1'], search: ['a.example', 'b.example'], options: ['edns0', 'ndots:2'] });
    expect(containerResolvConf('172.18.0.1', rc.search, rc.options)).toBe('nameserver 172.18.0.1\nsearch a.example b.example\noptions ndots:0 edns0\n');
    expect(parseExtraHost('host.docker.internal:host-gateway', '172.18.0.1')).toEqual({ name: 'host.docker.internal', ip: '172.18.0.1' });
    expect(parseExtraHost('v6=::1', 'x')).toEqual({ name: 'v6', ip: '::1' });
    expect(() => parseExtraHost('nocolon', 'x')).toThrow(/invalid extra host/);
  });
});

describe('inspect templates', () => {
  it('renders {{.A.B}} and {{json .A}}', () => {
    const v = { Name: 'n', IPAM: { Config: [{ Subnet: 's' }] }, Labels: { a: 'b' } };
    expect(renderTemplate('{{.Name}} {{json .Labels}} {{ .IPAM.Config }} {{.Missing}}', v)).toBe('n {"a":"b"} [{"Subnet":"s"}] <no value>');
  });
});
