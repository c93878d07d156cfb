import { readFileSync } from 'node:fs';
import { UserError } from '../../../util/errors.js';
import type { ContainerNetwork } from './types.js';

/**
 * The per-container /etc/hosts, /etc/hostname and /etc/resolv.conf, as
 * Docker writes them. They live in the container's state dir and are
 * bind-mounted over the image's, so a commit never captures them. With a
 * network namespace from src/network, that module's hosts and resolv.conf
 * content is used as given (extra_hosts appended).
 */
const LOCALHOST = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

export function parseExtraHost(entry: string): { host: string; ip: string } {
  // "host:ip" or "host=ip"; the ip may itself contain colons (IPv6), so split at the first separator.
  const m = /^([^:=\s]+)[:=](.+)$/.exec(entry.trim());
  if (!m) throw new UserError(`invalid extra host "${entry}"`, 1, 'use HOST:IP, e.g. db.local:10.0.0.5');
  let ip = m[2]!;
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip === 'host-gateway') {
    throw new UserError(`extra host "${entry}": host-gateway needs a bridge network`, 1, 'give the host\'s address explicitly');
  }
  return { host: m[1]!, ip };
}

export function hostsFile(network: ContainerNetwork, extraHosts: string[] = []): string {
  let base: string;
  if (network.mode === 'netns') base = network.hosts;
  else if (network.mode === 'host') base = readHostFile('/etc/hosts') ?? LOCALHOST.join('\n');
  else base = LOCALHOST.join('\n');
  const extra = extraHosts.map(parseExtraHost).map((h) => `${h.ip}\t${h.host}`);
  const lines = [base.replace(/\n+$/, ''), ...extra];
  return lines.filter((l) => l !== '').join('\n') + '\n';
}

export function hostnameFile(hostname: string): string {
  return `${hostname}\n`;
}

/**
 * resolv.conf for `none` and `host` containers: the host's, minus loopback
 * nameservers for a container with its own network namespace (they would
 * point at the container itself), as Docker filters them.
 */
export function resolvConfFile(network: ContainerNetwork, dns: { servers?: string[]; search?: string[]; options?: string[] } = {}): string {
  if (network.mode === 'netns') return network.resolvConf.endsWith('\n') ? network.resolvConf : network.resolvConf + '\n';
  const host = readHostFile('/etc/resolv.conf') ?? '';
  if (dns.servers?.length || dns.search?.length || dns.options?.length) {
    const lines: string[] = [];
    if (dns.search?.length) lines.push(`search ${dns.search.join(' ')}`);
    for (const s of dns.servers ?? []) lines.push(`nameserver ${s}`);
    if (dns.options?.length) lines.push(`options ${dns.options.join(' ')}`);
    return lines.join('\n') + '\n';
  }
  if (network.mode === 'host') return host;
  return host
    .split('\n')
    .filter((l) => !/^\s*nameserver\s+(127\.|::1\b)/.test(l))
    .join('\n');
}

function readHostFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
