import { ConflictError, UserError } from '../util/errors.js';
import { type Cidr, cidrSize, contains, containsCidr, formatCidr, formatIpv4, lastAddress, overlaps, parseCidr, parseIpv4 } from './ipv4.js';
import { AddressBitmap, defaultGateway, pickSubnet } from './ipam.js';
import type { HostRoute } from './hostroutes.js';
import type { CreateNetworkOptions, IpamState, NetworkRecord } from './types.js';

/**
 * A new network's addressing from what the user asked for (Compose's
 * `ipam.config`, `network create --subnet/--gateway/--ip-range/--aux-address`)
 * or from the default pools, checked against our other networks and the
 * host's routes. Every refusal names the value and the thing it collides with.
 */

export interface Addressing {
  subnet: string;
  gateway: string;
  ipRange?: string;
  auxAddresses: Record<string, string>;
  userConfigured: boolean;
  ipam: IpamState;
}

function cidrOption(text: string, what: string, network: string): Cidr {
  const c = parseCidr(text, true);
  if (c) return c;
  const loose = parseCidr(text, false);
  if (loose) {
    throw new UserError(`network ${network}: ${what} ${text} has host bits set`, 1, `did you mean ${formatCidr(loose)}?`);
  }
  throw new UserError(`network ${network}: invalid ${what} "${text}"`, 1, 'write it in CIDR notation, e.g. 172.28.0.0/16');
}

function addressOption(text: string, what: string, network: string, subnet: Cidr): number {
  const a = parseIpv4(text);
  if (a === undefined) throw new UserError(`network ${network}: invalid ${what} "${text}"`, 1, 'write an IPv4 address, e.g. 172.28.0.1');
  if (!contains(subnet, a)) throw new UserError(`network ${network}: ${what} ${text} is outside the subnet ${formatCidr(subnet)}`, 1, 'pick an address inside the subnet');
  if (a === subnet.base || a === lastAddress(subnet)) {
    throw new UserError(`network ${network}: ${what} ${text} is the subnet's network or broadcast address`, 1, 'pick another address inside the subnet');
  }
  return a;
}

/** Ranges a bridge must never take: they mean something else to every host. */
const SPECIAL_RANGES: [string, string][] = [
  ['0.0.0.0/8', 'the "this network" range'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
];

export function planAddressing(opts: CreateNetworkOptions, ours: readonly NetworkRecord[], routes: readonly HostRoute[]): Addressing {
  const name = opts.name;
  let subnet: Cidr;
  if (opts.subnet) {
    subnet = cidrOption(opts.subnet, 'subnet', name);
    if (subnet.prefix < 8 || subnet.prefix > 30) {
      throw new UserError(`network ${name}: subnet ${opts.subnet} is too ${subnet.prefix < 8 ? 'large' : 'small'}`, 1, 'use a prefix length from /8 to /30');
    }
    const special = SPECIAL_RANGES.find(([range]) => overlaps(parseCidr(range)!, subnet));
    if (special) {
      throw new UserError(`network ${name}: subnet ${opts.subnet} overlaps ${special[0]} (${special[1]})`, 1, 'pick a private range, e.g. 172.28.0.0/16 or 10.10.0.0/24');
    }
    const clash = ours.find((n) => overlaps(parseCidr(n.subnet)!, subnet));
    if (clash) {
      throw new ConflictError(`network ${name}: subnet ${opts.subnet} overlaps network ${clash.name} (${clash.subnet})`, 'pick a subnet that no other network uses, or leave it out to get a free one');
    }
    const route = routes.find((r) => overlaps(r, subnet));
    if (route) {
      throw new ConflictError(
        `network ${name}: subnet ${opts.subnet} overlaps the host route ${formatCidr(route)} on ${route.iface}`,
        'pick a subnet the host does not route already, or leave it out to get a free one',
      );
    }
  } else {
    if (opts.gateway || opts.ipRange || Object.keys(opts.auxAddresses ?? {}).length) {
      throw new UserError(`network ${name}: a gateway, IP range or auxiliary address needs a subnet`, 1, 'give the subnet too (--subnet / ipam.config[].subnet)');
    }
    const picked = pickSubnet([...routes, ...ours.map((n) => parseCidr(n.subnet)!)]);
    if (!picked) {
      throw new ConflictError(
        `network ${name}: every default address pool (172.17-31.0.0/16, 192.168.0.0/16 in /20s) is in use or overlaps a host route`,
        'give the network a subnet (--subnet / ipam.config[].subnet), or remove unused networks (tscompose network prune)',
      );
    }
    subnet = picked;
  }
  const gateway = opts.gateway ? addressOption(opts.gateway, 'gateway', name, subnet) : defaultGateway(subnet);
  let range: Cidr | undefined;
  if (opts.ipRange) {
    range = cidrOption(opts.ipRange, 'ip range', name);
    if (!containsCidr(subnet, range)) {
      throw new UserError(`network ${name}: ip range ${opts.ipRange} is not inside the subnet ${formatCidr(subnet)}`, 1, 'give a range inside the subnet');
    }
  }
  const aux: Record<string, string> = {};
  const reserved = [gateway];
  for (const [key, value] of Object.entries(opts.auxAddresses ?? {})) {
    const a = addressOption(value, `auxiliary address ${key}`, name, subnet);
    aux[key] = formatIpv4(a);
    reserved.push(a);
  }
  const bitmap = AddressBitmap.create(subnet, reserved);
  if (range && bitmapFull(bitmap, range)) {
    throw new UserError(`network ${name}: ip range ${opts.ipRange} has no address left for containers`, 1, 'give a larger range');
  }
  return {
    subnet: formatCidr(subnet),
    gateway: formatIpv4(gateway),
    ...(range ? { ipRange: formatCidr(range) } : {}),
    auxAddresses: aux,
    userConfigured: opts.subnet !== undefined,
    ipam: bitmap.toState(),
  };
}

function bitmapFull(bitmap: AddressBitmap, range: Cidr): boolean {
  for (let i = 0; i < cidrSize(range); i++) if (!bitmap.has(range.base + i) && contains(bitmap.subnet, range.base + i)) return false;
  return true;
}

/** Takes an address for an endpoint: the one asked for, or the next free one in the network's range. */
export function allocateAddress(net: NetworkRecord, bitmap: AddressBitmap, wanted: string | undefined, container: string): number {
  const subnet = parseCidr(net.subnet)!;
  if (wanted !== undefined) {
    const a = parseIpv4(wanted);
    if (a === undefined) throw new UserError(`container ${container}: invalid IPv4 address "${wanted}" for network ${net.name}`, 1, 'write it as a.b.c.d');
    if (!contains(subnet, a)) {
      throw new UserError(`container ${container}: address ${wanted} is outside network ${net.name}'s subnet ${net.subnet}`, 1, 'pick an address inside the subnet');
    }
    if (!bitmap.claim(a)) {
      const holder = Object.values(net.endpoints).find((e) => e.ipv4 === wanted);
      const who = holder ? `container ${holder.containerName}` : a === parseIpv4(net.gateway) ? 'the gateway' : 'a reserved address';
      throw new ConflictError(`container ${container}: address ${wanted} on network ${net.name} is already taken by ${who}`, 'pick another address, or leave it out to get a free one');
    }
    return a;
  }
  const a = bitmap.allocate(net.ipRange ? parseCidr(net.ipRange)! : subnet);
  if (a === undefined) {
    throw new ConflictError(`network ${net.name} has no free address left (${net.ipRange ?? net.subnet})`, 'remove unused containers from it, or use a network with a larger subnet');
  }
  return a;
}
