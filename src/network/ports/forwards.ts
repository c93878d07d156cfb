import { existsSync, readFileSync } from 'node:fs';
import { allowLoopbackForwarding, applyPortForwards, readRules, taggedPortIds, withHostLock, type PortForward } from '../firewall.js';
import { readAllNetworks } from '../store.js';
import type { NetworkRecord } from '../types.js';

/**
 * The kernel's half of published ports: DNAT rules (firewall.ts) that send
 * a connection to a host port straight to the container, from 127.0.0.1, the
 * host's other addresses and other containers alike, so that a port keeps
 * answering while the daemon is away (killed, crashed, being started again).
 * The daemon's listening socket stays: it reserves the port (a conflict is
 * found at bind, and named), and it serves what the kernel cannot forward:
 * IPv6 (containers have IPv4 addresses only; the kernel has no NAT from one
 * family to the other), and any IPv4 connection accepted before the rules
 * were in place. Rules follow the port records: the daemon sets them when it
 * binds, drops them when it unbinds, and on every reload sets what a record
 * asks for and drops what no record owns (a daemon killed half-way).
 */

/** What forwarding needs of a port record (publisher.ts). */
function toForward(r: PortForward): PortForward {
  return { containerId: r.containerId, targetIp: r.targetIp, ports: r.ports };
}

/** The bridge behind a container's target address, once its network record says so and the link is there. */
function bridgeOf(r: PortForward, networks: readonly NetworkRecord[]): string | undefined {
  const n = networks.find((x) => x.endpoints[r.containerId]?.ipv4 === r.targetIp);
  return n && existsSync(`/sys/class/net/${n.bridge}`) ? n.bridge : undefined;
}

function loopbackForwarding(bridges: Iterable<string>): void {
  for (const b of bridges) {
    try {
      if (readFileSync(`/proc/sys/net/ipv4/conf/${b}/route_localnet`, 'utf8').trim() !== '1') allowLoopbackForwarding(b);
    } catch { /* the bridge went meanwhile */ }
  }
}

/** The container's ports forwarded by the kernel (replacing what it had). */
export async function setPortForwards(records: readonly PortForward[]): Promise<void> {
  if (records.length === 0) return;
  await withHostLock(() => applyPortForwards(records.map(toForward), []));
  const networks = readAllNetworks();
  loopbackForwarding(records.map((r) => bridgeOf(r, networks)).filter((b): b is string => b !== undefined));
}

/** No rule of these containers' ports is left in the kernel. Idempotent. */
export async function dropPortForwards(containerIds: readonly string[]): Promise<void> {
  if (containerIds.length === 0) return;
  await withHostLock(() => applyPortForwards([], containerIds));
}

/**
 * The kernel's rules made to match the records: missing ones set, those of
 * containers with no record dropped; nothing written when they match (one
 * iptables-save per call). Returns the ids (12 hex) it dropped.
 */
export async function reconcilePortForwards(records: readonly PortForward[], networks: readonly NetworkRecord[]): Promise<string[]> {
  const installed = taggedPortIds(await readRules());
  const owned = new Set(records.map((r) => r.containerId.slice(0, 12)));
  const missing = records.filter((r) => r.ports.some((p) => !p.hostIp.includes(':')) && !installed.has(r.containerId.slice(0, 12)));
  const stale = [...installed].filter((id) => !owned.has(id));
  if (missing.length || stale.length) await withHostLock(() => applyPortForwards(missing.map(toForward), stale));
  loopbackForwarding(new Set(records.map((r) => bridgeOf(r, networks)).filter((b): b is string => b !== undefined)));
  return stale;
}
