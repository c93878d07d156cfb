import { AddressBitmap } from './ipam.js';
import { parseCidr, parseIpv4 } from './ipv4.js';
import { vethName } from './names.js';
import { deleteLinks } from './links.js';
import { readAllNetworks, writeNetwork } from './store.js';
import { retargetPorts } from './ports/client.js';
import type { NetworkRecord } from './types.js';

/**
 * Endpoints given back: an address to its network's pool, and for `network
 * rm` the veths of the containers still on it. Below both the attaching
 * (endpoints.ts) and the removal of networks (networks.ts), which use it.
 */

/** Drops an endpoint from a record in memory (address back to the pool); false when there was none. */
export function releaseEndpoint(n: NetworkRecord, containerId: string): boolean {
  const ep = n.endpoints[containerId];
  if (!ep) return false;
  const bitmap = AddressBitmap.load(parseCidr(n.subnet)!, n.ipam);
  bitmap.release(parseIpv4(ep.ipv4)!);
  n.ipam = bitmap.toState();
  delete n.endpoints[containerId];
  return true;
}

/** For `network rm`: the given containers' endpoints on `n` go (their eth in the container goes with the veth). */
export async function dropEndpointsLocked(n: NetworkRecord, containerIds: readonly string[]): Promise<void> {
  await deleteLinks(containerIds.map((cid) => n.endpoints[cid]?.veth ?? vethName(cid, n.id)));
  const others = readAllNetworks().filter((o) => o.id !== n.id);
  for (const cid of containerIds) {
    const gone = n.endpoints[cid];
    releaseEndpoint(n, cid);
    const next = others.map((o) => o.endpoints[cid]).find((e) => e !== undefined);
    if (gone && next) await retargetPorts(cid, next.ipv4);
  }
  writeNetwork(n);
}


