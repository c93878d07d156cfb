import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';

/**
 * The embedded DNS server's sockets: UDP and TCP on port 53 of every
 * network's gateway address, in the host namespace (aardvark-dns's design:
 * no socket inside each container, nothing to set up per container). The
 * asker's source address tells whose query it is.
 */

export type QueryHandler = (query: Buffer, sourceIp: string, transport: 'udp' | 'tcp') => Promise<Buffer | undefined>;

interface Listener {
  udp: UdpSocket;
  tcp: Server;
  conns: Set<Socket>;
}

export const DNS_PORT = 53;
const TCP_IDLE_MS = 10_000;

export class DnsServer {
  private readonly listeners = new Map<string, Listener>();

  constructor(
    private readonly handle: QueryHandler,
    private readonly log: (msg: string) => void,
    private readonly port = DNS_PORT,
  ) {}

  addresses(): string[] {
    return [...this.listeners.keys()];
  }

  /** Listens on exactly these addresses: opens the new ones, closes the others. Returns the addresses that failed, with why. */
  async setAddresses(ips: readonly string[]): Promise<Map<string, string>> {
    const failed = new Map<string, string>();
    for (const ip of [...this.listeners.keys()]) if (!ips.includes(ip)) await this.close(ip);
    for (const ip of ips) {
      if (this.listeners.has(ip)) continue;
      try {
        this.listeners.set(ip, await this.open(ip));
      } catch (err) {
        failed.set(ip, (err as Error).message);
        this.log(`dns: cannot listen on ${ip}:${this.port}: ${(err as Error).message}`);
      }
    }
    return failed;
  }

  async closeAll(): Promise<void> {
    for (const ip of [...this.listeners.keys()]) await this.close(ip);
  }

  private async open(ip: string): Promise<Listener> {
    const udp = createSocket({ type: 'udp4' });
    udp.on('message', (msg, rinfo) => {
      this.handle(msg, rinfo.address, 'udp').then(
        (reply) => {
          if (reply) udp.send(reply, rinfo.port, rinfo.address);
        },
        (err) => this.log(`dns: query from ${rinfo.address}: ${(err as Error).message}`),
      );
    });
    udp.on('error', (err) => this.log(`dns: udp ${ip}: ${err.message}`));
    udp.bind({ address: ip, port: this.port, exclusive: true });
    await Promise.race([once(udp, 'listening'), once(udp, 'error').then(([e]) => Promise.reject(e))]);

    const conns = new Set<Socket>();
    const tcp = createServer((sock) => this.serveTcp(sock, conns));
    tcp.on('error', (err) => this.log(`dns: tcp ${ip}: ${err.message}`));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host: ip, port: this.port, exclusive: true }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      udp.close();
      throw err;
    }
    return { udp, tcp, conns };
  }

  /** RFC 7766 framing: two length bytes per message; several queries may share a connection. */
  private serveTcp(sock: Socket, conns: Set<Socket>): void {
    conns.add(sock);
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
    sock.on('close', () => conns.delete(sock));
    sock.on('error', () => sock.destroy());
    const source = (sock.remoteAddress ?? '').replace(/^::ffff:/, '');
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        this.handle(Buffer.from(msg), source, 'tcp').then(
          (reply) => {
            if (!reply || sock.destroyed) return;
            const len = Buffer.alloc(2);
            len.writeUInt16BE(reply.length);
            sock.write(Buffer.concat([len, reply]));
          },
          (err) => this.log(`dns: tcp query from ${source}: ${(err as Error).message}`),
        );
      }
    });
  }

  private async close(ip: string): Promise<void> {
    const l = this.listeners.get(ip);
    if (!l) return;
    this.listeners.delete(ip);
    for (const c of l.conns) c.destroy();
    await Promise.all([new Promise<void>((r) => l.udp.close(() => r())), new Promise<void>((r) => l.tcp.close(() => r()))]);
  }
}
