import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { type Cidr, cidrSize, contains, formatCidr, formatIpv4, overlaps, parseCidr } from './ipv4.js';
import type { IpamState } from './types.js';

/**
 * Address management: which subnet a new network gets, and which address a
 * new endpoint gets inside it.
 */

/**
 * Docker's default pools (libnetwork ipamutils): 172.17-31.0.0/16, then
 * 192.168.0.0/16 cut into /20s. Same order, so a host that knows Docker's
 * choices is not surprised by ours.
 */
export function defaultPools(): Cidr[] {
  const pools: Cidr[] = [];
  for (let b = 17; b <= 31; b++) pools.push(parseCidr(`172.${b}.0.0/16`)!);
  for (let c = 0; c < 256; c += 16) pools.push(parseCidr(`192.168.${c}.0/20`)!);
  return pools;
}

/** The first default pool that overlaps none of `taken` (host routes and our other networks). */
export function pickSubnet(taken: readonly Cidr[]): Cidr | undefined {
  return defaultPools().find((pool) => !taken.some((t) => overlaps(pool, t)));
}

/** The subnet's first usable address: what Docker makes the gateway. */
export function defaultGateway(subnet: Cidr): number {
  return (subnet.base + 1) >>> 0;
}

/**
 * One bit per address of a subnet. Network, broadcast, gateway and auxiliary
 * addresses are set from the start and never handed out. Allocation is serial
 * (libnetwork's choice): it continues after the last address given, so an
 * address freed by a stopped container is not reused by the next one at once
 * and stale ARP or DNS caches elsewhere do not point at a stranger.
 */
export class AddressBitmap {
  private constructor(
    readonly subnet: Cidr,
    private readonly bits: Buffer,
    private cursor: number,
  ) {}

  static create(subnet: Cidr, reserved: readonly number[]): AddressBitmap {
    const size = cidrSize(subnet);
    const map = new AddressBitmap(subnet, Buffer.alloc(Math.ceil(size / 8)), 0);
    map.setOffset(0);
    if (size > 2) map.setOffset(size - 1);
    for (const addr of reserved) map.set(addr);
    return map;
  }

  static load(subnet: Cidr, state: IpamState): AddressBitmap {
    const bits = inflateRawSync(Buffer.from(state.bitmap, 'base64'));
    if (bits.length !== Math.ceil(cidrSize(subnet) / 8)) {
      throw new Error(`IPAM bitmap of ${formatCidr(subnet)} has ${bits.length} bytes, expected ${Math.ceil(cidrSize(subnet) / 8)}`);
    }
    return new AddressBitmap(subnet, bits, state.cursor);
  }

  /** Deflated: a /8's 2 MiB bitmap is a few KiB on disk while it is mostly empty. */
  toState(): IpamState {
    return { bitmap: deflateRawSync(this.bits).toString('base64'), cursor: this.cursor };
  }

  has(addr: number): boolean {
    const off = this.offsetOf(addr);
    return (this.bits[off >> 3]! & (1 << (off & 7))) !== 0;
  }

  set(addr: number): void {
    this.setOffset(this.offsetOf(addr));
  }

  release(addr: number): void {
    if (!contains(this.subnet, addr)) return;
    const off = addr - this.subnet.base;
    this.bits[off >> 3] = this.bits[off >> 3]! & ~(1 << (off & 7));
  }

  /** Takes a specific address; false when it is already taken (or reserved). */
  claim(addr: number): boolean {
    if (this.has(addr)) return false;
    this.set(addr);
    return true;
  }

  /** The next free address inside `range` (default: the whole subnet) after the cursor, wrapping once. */
  allocate(range: Cidr = this.subnet): number | undefined {
    const first = Math.max(range.base, this.subnet.base) - this.subnet.base;
    const last = Math.min(range.base + cidrSize(range), this.subnet.base + cidrSize(this.subnet)) - 1 - this.subnet.base;
    if (last < first) return undefined;
    const start = this.cursor >= first && this.cursor < last ? this.cursor + 1 : first;
    const found = this.scan(start, last) ?? this.scan(first, start - 1);
    if (found === undefined) return undefined;
    this.setOffset(found);
    this.cursor = found;
    return (this.subnet.base + found) >>> 0;
  }

  private scan(from: number, to: number): number | undefined {
    for (let off = from; off <= to; off++) {
      const byte = this.bits[off >> 3]!;
      if (byte === 0xff && (off & 7) === 0) {
        off += 7; // a full byte: skip it whole
        continue;
      }
      if ((byte & (1 << (off & 7))) === 0) return off;
    }
    return undefined;
  }

  private setOffset(off: number): void {
    this.bits[off >> 3] = this.bits[off >> 3]! | (1 << (off & 7));
  }

  private offsetOf(addr: number): number {
    if (!contains(this.subnet, addr)) throw new Error(`${formatIpv4(addr)} is outside ${formatCidr(this.subnet)}`);
    return addr - this.subnet.base;
  }
}
