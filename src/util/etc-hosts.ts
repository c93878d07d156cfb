import { UserError } from './errors.js';

/**
 * What every container's /etc/hosts starts with, as Docker writes it, and the
 * parsing of Compose's `extra_hosts` / `--add-host` entries. Shared by the
 * runtime (containers without a bridge network) and the network module
 * (containers on our networks).
 */
export const LOCALHOST_LINES: readonly string[] = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

export interface ExtraHost {
  name: string;
  ip: string;
}

/**
 * Parses "name:ip" or "name=ip" (the ip may be IPv6, so split at the first
 * separator; brackets are dropped). "host-gateway" means the host as the
 * container sees it: the caller passes that address, where there is one.
 */
export function parseExtraHost(entry: string, hostGateway?: string): ExtraHost {
  const m = /^([^:=\s]+)[:=](.+)$/.exec(entry.trim());
  if (!m) throw new UserError(`invalid extra host "${entry}"`, 1, 'write it as NAME:IP (or NAME=IP), e.g. "db.local:10.0.0.5"');
  const ip = m[2]!.replace(/^\[(.*)\]$/, '$1');
  if (ip !== 'host-gateway') return { name: m[1]!, ip };
  if (hostGateway === undefined) {
    throw new UserError(`extra host "${entry}": host-gateway needs a bridge network`, 1, "give the host's address explicitly");
  }
  return { name: m[1]!, ip: hostGateway };
}
