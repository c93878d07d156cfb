import { parseCidr } from './ipv4.js';
import { deleteLinks, ensureBridge, linkExists, type Bridge } from './links.js';
import { applyFirewall, withHostLock, type FirewallNetwork } from './firewall.js';
import type { NetworkRecord } from './types.js';

/**
 * A network record made real in the kernel (bridge with its gateway address,
 * firewall rules), and taken back out. Both are idempotent: they repair
 * whatever a crash or a reboot left, which is how `up` after a reboot finds
 * its networks working again.
 */

export function firewallView(n: NetworkRecord): FirewallNetwork {
  return {
    id: n.id,
    bridge: n.bridge,
    subnet: n.subnet,
    gateway: n.gateway,
    internal: n.internal,
    masquerade: !n.internal && n.options['com.docker.network.bridge.enable_ip_masquerade'] !== 'false',
  };
}

export function mtuOf(n: NetworkRecord): number | undefined {
  const v = n.options['com.docker.network.driver.mtu'];
  return v ? Number(v) : undefined;
}

export function bridgeOf(n: NetworkRecord): Bridge {
  const mtu = mtuOf(n);
  return { name: n.bridge, networkId: n.id, gateway: n.gateway, prefix: parseCidr(n.subnet)!.prefix, ...(mtu ? { mtu } : {}) };
}

export async function realizeNetworks(records: readonly NetworkRecord[]): Promise<void> {
  if (records.length === 0) return;
  await withHostLock(async () => {
    for (const n of records) {
      await ensureBridge(bridgeOf(n));
    }
    await applyFirewall(records.map(firewallView), []);
  });
}

/** Bridges whose record is here but whose link is gone (after a reboot, or a crash half-way through create). */
export function missingBridges(records: readonly NetworkRecord[]): NetworkRecord[] {
  return records.filter((n) => !linkExists(n.bridge));
}

/** Removes the bridges (their veths first) and every rule of these networks. */
export async function unrealizeNetworks(networks: readonly { id: string; bridge: string }[], extraLinks: readonly string[] = []): Promise<void> {
  await withHostLock(async () => {
    await deleteLinks([...extraLinks, ...networks.map((n) => n.bridge)]);
    await applyFirewall([], networks.map((n) => n.id));
  });
}
