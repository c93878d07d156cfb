import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * Who holds a port: the socket in /proc/net/{tcp,tcp6,udp,udp6} (LISTEN for
 * TCP, any bound socket for UDP), then the process with that socket inode
 * among /proc/PID/fd. Only used to word an error, so it favours clarity over
 * speed.
 */

export interface PortHolder {
  address: string;
  inode: number;
  pid?: number;
  command?: string;
}

const TCP_LISTEN = '0A';

function hexToIpv4(hex: string): string {
  const n = parseInt(hex, 16);
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.');
}

function hexToIpv6(hex: string): string {
  // Four 32-bit words, each in host (little-endian) byte order.
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    for (let b = 3; b >= 0; b--) bytes.push(parseInt(word.slice(b * 2, b * 2 + 2), 16));
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // The WHATWG URL parser prints IPv6 in its canonical (RFC 5952) form.
  const text = new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(text);
  if (mapped) {
    const hi = parseInt(mapped[1]!, 16);
    const lo = parseInt(mapped[2]!, 16);
    return `::ffff:${hi >>> 8}.${hi & 255}.${lo >>> 8}.${lo & 255}`;
  }
  return text;
}

/** Sockets bound to `port` in the host's socket tables, with their addresses and inodes. */
export function socketsOnPort(protocol: 'tcp' | 'udp', port: number, procNet = '/proc/net'): PortHolder[] {
  const out: PortHolder[] = [];
  for (const v6 of [false, true]) {
    let text: string;
    try {
      text = readFileSync(`${procNet}/${protocol}${v6 ? '6' : ''}`, 'utf8');
    } catch {
      continue; // no IPv6 on this host
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const [addrHex, portHex] = f[1]!.split(':');
      if (parseInt(portHex!, 16) !== port) continue;
      if (protocol === 'tcp' && f[3] !== TCP_LISTEN) continue;
      const address = v6 ? hexToIpv6(addrHex!) : hexToIpv4(addrHex!);
      out.push({ address: address.includes(':') ? `[${address}]` : address, inode: Number(f[9]) });
    }
  }
  return out;
}

/** Fills in the pid and command line of each socket's owner, scanning /proc once. */
export function findOwners(holders: PortHolder[]): PortHolder[] {
  const wanted = new Map(holders.filter((h) => h.inode > 0).map((h) => [`socket:[${h.inode}]`, h]));
  if (wanted.size === 0) return holders;
  for (const pidText of readdirSync('/proc')) {
    if (!/^\d+$/.test(pidText)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pidText}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pidText}/fd/${fd}`);
      } catch {
        continue;
      }
      const h = wanted.get(target);
      if (h && h.pid === undefined) {
        h.pid = Number(pidText);
        h.command = commandLine(h.pid);
      }
    }
  }
  return holders;
}

export function commandLine(pid: number): string | undefined {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    const text = argv || readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return undefined;
  }
}

export function describeHolders(holders: readonly PortHolder[]): string {
  if (holders.length === 0) return 'another program (its socket could not be found in /proc/net)';
  return holders
    .map((h) => (h.pid ? `process ${h.pid} (${h.command ?? '?'}) listening on ${h.address}` : `a socket on ${h.address} (inode ${h.inode}, owner not visible)`))
    .join('; ');
}
