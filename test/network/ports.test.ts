import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { createServer, connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { attachContainer, createNetwork, detachContainer, inspectNetwork } from '../../src/network/index.js';
import { ConflictError } from '../../src/util/errors.js';
import { readPortRecords } from '../../src/network/ports/publisher.js';
import { netnsPath } from '../../src/network/links.js';
import { vethName } from '../../src/network/names.js';
import { containerId, freePort, useNetEnv } from './support.js';
import { ruleLines } from './leaks.js';
import type { PortMapping } from '../../src/network/types.js';

// Acceptance 2: published TCP and UDP ports answer on 127.0.0.1 (and the host's addresses);
// a taken port is an error that names the port and its holder, before anything is created.

function httpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port }, () => sock.end(`GET / HTTP/1.0\r\nHost: x\r\n\r\n`));
    let buf = '';
    sock.on('data', (d) => (buf += d.toString()));
    sock.on('end', () => resolve(buf.split('\r\n\r\n').slice(1).join('\r\n\r\n')));
    sock.on('error', reject);
    sock.setTimeout(5000, () => sock.destroy(new Error('timeout')));
  });
}

function udpAsk(host: string, port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      reject(new Error(`no UDP answer from ${host}:${port}`));
    }, 3000);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m.toString());
    });
    s.send(text, port, host);
  });
}

function hostAddress(): string {
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (name === 'lo' || name.startsWith('tsc-') || name.startsWith('docker')) continue;
    const a = addrs?.find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return a.address;
  }
  throw new Error('this host has no non-loopback IPv4 address');
}

