import { isIP } from 'node:net';
import type { ServicePortConfig } from '../types.js';

/**
 * The short port syntax, as Docker parses it (go-connections `nat`):
 *
 *   [[HOST_IP:][HOST_PORT[-END]]:]CONTAINER_PORT[-END][/PROTOCOL]
 *
 * A container range expands into one entry per port, each paired with the
 * matching host port when the host side is a range of the same size; a
 * single container port may take a host range (any free port of it).
 * IPv6 host addresses are written in brackets: `[::1]:8080:80`.
 */

export class PortSyntaxError extends Error {}

export const PROTOCOLS = ['tcp', 'udp', 'sctp'];

export interface PortRange {
  start: number;
  end: number;
}

export function parsePortString(spec: string): ServicePortConfig[] {
  const [rawPorts, rawProto, ...more] = spec.split('/');
  if (more.length > 0) throw new PortSyntaxError(`"${spec}": more than one /protocol`);
  const protocol = rawProto === undefined ? 'tcp' : rawProto.toLowerCase();
  if (!PROTOCOLS.includes(protocol)) throw new PortSyntaxError(`"${spec}": unknown protocol "${rawProto}" (use tcp, udp or sctp)`);
  const { ip, host, container } = splitParts(rawPorts!);
  const hostIp = ip.replace(/^\[(.*)\]$/, '$1');
  if (hostIp !== '' && isIP(hostIp) === 0) throw new PortSyntaxError(`"${spec}": "${hostIp}" is not an IP address`);
  const target = parsePortRange(container, spec, 'container port');
  const published = host === '' ? undefined : parsePortRange(host, spec, 'host port', 0);
  const targetCount = target.end - target.start;
  if (published && published.end - published.start !== targetCount && targetCount !== 0) {
    throw new PortSyntaxError(`"${spec}": the host range ${host} and the container range ${container} have different sizes`);
  }
  const out: ServicePortConfig[] = [];
  for (let i = 0; i <= targetCount; i++) {
    // Field order as Compose prints a port: mode, host_ip, target, published, protocol.
    const p = { mode: 'ingress' } as ServicePortConfig;
    if (hostIp !== '') p.host_ip = hostIp;
    p.target = target.start + i;
    if (published) p.published = targetCount === 0 ? rangeText(published) : String(published.start + i);
    p.protocol = protocol;
    out.push(p);
  }
  return out;
}

function splitParts(raw: string): { ip: string; host: string; container: string } {
  // An IPv6 address in brackets may hold colons of its own.
  const bracket = /^(\[[^\]]*\]):(.*)$/.exec(raw);
  if (bracket) {
    const rest = bracket[2]!.split(':');
    if (rest.length === 2) return { ip: bracket[1]!, host: rest[0]!, container: rest[1]! };
  }
  const parts = raw.split(':');
  const n = parts.length;
  const container = parts[n - 1]!;
  if (n === 1) return { ip: '', host: '', container };
  if (n === 2) return { ip: '', host: parts[0]!, container };
  return { ip: parts.slice(0, n - 2).join(':'), host: parts[n - 2]!, container };
}

export function parsePortRange(text: string, spec: string, what: string, min = 1): PortRange {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) throw new PortSyntaxError(`"${spec}": "${text}" is not a ${what} or range of ports`);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  for (const p of [start, end]) {
    if (p < min || p > 65535) throw new PortSyntaxError(`"${spec}": ${what} ${p} is out of range (${min}-65535)`);
  }
  if (end < start) throw new PortSyntaxError(`"${spec}": the range ${text} ends before it starts`);
  return { start, end };
}

export function rangeText(r: PortRange): string {
  return r.start === r.end ? String(r.start) : `${r.start}-${r.end}`;
}
