import { readFileSync } from 'node:fs';
import { LOCALHOST_LINES, type ExtraHost } from '../util/etc-hosts.js';

/**
 * /etc/resolv.conf and /etc/hosts for containers, and the host's own
 * resolv.conf (where the DNS server forwards names it does not know).
 */

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
}

export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.search = rest;
    else if (key === 'options') out.options.push(...rest);
  }
  return out;
}

export function hostResolvConf(path = '/etc/resolv.conf'): ResolvConf {
  try {
    return parseResolvConf(readFileSync(path, 'utf8'));
  } catch {
    return { nameservers: [], search: [], options: [] };
  }
}

/**
 * The container's resolver: our DNS server on the gateway of its first
 * network, the host's search domains, and ndots:0 (as Docker), so a bare
 * service name is asked as it is, before any search domain.
 */
export function containerResolvConf(nameserver: string, search: readonly string[], options: readonly string[] = []): string {
  const opts = ['ndots:0', ...options.filter((o) => !o.startsWith('ndots:'))];
  const lines = [`nameserver ${nameserver}`];
  if (search.length) lines.push(`search ${search.join(' ')}`);
  lines.push(`options ${opts.join(' ')}`);
  return lines.join('\n') + '\n';
}

export function containerHosts(own: { ip: string; names: string[] } | undefined, extra: readonly ExtraHost[]): string {
  const lines = [...LOCALHOST_LINES, ...extra.map((e) => `${e.ip}\t${e.name}`)];
  if (own) lines.push(`${own.ip}\t${own.names.join(' ')}`);
  return lines.join('\n') + '\n';
}
