import { readFileSync } from 'node:fs';
import { type Cidr, maskOf } from './ipv4.js';

export interface HostRoute extends Cidr {
  iface: string;
}

/**
 * The host's IPv4 routes (main table) from /proc/net/route, without spawning
 * `ip`. The default route is left out: it overlaps everything and says
 * nothing about which subnets are in use. Destination and mask are printed in
 * the kernel's byte order (little-endian on the machines we run on).
 */
export function hostRoutes(text = readFileSync('/proc/net/route', 'utf8')): HostRoute[] {
  const routes: HostRoute[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dest = swap32(parseInt(f[1]!, 16));
    const mask = swap32(parseInt(f[7]!, 16));
    const prefix = prefixOf(mask);
    if (prefix === undefined || prefix === 0) continue;
    routes.push({ iface: f[0]!, base: (dest & mask) >>> 0, prefix });
  }
  return routes;
}

function swap32(n: number): number {
  return (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24)) >>> 0;
}

function prefixOf(mask: number): number | undefined {
  for (let p = 0; p <= 32; p++) if (maskOf(p) === mask) return p;
  return undefined;
}
