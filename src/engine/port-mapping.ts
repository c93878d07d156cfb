import { isIP } from 'node:net';
import { UserError } from '../util/errors.js';
import type { PortMapping, PortProtocol } from './types.js';

/**
 * Docker's `-p` syntax, `[IP:][HOST_PORT[-END]:]CONTAINER_PORT[-END][/PROTO]`
 * (with `[v6]` for IPv6 host addresses), as port mappings: one per container
 * port, a host range either paired one to one with a container range of the
 * same length or left as a choice for a single container port. Engine-neutral:
 * what an engine can publish is its own check. Every error names the mapping.
 */

export function portNumber(text: string, what: string, spec: string, allowZero = false): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= (allowZero ? 0 : 1) && n <= 65535)) {
    throw new UserError(`invalid ${what} "${text}" in port mapping "${spec}"`, 1, 'ports are numbers from 1 to 65535, e.g. -p 8080:80 or -p 127.0.0.1:8080:80/udp');
  }
  return n;
}

export function portRange(text: string, what: string, spec: string): [number, number] {
  const [a, b] = text.split('-');
  const first = portNumber(a!, what, spec);
  const last = b === undefined ? first : portNumber(b, what, spec);
  if (last < first) throw new UserError(`invalid ${what} range "${text}" in port mapping "${spec}"`, 1, 'write the lower port first, e.g. 8000-8010');
  return [first, last];
}

export function hostIpOf(text: string, spec: string): string {
  const ip = text.replace(/^\[(.*)\]$/, '$1');
  if (!isIP(ip) && ip !== '') throw new UserError(`invalid host IP "${text}" in port mapping "${spec}"`, 1, 'give an address of this host, e.g. 127.0.0.1:8080:80');
  return ip;
}

function protocol(text: string | undefined, spec: string): PortProtocol {
  const p = (text ?? 'tcp').toLowerCase();
  if (p === 'tcp' || p === 'udp' || p === 'sctp') return p;
  throw new UserError(`invalid protocol "${text}" in port mapping "${spec}"`, 1, 'the protocol is tcp or udp, e.g. 53:53/udp');
}

function pair(spec: string, proto: PortProtocol, hostIp: string, hostText: string | undefined, containerText: string): PortMapping[] {
  const [cFirst, cLast] = portRange(containerText, 'container port', spec);
  const ip = hostIp ? { hostIp } : {};
  if (hostText === undefined || hostText === '') {
    const out: PortMapping[] = [];
    for (let p = cFirst; p <= cLast; p++) out.push({ target: p, protocol: proto, ...ip });
    return out;
  }
  const [hFirst, hLast] = portRange(hostText, 'host port', spec);
  if (cFirst === cLast) return [{ target: cFirst, protocol: proto, ...ip, published: hFirst === hLast ? String(hFirst) : `${hFirst}-${hLast}` }];
  if (hLast - hFirst !== cLast - cFirst) {
    throw new UserError(`port mapping "${spec}": the host range ${hostText} and the container range ${containerText} differ in length`, 1, 'give ranges of the same length, e.g. 8000-8002:80-82');
  }
  const out: PortMapping[] = [];
  for (let i = 0; i <= cLast - cFirst; i++) out.push({ target: cFirst + i, protocol: proto, ...ip, published: String(hFirst + i) });
  return out;
}

export function parsePortMappings(spec: string): PortMapping[] {
  const slash = spec.lastIndexOf('/');
  const proto = protocol(slash >= 0 ? spec.slice(slash + 1) : undefined, spec);
  const body = slash >= 0 ? spec.slice(0, slash) : spec;
  let hostIp = '';
  let rest = body;
  const v6 = /^\[([^\]]*)\]:(.*)$/.exec(body);
  if (v6) {
    hostIp = hostIpOf(v6[1]!, spec);
    rest = v6[2]!;
  }
  const parts = rest.split(':');
  if (!v6 && parts.length === 3) return pair(spec, proto, hostIpOf(parts[0]!, spec), parts[1], parts[2]!);
  if (parts.length === 2) return pair(spec, proto, hostIp, parts[0], parts[1]!);
  if (parts.length === 1 && !v6) return pair(spec, proto, hostIp, undefined, parts[0]!);
  throw new UserError(`invalid port mapping "${spec}"`, 1, 'write [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], e.g. 8080:80 or 127.0.0.1:5353:53/udp');
}
