import { describe, it, expect } from 'vitest';
import { createNetwork, connectContainer, disconnectContainer, DNS_TTL } from '../../src/network/index.js';
import { FakeContainer, useNetEnv } from './support.js';
import { startFakeUpstream } from './fake-upstream.js';
import type { EndpointRequest } from '../../src/network/types.js';

// Acceptance 1: names resolve inside a network, to every replica, and nowhere else.
// Real kernel: namespaces, veths, bridges, iptables; busybox and node run inside the namespaces.

describe('embedded DNS', () => {
  const t = useNetEnv();
  const start = (name: string, endpoints: EndpointRequest[]) => t.start(name, endpoints);

  it('two containers on app-network reach each other by service name, container name and alias', async () => {
    await createNetwork({ name: 'app-network' });
    const web = await start('proj-web-1', [{ network: 'app-network', aliases: ['web', 'frontend'] }]);
    const db = await start('proj-db-1', [{ network: 'app-network', aliases: ['db', 'database'] }]);

    expect((await web.nslookup('db')).addresses).toEqual([db.ip]);
    expect((await web.nslookup('proj-db-1')).addresses).toEqual([db.ip]);
    expect((await web.nslookup('database')).addresses).toEqual([db.ip]);
    expect((await db.nslookup('web')).addresses).toEqual([web.ip]);
    expect((await db.nslookup('frontend')).addresses).toEqual([web.ip]);
    expect((await db.nslookup(web.id.slice(0, 12))).addresses).toEqual([web.ip]);
    expect((await db.nslookup('web.app-network')).addresses).toEqual([web.ip]);

    // Reach, by name, through the container's own resolv.conf and the system resolver.
    await db.serveHttp(8080, t.tempDir({ 'index.html': 'db says hi\n' }));
    expect(await web.httpGet('http://db:8080/')).toBe('db says hi\n');
    expect(await web.httpGet('http://proj-db-1:8080/')).toBe('db says hi\n');
    expect(web.attach.resolvConf).toMatch(new RegExp(`^nameserver ${web.gateway.replace(/\./g, '\\.')}$`, 'm'));
    expect(web.attach.resolvConf).toMatch(/^options ndots:0/m);
  });

  it('returns every container sharing an alias, in shuffled order', async () => {
    await createNetwork({ name: 'app-network' });
    const client = await start('proj-client-1', [{ network: 'app-network' }]);
    const replicas: FakeContainer[] = [];
    for (let i = 1; i <= 3; i++) replicas.push(await start(`proj-api-${i}`, [{ network: 'app-network', aliases: ['api'] }]));
    const want = replicas.map((r) => r.ip).sort();

    const seenFirst = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const r = await client.dig('api');
      expect(r.rcode).toBe('NOERROR');
      expect(r.answers.map((a) => a.data).sort()).toEqual(want);
      expect(r.answers.every((a) => a.ttl === DNS_TTL)).toBe(true);
      seenFirst.add(r.answers[0]!.data);
    }
    // 12 draws of a fair shuffle all starting with the same address: (1/3)^11, never in practice.
    expect(seenFirst.size).toBeGreaterThan(1);
    expect((await client.nslookup('api')).addresses.sort()).toEqual(want);
  });

  it('a container on another network can neither resolve nor reach them', async () => {
    await createNetwork({ name: 'app-network' });
    await createNetwork({ name: 'other-network' });
    const web = await start('proj-web-1', [{ network: 'app-network', aliases: ['web'] }]);
    const db = await start('proj-db-1', [{ network: 'app-network', aliases: ['db'] }]);
    const outsider = await start('intruder', [{ network: 'other-network' }]);
    await db.serveHttp(8080, t.tempDir({ 'index.html': 'secret\n' }));

    for (const name of ['db', 'proj-db-1', 'web', 'db.app-network']) {
      const r = await outsider.dig(name);
      expect(r.rcode, name).toBe('NXDOMAIN'); // forwarded, and the upstream does not know it either
    }
    expect(t.env.upstream.queries.map((q) => q.name)).toContain('db');
    expect((await web.nslookup('intruder')).addresses).toEqual([]);
    // Not by address either: the isolation rules drop forwarding between our bridges.
    expect(await outsider.httpGet(`http://${db.ip}:8080/`, 1500)).toMatch(/^ERROR/);
    expect(await web.httpGet(`http://${db.ip}:8080/`)).toBe('secret\n');
  });

  it('a container on two networks resolves names of both; connect and disconnect change that', async () => {
    await createNetwork({ name: 'front' });
    await createNetwork({ name: 'back' });
    const proxy = await start('proxy', [{ network: 'front' }, { network: 'back' }]);
    const app = await start('app', [{ network: 'front', aliases: ['app'] }]);
    const db = await start('db', [{ network: 'back', aliases: ['database'] }]);
    expect(proxy.attach.addresses.map((a) => a.ifname)).toEqual(['eth0', 'eth1']);
    expect((await proxy.nslookup('app')).addresses).toEqual([app.ip]);
    expect((await proxy.nslookup('database')).addresses).toEqual([db.ip]);
    expect((await app.dig('database')).rcode).toBe('NXDOMAIN');

    const added = await connectContainer(app.id, 'back', { aliases: ['app-on-back'] });
    expect(added.ifname).toBe('eth1');
    expect((await app.exec(['ip', '-br', 'addr', 'show', 'eth1'])).stdout).toContain(added.ipv4);
    expect((await app.nslookup('database')).addresses).toEqual([db.ip]);
    expect((await db.nslookup('app-on-back')).addresses).toEqual([added.ipv4]);

    await disconnectContainer(app.id, 'back');
    expect((await app.dig('database')).rcode).toBe('NXDOMAIN');
    expect((await app.exec(['ip', 'link', 'show', 'eth1'])).code).not.toBe(0);
  });

  it('answers AAAA for a known name empty, forwards the rest, says SERVFAIL when no upstream answers, and serves TCP', async () => {
    await createNetwork({ name: 'app-network' });
    const web = await start('web', [{ network: 'app-network' }]);

    const aaaa = await web.dig('web', 'AAAA');
    expect(aaaa).toMatchObject({ rcode: 'NOERROR', answers: [] });
    const ext = await web.dig('external.test');
    expect(ext.rcode).toBe('NOERROR');
    expect(ext.answers.map((a) => a.data)).toEqual(['198.51.100.7']);
    expect((await web.dig('nowhere.test')).rcode).toBe('NXDOMAIN');

    const tcp = await web.dig('web', 'A', 'tcp');
    expect(tcp.answers.map((a) => a.data)).toEqual([web.ip]);
    expect((await web.dig('external.test', 'A', 'tcp')).answers.map((a) => a.data)).toEqual(['198.51.100.7']);
    expect(t.env.upstream.queries.some((q) => q.name === 'external.test' && q.transport === 'tcp')).toBe(true);

    const ptr = await web.dig(`${web.ip.split('.').reverse().join('.')}.in-addr.arpa`, 'PTR');
    expect(ptr.answers.map((a) => a.data)).toEqual(['web']);

    // The upstream goes away (its port now answers ICMP unreachable): unknown names are SERVFAIL, ours still resolve.
    await t.env.upstream.close();
    const r = await web.dig('external.test');
    expect(r.rcode).toBe('SERVFAIL');
    expect((await web.dig('web')).answers.map((a) => a.data)).toEqual([web.ip]);
  });

  it('forwards a container\'s unknown names to its own --dns servers, and refuses a loopback one', async () => {
    await createNetwork({ name: 'app-network' });
    const plain = await start('plain', [{ network: 'app-network' }]);
    // Its own resolver: on the network's gateway address (on this machine), another port, other answers.
    const own = await startFakeUpstream(plain.gateway, { 'external.test': '203.0.113.9' });
    t.defer(() => own.close());
    const c = await FakeContainer.start('picky', [{ network: 'app-network' }], [], { dnsServers: [`${plain.gateway}:${own.port}`] });
    t.containers.push(c);
    expect((await c.dig('external.test')).answers.map((a) => a.data)).toEqual(['203.0.113.9']);
    expect((await plain.dig('external.test')).answers.map((a) => a.data)).toEqual(['198.51.100.7']);
    expect((await c.dig('plain')).answers.map((a) => a.data)).toEqual([plain.ip]); // its network's names stay ours
    expect(own.queries.map((q) => q.name)).toEqual(['external.test']);
    await expect(FakeContainer.start('loop', [{ network: 'app-network' }], [], { dnsServers: ['127.0.0.1'] })).rejects.toThrow(/DNS server 127\.0\.0\.1 is a loopback address/);
  });

  it('answers only for running containers', async () => {
    await createNetwork({ name: 'app-network' });
    const web = await start('web', [{ network: 'app-network' }]);
    const db = await start('db', [{ network: 'app-network' }]);
    expect((await web.nslookup('db')).addresses).toEqual([db.ip]);
    await db.stop();
    expect((await web.dig('db')).rcode).toBe('NXDOMAIN');
    // A container that dies without anyone saying so: its init's pid is gone, and so is its name.
    const cache = await start('cache', [{ network: 'app-network' }]);
    expect((await web.dig('cache')).answers.map((a) => a.data)).toEqual([cache.ip]);
    await cache.kill();
    await new Promise((r) => setTimeout(r, 1100)); // the daemon re-checks a pid at most once a second
    expect((await web.dig('cache')).rcode).toBe('NXDOMAIN');
  });

  it('the default bridge network forwards but resolves no container names, as Docker', async () => {
    const a = await start('solo-a', []);
    const b = await start('solo-b', []);
    expect(a.attach.addresses[0]!.network).toBe('bridge');
    expect((await a.dig('solo-b')).rcode).toBe('NXDOMAIN');
    expect((await a.dig('external.test')).answers.map((x) => x.data)).toEqual(['198.51.100.7']);
    expect(await a.exec(['busybox', 'ping', '-c', '1', '-W', '2', b.ip]).then((r) => r.code)).toBe(0);
  });
});
