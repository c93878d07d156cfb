import { createSocket } from 'node:dgram';
import { connect, isIP } from 'node:net';
import { statSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { hostResolvConf } from '../resolvconf.js';

/**
 * Forwarding of names we do not own to the host's resolvers. It runs in the
 * host's network namespace, so a loopback stub on the host (systemd-resolved's
 * 127.0.0.53, a local dnsmasq) works, which a container could never reach.
 * The upstream list is the host's /etc/resolv.conf (re-read when it changes),
 * or TSCOMPOSE_DNS_UPSTREAM ("ip[:port],..." or "[v6]:port"), which tests
 * point at a fake resolver on 127.0.0.x.
 */

export interface Upstream {
  host: string;
  port: number;
}

export const UPSTREAM_ENV = 'TSCOMPOSE_DNS_UPSTREAM';
/** Per upstream: a lost UDP answer is retried on the next server; the client's own resolver retries after 5 s. */
const TIMEOUT_MS = 2000;

export function parseUpstreams(text: string): Upstream[] {
  const out: Upstream[] = [];
  for (const item of text.split(/[\s,]+/).filter(Boolean)) {
    const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(item);
    if (v6) {
      out.push({ host: v6[1]!, port: Number(v6[2] ?? 53) });
      continue;
    }
    if (isIP(item) === 6) {
      out.push({ host: item, port: 53 });
      continue;
    }
    const [host, port] = item.split(':');
    if (host && isIP(host)) out.push({ host, port: Number(port ?? 53) });
  }
  return out;
}

let cached: { mtimeMs: number; servers: Upstream[] } | undefined;

export function upstreams(exclude: ReadonlySet<string> = new Set()): Upstream[] {
  const env = process.env[UPSTREAM_ENV];
  let servers: Upstream[];
  if (env !== undefined) {
    servers = parseUpstreams(env);
  } else {
    let mtimeMs = 0;
    try {
      mtimeMs = statSync('/etc/resolv.conf').mtimeMs;
    } catch { /* no resolv.conf: no upstream */ }
    if (!cached || cached.mtimeMs !== mtimeMs) {
      cached = { mtimeMs, servers: parseUpstreams(hostResolvConf().nameservers.join(',')) };
    }
    servers = cached.servers;
  }
  // Never forward to ourselves (a host whose resolv.conf names one of our gateways would loop).
  return servers.filter((s) => !exclude.has(s.host));
}

function withId(packet: Buffer, id: number): Buffer {
  const copy = Buffer.from(packet);
  copy.writeUInt16BE(id, 0);
  return copy;
}

/** One UDP exchange: a fresh socket (a fresh random source port) and a random id per query. */
function udpExchange(query: Buffer, server: Upstream): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const id = randomInt(0, 65536);
    const sock = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
    let done = false;
    const finish = (answer: Buffer | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve(answer);
    };
    const timer = setTimeout(() => finish(undefined), TIMEOUT_MS);
    sock.on('error', () => finish(undefined)); // ECONNREFUSED from an ICMP port unreachable: try the next one now
    sock.on('message', (msg) => {
      if (msg.length >= 12 && msg.readUInt16BE(0) === id) finish(msg);
    });
    // Connected, so that an ICMP error reaches us at once instead of a timeout.
    sock.connect(server.port, server.host, () => sock.send(withId(query, id)));
  });
}

function tcpExchange(query: Buffer, server: Upstream): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const id = randomInt(0, 65536);
    const sock = connect({ host: server.host, port: server.port });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (answer: Buffer | undefined) => {
      if (done) return;
      done = true;
      sock.destroy();
      resolve(answer);
    };
    sock.setTimeout(TIMEOUT_MS, () => finish(undefined));
    sock.on('error', () => finish(undefined));
    sock.on('connect', () => {
      const q = withId(query, id);
      const len = Buffer.alloc(2);
      len.writeUInt16BE(q.length);
      sock.write(Buffer.concat([len, q]));
    });
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        finish(msg.length >= 12 && msg.readUInt16BE(0) === id ? Buffer.from(msg) : undefined);
      }
    });
    sock.on('end', () => finish(undefined));
  });
}

/**
 * Asks each upstream in turn; the answer comes back with the client's id.
 * undefined when none answered (the caller says SERVFAIL).
 */
export async function forward(query: Buffer, transport: 'udp' | 'tcp', servers: readonly Upstream[]): Promise<Buffer | undefined> {
  const clientId = query.readUInt16BE(0);
  for (const server of servers) {
    const answer = transport === 'udp' ? await udpExchange(query, server) : await tcpExchange(query, server);
    if (answer) return withId(answer, clientId);
  }
  return undefined;
}
