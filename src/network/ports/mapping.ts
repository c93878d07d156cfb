import { UserError } from '../../util/errors.js';
import { hostIpOf, parsePortMappings, portNumber, portRange } from '../../engine/port-mapping.js';
import type { PortMapping } from '../types.js';

/**
 * Published ports: the engine's PortMapping (and so the `-p` flag's syntax)
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

function protocolOf(text: string | undefined, spec: string): 'tcp' | 'udp' {
  const p = (text ?? 'tcp').toLowerCase();
  if (p === 'tcp' || p === 'udp') return p;
  if (p === 'sctp') throw new UserError(`port mapping "${spec}": SCTP is not supported by the native engine`, 1, 'publish TCP or UDP, or use --backend docker');
  throw new UserError(`invalid protocol "${text}" in port mapping "${spec}"`, 1, 'the protocol is tcp or udp, e.g. 53:53/udp');
}

/** Pairs host and container ranges as Docker does: equal lengths map one to one; a host range for one container port is a choice. */
function pair(spec: string, protocol: 'tcp' | 'udp', hostIp: string, hostText: string | undefined, containerText: string): PortRequest[] {
  const [cFirst, cLast] = portRange(containerText, 'container port', spec);
  if (hostText === undefined || hostText === '') {
    const out: PortRequest[] = [];
    for (let p = cFirst; p <= cLast; p++) out.push({ target: p, protocol, hostIp, hostPortFirst: 0, hostPortLast: 0 });
    return out;
  }
  const [hFirst, hLast] = portRange(hostText, 'host port', spec);
  if (cFirst === cLast) return [{ target: cFirst, protocol, hostIp, hostPortFirst: hFirst, hostPortLast: hLast }];
  const out: PortRequest[] = [];
  for (let i = 0; i <= cLast - cFirst; i++) out.push({ target: cFirst + i, protocol, hostIp, hostPortFirst: hFirst + i, hostPortLast: hFirst + i });
  return out;
}

/** `-p` (Docker's syntax, engine/port-mapping.ts) as what the network publishes. */
export function parsePublishFlag(spec: string): PortRequest[] {
  return parsePortMappings(spec).flatMap(fromPortMapping);
}

/** The engine's PortMapping (Compose's long syntax after normalization). */
export function fromPortMapping(p: PortMapping): PortRequest[] {
  const spec = `${p.hostIp ? `${p.hostIp}:` : ''}${p.published ? `${p.published}:` : ''}${p.target}/${p.protocol}`;
  const protocol = protocolOf(p.protocol, spec);
  portNumber(String(p.target), 'container port', spec);
  return pair(spec, protocol, hostIpOf(p.hostIp ?? '', spec), p.published, String(p.target));
}

export function describeRequest(r: PortRequest): string {
  const host = r.hostPortFirst === 0 ? '' : r.hostPortFirst === r.hostPortLast ? `${r.hostPortFirst}` : `${r.hostPortFirst}-${r.hostPortLast}`;
  const ip = r.hostIp.includes(':') ? `[${r.hostIp}]` : r.hostIp;
  return `${ip ? `${ip}:` : ''}${host ? `${host}:` : ''}${r.target}/${r.protocol}`;
}
