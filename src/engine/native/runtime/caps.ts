import { readFileSync } from 'node:fs';
import { UserError } from '../../../util/errors.js';

/** Linux capability numbers (linux/capability.h). */
export const CAPABILITIES: readonly string[] = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
];

/** Docker's default set (moby daemon/pkg/oci/caps/defaults.go): CapEff 00000000a80425fb. */
export const DOCKER_DEFAULT_CAPS: readonly string[] = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP',
  'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
];

function normalize(name: string, what: string): string {
  const n = name.trim().toUpperCase().replace(/^CAP_/, '');
  if (n !== 'ALL' && !CAPABILITIES.includes(n)) {
    throw new UserError(`unknown capability "${name}" in ${what}`, 1, `use a name such as NET_ADMIN or SYS_TIME (see capabilities(7)), or ALL`);
  }
  return n;
}

export function capMask(names: Iterable<string>): bigint {
  let mask = 0n;
  for (const n of names) mask |= 1n << BigInt(CAPABILITIES.indexOf(n));
  return mask;
}

/** The capabilities this process may hand out: a container can get no more than its engine holds. */
let hostBounding: bigint | undefined;
export function hostCapabilities(): bigint {
  if (hostBounding === undefined) {
    const m = /^CapBnd:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    hostBounding = m ? BigInt('0x' + m[1]) : capMask(CAPABILITIES);
  }
  return hostBounding;
}

/**
 * Docker's rules: start from the default set (or all of them when
 * privileged), add cap_add (ALL adds every one), then remove cap_drop (ALL
 * drops every one not explicitly added).
 */
export function resolveCapabilities(opts: { capAdd?: string[]; capDrop?: string[]; privileged?: boolean }): bigint {
  const all = capMask(CAPABILITIES);
  if (opts.privileged) return all & hostCapabilities();
  const add = (opts.capAdd ?? []).map((c) => normalize(c, 'cap_add'));
  const drop = (opts.capDrop ?? []).map((c) => normalize(c, 'cap_drop'));
  let set = capMask(DOCKER_DEFAULT_CAPS);
  if (add.includes('ALL')) set = all;
  else set |= capMask(add);
  if (drop.includes('ALL')) set = capMask(add.filter((c) => c !== 'ALL'));
  else set &= ~capMask(drop);
  return set & hostCapabilities();
}

export function capHex(mask: bigint): string {
  return mask.toString(16).padStart(16, '0');
}

export function capNames(mask: bigint): string[] {
  return CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}
