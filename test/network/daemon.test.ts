import { describe, it, expect } from 'vitest';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { createNetwork, detachContainer, ensureDaemon, listNetworks } from '../../src/network/index.js';
import { daemonPidPath, daemonSocketPath } from '../../src/network/daemon/protocol.js';
import { callDaemon, daemonPing, startDaemonAhead } from '../../src/network/daemon/client.js';
import { processStartTime } from '../../src/util/lock.js';
import { portTag } from '../../src/network/firewall.js';
import { portRecordPath } from '../../src/network/ports/records.js';
import { daemonPid, useNetEnv } from './support.js';
import { daemonPids, keeperPids, ruleLines, taggedLinkNames } from './leaks.js';

// Acceptance 3: the network daemon killed (-9) mid-test: its keeper starts it again by itself, and
// names resolve again and published ports answer (the kernel forwards them meanwhile); the containers
// never noticed (their traffic does not go through it).

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port }, () => sock.end('GET / HTTP/1.0\r\n\r\n'));
    let buf = '';
    sock.on('data', (d) => (buf += d.toString()));
    sock.on('end', () => resolve(buf.split('\r\n\r\n').slice(1).join('')));
    sock.on('error', reject);
  });
}

function udpAsk(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => (s.close(), reject(new Error('no UDP answer'))), 3000);
    s.on('message', (m) => (clearTimeout(t), s.close(), resolve(m.toString())));
    s.send(text, port, '127.0.0.1');
  });
}

async function killDaemon(): Promise<number> {
  const pid = (await daemonPid())!;
  process.kill(pid, 'SIGKILL');
  while (processStartTime(pid) !== undefined) await sleep(10);
  return pid;
}

/** The daemon now serving, once one other than `than` answers (started by its keeper: nobody asked). */
async function nextDaemon(than: number): Promise<number> {
  for (let i = 0; i < 400; i++) {
    const pid = readDaemonPid();
    if (pid !== undefined && pid !== than && (await daemonPing())?.pid === pid) return pid;
    await sleep(25);
  }
  throw new Error('no daemon came back within 10 s');
}

function readDaemonPid(): number | undefined {
  try {
    return Number(readFileSync(daemonPidPath(), 'utf8').split(' ')[0]);
  } catch {
    return undefined;
  }
}

