import { createHash, randomBytes } from 'node:crypto';
import { UserError } from '../util/errors.js';
import { stateRoot, runRoot } from '../util/paths.js';

/**
 * Names of what the network module puts in the kernel (see docs/internals.md,
 * "Names of kernel objects"). Every name is derived, never stored alone: a
 * veth's name follows from (container, network), so teardown after a crash can
 * find it even when the record that named it was never written.
 */

export const BRIDGE_PREFIX = 'tsc-br-';
export const VETH_PREFIX = 'tsc-v';

export function newId(): string {
  return randomBytes(32).toString('hex');
}

export function bridgeName(networkId: string): string {
  return BRIDGE_PREFIX + networkId.slice(0, 8);
}

export function vethName(containerId: string, networkId: string): string {
  return VETH_PREFIX + createHash('sha256').update(`${containerId}/${networkId}`).digest('hex').slice(0, 10);
}

/** Docker's MAC scheme, 02:42 + the IPv4 address: a reused address keeps its MAC, so neighbours' ARP caches stay right. */
export function macForIpv4(ip: number): string {
  const bytes = [0x02, 0x42, ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/**
 * A short tag for this pair of state/run roots, carried by every kernel object
 * we make (link alias, rule comment). Two tscompose installations (or two
 * tests) on one host then never mistake each other's objects for their own.
 */
export function rootTag(): string {
  return createHash('sha256').update(`${stateRoot()}\0${runRoot()}`).digest('hex').slice(0, 8);
}

/** Docker's rule for network names. */
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export const RESERVED_NETWORK_NAMES = new Set(['host', 'none']);
export const DEFAULT_NETWORK_NAME = 'bridge';

export function validateNetworkName(name: string): void {
  if (!NETWORK_NAME.test(name) || name.length > 128) {
    throw new UserError(
      `invalid network name "${name}"`,
      1,
      'a network name starts with a letter or digit and holds only letters, digits, "_", "." and "-" (at most 128 characters)',
    );
  }
  if (RESERVED_NETWORK_NAMES.has(name)) {
    throw new UserError(`network name "${name}" is reserved (it is a network mode, not a network)`, 1, 'pick another name');
  }
}

/** DNS labels we accept as names and aliases: what a resolver can ask for. */
const DNS_NAME = /^[a-zA-Z0-9_]([a-zA-Z0-9_.-]{0,251}[a-zA-Z0-9_])?$/;

export function validateAlias(alias: string, container: string): void {
  if (!DNS_NAME.test(alias) || alias.split('.').some((l) => l.length === 0 || l.length > 63)) {
    throw new UserError(
      `invalid network alias "${alias}" for container ${container}`,
      1,
      'an alias is a DNS name: letters, digits, "_", "-" and dots between labels of 1-63 characters',
    );
  }
}
