import { readAllNetworks } from './store.js';
import { detachContainer } from './endpoints.js';
import { prepareStart, releaseOnStop } from './lifecycle.js';
import { isMounted, netnsPath } from './links.js';

/**
 * Where a native container's life meets its network, for the Engine: before
 * a start (ports and a namespace made again), after a stop (ports released),
 * after a remove (detach). The attach after create and the names going live
 * after a start are batched (batch.ts). Written against the little of the
 * runtime it needs, so this module does not depend on the runtime's class.
 */

export interface RuntimeForNetwork {
  setNetwork(ref: string, network: { mode: 'netns'; path: string; hosts: string; resolvConf: string }): Promise<void>;
  inspect(ref: string): Promise<{ Id: string; Name: string; State: { Pid: number; Running: boolean }; Config: { Hostname: string } }>;
}

/** Before a start: a container whose namespace is gone is attached again (and the runtime pointed at it); released ports are taken again. */
export async function containerStarting(rt: RuntimeForNetwork, id: string): Promise<void> {
  const again = await prepareStart(id);
  if (again) await rt.setNetwork(id, { mode: 'netns', path: again.netnsPath, hosts: again.hosts, resolvConf: again.resolvConf });
}

/** After a stop: names stop resolving, published ports are released. */
export async function containerStopped(id: string): Promise<void> {
  await releaseOnStop(id);
}

/** After a remove: veths, namespace, addresses, names and published ports go. Cheap when the container had no network of ours. */
export async function containerRemoved(id: string): Promise<void> {
  const attached = isMounted(netnsPath(id)) || readAllNetworks().some((n) => n.endpoints[id]);
  if (attached) await detachContainer(id);
}
