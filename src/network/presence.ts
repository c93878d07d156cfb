import { readAttachment } from './attachments.js';
import { isNetnsMounted, netnsPath } from './links.js';
import { readAllNetworks } from './store.js';

/**
 * Which containers the network holds anything of, from its records and their
 * namespace handles alone: what the batches (batch.ts) ask first, and what the
 * Engine asks before it loads them, so that stopping or removing a container
 * of network none or host never loads the rest of the network module.
 */

/** Of these containers, those on a network of ours (an attachment record, or a mounted namespace handle). */
export function onOurNetworks(containerIds: readonly string[]): string[] {
  return containerIds.filter((id) => isNetnsMounted(netnsPath(id)) || readAttachment(id) !== undefined);
}

/** Of these removed containers, those the network still has something of: a namespace handle, or an endpoint in a record. */
export function withNetworkRemnants(containerIds: readonly string[]): string[] {
  const all = readAllNetworks();
  return containerIds.filter((id) => isNetnsMounted(netnsPath(id)) || all.some((n) => n.endpoints[id]));
}