describe('published ports', () => {
  const t = useNetEnv();
  const start = (name: string, ports: (PortMapping | string)[]) => t.start(name, [{ network: 'app-network' }], ports);
  const www = () => t.tempDir({ 'index.html': 'hello from the container\n' });

  it('TCP and UDP answer on 127.0.0.1 and on the host address; a random port when none is given', async () => {
    await createNetwork({ name: 'app-network' });
    const [tcpPort, udpPort] = [await freePort(), await freePort()];
    const web = await start('web', [
      { target: 80, published: String(tcpPort), protocol: 'tcp' },
      { target: 5353, published: String(udpPort), protocol: 'udp' },
      { target: 80, protocol: 'tcp' },
    ]);
    await web.serveHttp(80, www());
    await web.serveUdpEcho(5353);
    const random = web.attach.ports[2]!;
    expect(web.attach.ports.slice(0, 2).map((p) => p.hostPort)).toEqual([tcpPort, udpPort]);
    expect(random.hostPort).toBeGreaterThan(0);

    expect(await httpGet('127.0.0.1', tcpPort)).toBe('hello from the container\n');
    expect(await httpGet(hostAddress(), tcpPort)).toBe('hello from the container\n');
    expect(await httpGet('127.0.0.1', random.hostPort)).toBe('hello from the container\n');
    expect(await udpAsk('127.0.0.1', udpPort, 'ping')).toBe('echo:ping');
    expect(await udpAsk(hostAddress(), udpPort, 'pong')).toBe('echo:pong');

    await detachContainer(web.id);
    await expect(httpGet('127.0.0.1', tcpPort)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('answers other containers (its own network and another, at their gateway and the host address), and ::1 through the proxy; the kernel forwards IPv4', async () => {
    await createNetwork({ name: 'app-network' });
    await createNetwork({ name: 'other-network' });
    const port = await freePort();
    const web = await start('web', [{ target: 80, published: String(port), protocol: 'tcp' }]);
    await web.serveHttp(80, www());
    const neighbour = await start('neighbour', []);
    const stranger = await t.start('stranger', [{ network: 'other-network' }]);
    const want = 'hello from the container\n';
    // Its own network (the answer comes back through the host: hairpin NAT), itself, and another network.
    for (const c of [neighbour, web, stranger]) {
      for (const host of [c.gateway, hostAddress()]) expect(await c.httpGet(`http://${host}:${port}/`), `${c.name} -> ${host}`).toBe(want);
    }
    // No route between the networks otherwise: the isolation stands.
    expect(await stranger.httpGet(`http://${web.ip}/`, 1500)).toMatch(/^ERROR/);
    // IPv6 has no NAT to the container's IPv4 address: the daemon's proxy serves it.
    if (networkInterfaces().lo?.some((a) => a.family === 'IPv6')) expect(await httpGet('::1', port)).toBe(want);
    // IPv4 is the kernel's: a DNAT rule of this container, in our chain, and it goes with the container.
    const dnat = (await ruleLines()).ours.filter((l) => l.includes(`--dport ${port} `));
    expect(dnat).toEqual([expect.stringMatching(new RegExp(`^-A TSCOMPOSE-DNAT -p tcp -m tcp --dport ${port} .*"tscompose:[0-9a-f]{8}:port-${web.id.slice(0, 12)}" -j DNAT --to-destination ${web.ip.replace(/\./g, '\\.')}:80$`))]);
    await detachContainer(web.id);
    expect((await ruleLines()).ours.filter((l) => l.includes('port-'))).toEqual([]);
  });

  it('honours the host IP, and ranges (one to one, or a free port picked from a host range)', async () => {
    await createNetwork({ name: 'app-network' });
    const base = await freePort();
    // Occupy the first port of the range: the published port must be the next one.
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(base + 10, '127.0.0.1', () => r()));
    try {
      const web = await start('web', [
        { target: 80, published: String(base), protocol: 'tcp', hostIp: '127.0.0.1' },
        { target: 80, published: `${base + 10}-${base + 12}`, protocol: 'tcp' },
      ]);
      await web.serveHttp(80, www());
      expect(web.attach.ports.map((p) => p.hostPort)).toEqual([base, base + 11]);
      expect(await httpGet('127.0.0.1', base)).toBe('hello from the container\n');
      await expect(httpGet(hostAddress(), base)).rejects.toThrow(/ECONNREFUSED/);
      expect(await httpGet(hostAddress(), base + 11)).toBe('hello from the container\n');
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }

    const ranged = await start('ranged', [{ target: 8000, published: `${base + 20}-${base + 21}`, protocol: 'tcp' }]);
    expect(ranged.attach.ports[0]!.hostPort).toBe(base + 20);
  });

  it('a port held by another program is an error naming the port and its holder, and nothing is created', async () => {
    await createNetwork({ name: 'app-network' });
    const port = await freePort();
    const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${port}, '0.0.0.0'); setInterval(() => {}, 1e6)`], { stdio: 'ignore' });
    t.defer(() => {
      if (holder.exitCode === null) holder.kill('SIGKILL');
    });
    for (let i = 0; i < 200 && !(await listening(port)); i++) await sleep(25);

    const id = containerId();
    const err = await attachContainer(id, 'web', [{ network: 'app-network' }], [{ target: 80, published: String(port), protocol: 'tcp' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    const msg = (err as Error).message;
    expect(msg).toContain(`${port}/tcp`);
    expect(msg).toContain(`process ${holder.pid}`);
    expect(msg).toContain('node -e');
    expect(msg).toContain('container web');
    // Nothing half-made: no namespace, no endpoint, no veth, no port record.
    expect(existsSync(netnsPath(id))).toBe(false);
    expect(Object.keys(inspectNetwork('app-network').Containers)).toEqual([]);
    expect(existsSync(`/sys/class/net/${vethName(id, inspectNetwork('app-network').Id)}`)).toBe(false);
    expect(readPortRecords()).toEqual([]);
  });

  it('a port another container publishes is an error naming that container', async () => {
    await createNetwork({ name: 'app-network' });
    const port = await freePort();
    await start('first', [{ target: 80, published: String(port), protocol: 'udp' }]);
    const err = await start('second', [{ target: 80, published: String(port), protocol: 'udp' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toMatch(new RegExp(`${port}/udp .*container first publishes it`));
  });
});

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}
