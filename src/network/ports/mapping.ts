import { isIP } from 'node:net';
import { UserError } from '../../util/errors.js';
import type { PortMapping } from '../types.js';

/**
 * Published ports: the `-p` flag's syntax and the engine's PortMapping, both
 * reduced to PortRequest (one container port, one protocol, a host address,
 * and a host port range to pick from: [0, 0] for "any free port").
 */

export interface PortRequest {
  target: number;
  protocol: 'tcp' | 'udp';
  /** '' means every address of the host (IPv4 and IPv6). */
  hostIp: string;
  hostPortFirst: number;
  hostPortLast: number;
}

function port(text: string, what: string, spec: string, allowZero = false): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= (allowZero ? 0 : 1) && n <= 65535)) {
    throw new UserError(`invalid ${what} "${text}" in port mapping "${spec}"`, 1, 'ports are numbers from 1 to 65535, e.g. -p 8080:80 or -p 127.0.0.1:8080:80/udp');
  }
  return n;
}

function range(text: string, what: string, spec: string): [number, number] {
  const [a, b] = text.split('-');
  const first = port(a!, what, spec);
  const last = b === undefined ? first : port(b, what, spec);
  if (last < first) throw new UserError(`invalid ${what} range "${text}" in port mapping "${spec}"`, 1, 'write the lower port first, e.g. 8000-8010');
  return [first, last];
}

function protocolOf(text: string | undefined, spec: string): 'tcp' | 'udp' {
  const p = (text ?? 'tcp').toLowerCase();
  if (p === 'tcp' || p === 'udp') return p;
  if (p === 'sctp') throw new UserError(`port mapping "${spec}": SCTP is not supported by the native engine`, 1, 'publish TCP or UDP, or use --backend docker');
  throw new UserError(`invalid protocol "${text}" in port mapping "${spec}"`, 1, 'the protocol is tcp or udp, e.g. 53:53/udp');
}

function hostIpOf(text: string, spec: string): string {
  const ip = text.replace(/^\[(.*)\]$/, '$1');
  if (!isIP(ip) && ip !== '') throw new UserError(`invalid host IP "${text}" in port mapping "${spec}"`, 1, 'give an address of this host, e.g. 127.0.0.1:8080:80');
  return ip;
}

/** Pairs host and container ranges as Docker does: equal lengths map one to one; a host range for one container port is a choice. */
function pair(spec: string, protocol: 'tcp' | 'udp', hostIp: string, hostText: string | undefined, containerText: string): PortRequest[] {
  const [cFirst, cLast] = range(containerText, 'container port', spec);
  if (hostText === undefined || hostText === '') {
    const out: PortRequest[] = [];
    for (let p = cFirst; p <= cLast; p++) out.push({ target: p, protocol, hostIp, hostPortFirst: 0, hostPortLast: 0 });
    return out;
  }
  const [hFirst, hLast] = range(hostText, 'host port', spec);
  if (cFirst === cLast) return [{ target: cFirst, protocol, hostIp, hostPortFirst: hFirst, hostPortLast: hLast }];
  if (hLast - hFirst !== cLast - cFirst) {
    throw new UserError(`port mapping "${spec}": the host range ${hostText} and the container range ${containerText} differ in length`, 1, 'give ranges of the same length, e.g. 8000-8002:80-82');
  }
  const out: PortRequest[] = [];
  for (let i = 0; i <= cLast - cFirst; i++) out.push({ target: cFirst + i, protocol, hostIp, hostPortFirst: hFirst + i, hostPortLast: hFirst + i });
  return out;
}

/** `-p [ip:][hostPort[-end]:]containerPort[-end][/proto]`, with `[v6]` for IPv6 host addresses. */
export function parsePublishFlag(spec: string): PortRequest[] {
  const slash = spec.lastIndexOf('/');
  const protocol = protocolOf(slash >= 0 ? spec.slice(slash + 1) : undefined, spec);
  const body = slash >= 0 ? spec.slice(0, slash) : spec;
  let hostIp = '';
  let rest = body;
  const v6 = /^\[([^\]]*)\]:(.*)$/.exec(body);
  if (v6) {
    hostIp = hostIpOf(v6[1]!, spec);
    rest = v6[2]!;
  }
  const parts = rest.split(':');
  if (!v6 && parts.length === 3) return pair(spec, protocol, hostIpOf(parts[0]!, spec), parts[1], parts[2]!);
  if (parts.length === 2) return pair(spec, protocol, hostIp, parts[0], parts[1]!);
  if (parts.length === 1 && !v6) return pair(spec, protocol, hostIp, undefined, parts[0]!);
  throw new UserError(`invalid port mapping "${spec}"`, 1, 'write [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], e.g. 8080:80 or 127.0.0.1:5353:53/udp');
}

/** The engine's PortMapping (Compose's long syntax after normalization). */
export function fromPortMapping(p: PortMapping): PortRequest[] {
  const spec = `${p.hostIp ? `${p.hostIp}:` : ''}${p.published ? `${p.published}:` : ''}${p.target}/${p.protocol}`;
  const protocol = protocolOf(p.protocol, spec);
  port(String(p.target), 'container port', spec);
  return pair(spec, protocol, hostIpOf(p.hostIp ?? '', spec), p.published, String(p.target));
}

export function describeRequest(r: PortRequest): string {
  const host = r.hostPortFirst === 0 ? '' : r.hostPortFirst === r.hostPortLast ? `${r.hostPortFirst}` : `${r.hostPortFirst}-${r.hostPortLast}`;
  const ip = r.hostIp.includes(':') ? `[${r.hostIp}]` : r.hostIp;
  return `${ip ? `${ip}:` : ''}${host ? `${host}:` : ''}${r.target}/${r.protocol}`;
}
