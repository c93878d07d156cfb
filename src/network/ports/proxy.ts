import { createServer, connect, type Server, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket, type RemoteInfo } from 'node:dgram';

/**
 * The userland proxy for published ports (docker-proxy's job, in the daemon):
 * a listener on the host address and port that relays each TCP connection,
 * or each UDP client's datagrams, to the container's address. It works for
 * 127.0.0.1 and every host address alike, with no firewall rule, and holding
 * the listening socket is what reserves the port.
 */

export interface Target {
  ip: string;
  port: number;
}

export interface Forwarder {
  readonly protocol: 'tcp' | 'udp';
  /** The bound host port (the kernel's choice when 0 was asked). */
  readonly port: number;
  /** Later connections go to the new target (the container moved to another address). */
  retarget(t: Target): void;
  close(): Promise<void>;
}

/** '' (every address): IPv6 dual-stack when the host has IPv6, IPv4 otherwise. */
function listenHosts(hostIp: string): string[] {
  return hostIp === '' ? ['::', '0.0.0.0'] : [hostIp];
}

function isFamilyError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL';
}

const READ_BUFFER = 256 * 1024;
const POOL_MAX = 16;

export async function listenTcp(hostIp: string, port: number, target: Target): Promise<Forwarder> {
  let current = target;
  const conns = new Set<Socket>();
  const pool: Buffer[] = [];
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (client) => {
    conns.add(client);
    const upstream = connect({
      host: current.ip,
      port: current.port,
      allowHalfOpen: true,
      noDelay: true,
      // The container's answers (the bulk of most traffic: downloads) are read straight into large
      // reused buffers, not a fresh 64 KiB one per read: a quarter of the reads and no garbage.
      // A buffer goes back to the pool once the client's socket has taken its bytes.
      onread: {
        buffer: () => pool.pop() ?? Buffer.allocUnsafe(READ_BUFFER),
        callback: (n: number, buf: Buffer) => {
          if (!client.write(buf.subarray(0, n), () => pool.length < POOL_MAX && pool.push(buf))) {
            upstream.pause();
            client.once('drain', () => upstream.resume());
          }
          return true;
        },
      },
    });
    conns.add(upstream);
    const drop = () => {
      // A reset, not a clean end: the client must not take a refused or broken relay for an empty answer.
      if (!client.destroyed) client.resetAndDestroy();
      upstream.destroy();
    };
    upstream.once('connect', () => {
      client.pipe(upstream);
      client.resume();
    });
    upstream.on('end', () => client.end());
    upstream.on('error', drop);
    client.on('error', () => upstream.destroy());
    client.on('close', () => {
      conns.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => {
      conns.delete(upstream);
      // A clean end already reached the client through the pipe (and it may still be flushing); a broken one resets it.
      if (upstream.errored) drop();
    });
  });
  const bound = await bindServer(server, hostIp, port);
  // After the bind, an accept error (EMFILE under a flood) costs that one connection, not the daemon.
  server.on('error', () => undefined);
  return {
    protocol: 'tcp',
    port: bound,
    retarget: (t) => {
      current = t;
    },
    close: async () => {
      for (const c of conns) c.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function bindServer(server: Server, hostIp: string, port: number): Promise<number> {
  let lastErr: unknown;
  for (const host of listenHosts(hostIp)) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port, ipv6Only: false, exclusive: true }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const addr = server.address();
      return typeof addr === 'object' && addr ? addr.port : port;
    } catch (err) {
      lastErr = err;
      if (!isFamilyError(err) || hostIp !== '') throw err;
    }
  }
  throw lastErr;
}

/** UDP "connections": one upstream socket per client address, dropped after this much silence (docker-proxy: 90 s). */
const UDP_IDLE_MS = 60_000;

export async function listenUdp(hostIp: string, port: number, target: Target): Promise<Forwarder> {
  let current = target;
  const clients = new Map<string, { sock: UdpSocket; last: number }>();
  let server: UdpSocket | undefined;
  let lastErr: unknown;
  for (const host of listenHosts(hostIp)) {
    const sock = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', ipv6Only: false });
    try {
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind({ address: host, port, exclusive: true }, () => {
          sock.off('error', reject);
          resolve();
        });
      });
      server = sock;
      break;
    } catch (err) {
      lastErr = err;
      sock.close();
      if (!isFamilyError(err) || hostIp !== '') throw err;
    }
  }
  if (!server) throw lastErr;
  const srv = server;
  srv.on('error', () => { /* a send to a vanished client: nothing to do */ });
  srv.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    const key = `${rinfo.address}|${rinfo.port}`;
    let c = clients.get(key);
    if (!c) {
      const up = createSocket('udp4');
      up.on('message', (reply, from) => {
        if (from.address === current.ip) srv.send(reply, rinfo.port, rinfo.address);
      });
      up.on('error', () => { /* ICMP unreachable from a stopped container: the client times out as with no proxy */ });
      c = { sock: up, last: Date.now() };
      clients.set(key, c);
    }
    c.last = Date.now();
    c.sock.send(msg, current.port, current.ip);
  });
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [key, c] of clients) {
      if (now - c.last > UDP_IDLE_MS) {
        c.sock.close();
        clients.delete(key);
      }
    }
  }, 10_000);
  sweep.unref();
  const addr = srv.address();
  return {
    protocol: 'udp',
    port: addr.port,
    retarget: (t) => {
      current = t;
    },
    close: async () => {
      clearInterval(sweep);
      for (const c of clients.values()) c.sock.close();
      clients.clear();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}