describe('network daemon', () => {
  const t = useNetEnv();

  it('killed with -9, it is back by itself and serves the same names and ports; ports answered meanwhile; containers are undisturbed', async () => {
    await createNetwork({ name: 'app-network' });
    const web = await t.start('web', [{ network: 'app-network', aliases: ['frontend'] }], ['80/tcp', '9999/udp']);
    const db = await t.start('db', [{ network: 'app-network', aliases: ['database'] }]);
    await web.serveHttp(80, t.tempDir({ 'index.html': 'still here\n' }));
    await web.serveUdpEcho(9999);
    const [tcp, udp] = web.attach.ports.map((p) => p.hostPort);
    expect(await httpGet(tcp!)).toBe('still here\n');
    expect((await db.nslookup('frontend')).addresses).toEqual([web.ip]);
    const [keeper] = keeperPids(t.env.runRoot);
    expect(keeper).toBeDefined();

    // A connection between containers, open across the daemon's death.
    const conn: Socket = await new Promise((resolve) => {
      const s = connect({ host: web.ip, port: 80 }, () => resolve(s));
    });
    const first = await killDaemon();
    // The published ports are the kernel's: they answer with no daemon at all.
    expect(await httpGet(tcp!)).toBe('still here\n');
    // Container to container traffic never went through the daemon.
    expect(await db.httpGet(`http://${web.ip}/`)).toBe('still here\n');
    const reply = new Promise<string>((resolve) => {
      let buf = '';
      conn.on('data', (d) => (buf += d.toString()));
      conn.on('end', () => resolve(buf));
    });
    conn.end('GET / HTTP/1.0\r\n\r\n');
    expect(await reply).toContain('still here');
    expect((await web.exec(['ip', '-4', '-br', 'addr', 'show', 'eth0'])).stdout).toContain(web.ip);

    const second = await nextDaemon(first);
    expect(keeperPids(t.env.runRoot)).toEqual([keeper]);
    expect(statSync(daemonSocketPath()).mode & 0o777).toBe(0o600);
    expect((await db.nslookup('frontend')).addresses).toEqual([web.ip]);
    expect((await web.nslookup('database')).addresses).toEqual([db.ip]);
    expect(await httpGet(tcp!)).toBe('still here\n');
    expect(await udpAsk(udp!, 'again')).toBe('echo:again');

    // With its keeper gone too, any operation that needs the daemon starts both again.
    process.kill(keeper!, 'SIGKILL');
    while (processStartTime(keeper!) !== undefined) await sleep(10);
    await killDaemon();
    expect(daemonPids(t.env.runRoot)).toEqual([]);
    const late = await t.start('late', [{ network: 'app-network' }]);
    expect((await late.nslookup('frontend')).addresses).toEqual([web.ip]);
    expect(await httpGet(tcp!)).toBe('still here\n');
    expect(daemonPids(t.env.runRoot)).toHaveLength(1);
    expect(daemonPids(t.env.runRoot)).not.toContain(second);
    expect(keeperPids(t.env.runRoot)).toHaveLength(1);
  });

  it('started anew, it drops the kernel forwards of a port record removed while no daemon ran', async () => {
    await createNetwork({ name: 'app-network' });
    const pub = await t.start('pub', [{ network: 'app-network' }], ['80/tcp']);
    const forwards = async () => (await ruleLines()).ours.filter((l) => l.includes(portTag(pub.id)));
    expect(await forwards()).not.toEqual([]);
    const [keeper] = keeperPids(t.env.runRoot);
    process.kill(keeper!, 'SIGKILL');
    while (processStartTime(keeper!) !== undefined) await sleep(10);
    await killDaemon();
    rmSync(portRecordPath(pub.id));
    // The reload answers without waiting for the kernel's read-back; the forwards go right after.
    await callDaemon({ op: 'reload' });
    for (let i = 0; i < 100 && (await forwards()).length > 0; i++) await sleep(50);
    expect(await forwards()).toEqual([]);
  });

  it('is root-only, single, and exits with the last network', async () => {
    await createNetwork({ name: 'lonely' });
    const pids = await Promise.all([ensureDaemon(), ensureDaemon(), ensureDaemon()]);
    expect(new Set(pids).size).toBe(1);
    expect(daemonPids(t.env.runRoot)).toEqual([pids[0]]);
    expect(keeperPids(t.env.runRoot)).toHaveLength(1);
    expect(statSync(daemonSocketPath()).mode & 0o777).toBe(0o600);
    expect(statSync(t.env.runRoot).mode & 0o777).toBe(0o700);
    // No V8 flag before its entry, as the CLI has none: with one, the two rejected each other's code
    // cache entries for the bundle files they share. Its status still reports the memory after a full
    // collection, without the flag.
    expect(readFileSync(`/proc/${pids[0]}/cmdline`, 'utf8').split('\0')[1]).toMatch(/(daemon\/main\.js|network-daemon\.cjs)$/);
    const status = await callDaemon({ op: 'status', collect: true }, { start: false }) as { memory: { collected: boolean; heapUsed: number } };
    expect(status.memory.collected).toBe(true);
    expect(status.memory.heapUsed).toBeGreaterThan(0);
    // tearDownNetEnv removes the network and then checks that the daemon went away on its own.
  });

  it('started ahead of a network, it waits for the next request, then leaves when given nothing; and 2 s at most without one', async () => {
    // Nothing to serve: a plain start would leave at once. Started ahead, it is there to answer.
    // Its keeper is spawned before the call returns (not after the caller's synchronous work), and a
    // second call while it starts (the attach after the create) waits for the same start.
    const ahead = startDaemonAhead();
    // (The keeper, and perhaps its child not yet started as the daemon: a copy of it until its exec.)
    expect(keeperPids(t.env.runRoot).length).toBeGreaterThan(0);
    expect(startDaemonAhead()).toBe(ahead);
    await ahead;
    const pid = (await daemonPing())!.pid;
    expect(daemonPids(t.env.runRoot)).toEqual([pid]);
    expect(keeperPids(t.env.runRoot)).toHaveLength(1);
    await sleep(300);
    expect(daemonPids(t.env.runRoot)).toEqual([pid]);
    // The caller's reload ends the wait: with no network it leaves right away.
    await callDaemon({ op: 'reload' }, { start: false });
    for (let i = 0; i < 100 && processStartTime(pid) !== undefined; i++) await sleep(20);
    expect(processStartTime(pid)).toBeUndefined();
    // A caller that failed before its reload: the daemon leaves by itself once the wait is over.
    const started = Date.now();
    await startDaemonAhead();
    const second = (await daemonPing())!.pid;
    while (processStartTime(second) !== undefined && Date.now() - started < 10_000) await sleep(50);
    expect(processStartTime(second)).toBeUndefined();
    expect(keeperPids(t.env.runRoot)).toEqual([]);
  });

  it('takes the default network away after its last container: the daemon on its way out, or the command when no daemon runs', async () => {
    const gone = async (pid: number) => {
      for (let i = 0; i < 250 && processStartTime(pid) !== undefined; i++) await sleep(20);
      return processStartTime(pid) === undefined;
    };
    const defaultLeft = async () => ({
      records: listNetworks().map((n) => n.name),
      links: taggedLinkNames().length,
      rules: (await ruleLines()).ours.length,
    });
    const solo = await t.start('solo', []);
    const daemon = (await daemonPing())!.pid;
    expect(listNetworks().map((n) => n.name)).toEqual(['bridge']);
    await solo.kill();
    await detachContainer(solo.id);
    expect(await gone(daemon)).toBe(true);
    expect(await defaultLeft()).toEqual({ records: [], links: 0, rules: 0 });

    // No daemon to do it (it and its keeper killed): the command that detached the last container does.
    const again = await t.start('again', []);
    const [keeper] = keeperPids(t.env.runRoot);
    process.kill(keeper!, 'SIGKILL');
    const second = (await daemonPing())!.pid;
    process.kill(second, 'SIGKILL');
    expect(await gone(second)).toBe(true);
    await again.kill();
    await detachContainer(again.id);
    expect(daemonPids(t.env.runRoot)).toEqual([]);
    expect(await defaultLeft()).toEqual({ records: [], links: 0, rules: 0 });
  });
});
