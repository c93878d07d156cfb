import { readFileSync } from 'node:fs';
import { LOCALHOST_LINES, parseExtraHost } from '../../../util/etc-hosts.js';
import type { ContainerNetwork } from './types.js';

/**
 * The per-container /etc/hosts, /etc/hostname and /etc/resolv.conf, as
 * Docker writes them. They live in the container's state dir and are
 * bind-mounted over the image's, so a commit never captures them. With a
 * network namespace from src/network, that module's hosts and resolv.conf
 * content is used as given (extra_hosts appended).
 */
export function hostsFile(network: ContainerNetwork, extraHosts: string[] = []): string {
  let base: string;
  if (network.mode === 'netns') base = network.hosts;
  else if (network.mode === 'host') base = readHostFile('/etc/hosts') ?? LOCALHOST_LINES.join('\n');
  else base = LOCALHOST_LINES.join('\n');
  const extra = extraHosts.map((h) => parseExtraHost(h)).map((h) => `${h.ip}\t${h.name}`);
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
