import { ConflictError, NotFoundError, UserError } from '../util/errors.js';
import { NotConnectedError } from '../engine/types.js';
import { DEFAULT_NETWORK_NAME } from './names.js';
import { addEndpoints, deleteLinks, isNetnsMounted, netnsPath } from './links.js';
import { findNetwork, getNetwork, readAllNetworks, withNetworkLock, writeNetwork } from './store.js';
import { addressOf, planEndpoint, vethOf } from './endpoints.js';
import { releaseEndpoint } from './release.js';
import { ensureDefaultNetworkLocked, reloadDaemon } from './networks.js';
import { missingBridges, realizeNetworks } from './realize.js';
import { readPortRecords } from './ports/records.js';
import { retargetPorts } from './ports/client.js';
import type { AttachedAddress, EndpointRecord } from './types.js';

/**
 * Connecting a container that already has its namespace to one more network
 * (a new ethN inside it), and disconnecting it from one.
 */

/** A container we know from its endpoints, by id, name or unambiguous id prefix. */
export function findAttachedContainer(ref: string): { containerId: string; containerName: string } | undefined {
  const eps = new Map<string, EndpointRecord>();
  for (const n of readAllNetworks()) for (const e of Object.values(n.endpoints)) eps.set(e.containerId, e);
  const pick = (e: EndpointRecord | undefined) => (e ? { containerId: e.containerId, containerName: e.containerName } : undefined);
  const exact = eps.get(ref) ?? [...eps.values()].find((e) => e.containerName === ref);
  if (exact) return pick(exact);
  if (!/^[0-9a-f]+$/.test(ref)) return undefined;
  const byPrefix = [...eps.values()].filter((e) => e.containerId.startsWith(ref));
  if (byPrefix.length > 1) throw new UserError(`container id prefix "${ref}" is ambiguous`, 1, 'give more characters of the id, or the name');
  return pick(byPrefix[0]);
}

export interface ConnectOptions {
  aliases?: string[];
  ipv4Address?: string;
  /** Needed when the container is on no network yet; otherwise taken from its other endpoints. */
  containerName?: string;
}

export async function connectContainer(containerId: string, network: string, opts: ConnectOptions = {}): Promise<AttachedAddress> {
  const result = await withNetworkLock(async () => {
    const n = findNetwork(network) ?? (network === DEFAULT_NETWORK_NAME ? await ensureDefaultNetworkLocked() : undefined);
    if (!n) throw new NotFoundError('network', network);
    const mine = readAllNetworks().filter((o) => o.endpoints[containerId] && o.id !== n.id);
    const name = opts.containerName ?? mine[0]?.endpoints[containerId]!.containerName ?? containerId.slice(0, 12);
    if (n.endpoints[containerId]) {
      throw new ConflictError(`container ${name} is already connected to network ${n.name}`, `disconnect it first (tscompose network disconnect ${n.name} ${name})`);
    }
    if (!isNetnsMounted(netnsPath(containerId))) {
      throw new UserError(`container ${name} has no network namespace to connect`, 1, 'create or start the container first');
    }
    const used = new Set(mine.map((o) => o.endpoints[containerId]!.ifname));
    let i = 0;
    while (used.has(`eth${i}`)) i++;
    const ep = planEndpoint(n, containerId, name, { network, ...(opts.aliases ? { aliases: opts.aliases } : {}), ...(opts.ipv4Address ? { ipv4Address: opts.ipv4Address } : {}) }, `eth${i}`);
    // A running container's new name is live at once, like its others.
    const sibling = mine[0]?.endpoints[containerId];
    if (sibling) {
      for (const k of ['running', 'pid', 'pidStart', 'bootId', 'dnsServers'] as const) if (sibling[k] !== undefined) Object.assign(ep, { [k]: sibling[k] });
    }
    // The container keeps its default route; it gets one here only if it had no way out before.
    const hasRoute = mine.some((o) => !o.internal);
    writeNetwork(n);
    try {
      if (missingBridges([n]).length) await realizeNetworks([n]);
      await addEndpoints(containerId, [vethOf(n, ep, !hasRoute && !n.internal)]);
    } catch (err) {
      await deleteLinks([ep.veth]).catch(() => undefined);
      const fresh = getNetwork(n.id);
      if (releaseEndpoint(fresh, containerId)) writeNetwork(fresh);
      throw err;
    }
    return addressOf(n, ep);
  });
  await reloadDaemon();
  return result;
}

export async function disconnectContainer(containerId: string, network: string): Promise<void> {
  await withNetworkLock(async () => {
    const n = getNetwork(network);
    const ep = n.endpoints[containerId];
    if (!ep) throw new NotConnectedError(containerId.slice(0, 12), n.name, `see who is: tscompose network inspect ${n.name}`);
    await deleteLinks([ep.veth]);
    releaseEndpoint(n, containerId);
    writeNetwork(n);
    // Published ports that went to this address now go to one of the container's other addresses.
    const record = readPortRecords().find((r) => r.containerId === containerId);
    if (record?.targetIp === ep.ipv4) {
      const next = readAllNetworks().map((o) => o.endpoints[containerId]).find((e) => e !== undefined);
      if (next) await retargetPorts(containerId, next.ipv4);
    }
  });
  await reloadDaemon();
}
