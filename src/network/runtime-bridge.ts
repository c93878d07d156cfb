import { readAllNetworks } from './store.js';
import { attachContainer, detachContainer } from './endpoints.js';
import { setContainerRunning } from './batch.js';
import { prepareStart, releaseOnStop } from './lifecycle.js';
import { DEFAULT_NETWORK_NAME } from './names.js';
import { isBridgeNetwork, type ContainerNetworkFlags } from './container-flags.js';
import { isMounted, netnsPath } from './links.js';
import type { AttachResult } from './types.js';

/**
 * Where a container's life meets its network: after create (attach, then
 * point the runtime at the namespace), after start (names go live, with the
 * init's pid), after remove (detach). Written against the little of the
 * runtime it needs, so this module does not depend on the runtime's class.
 */

export { isBridgeNetwork, checkNetworkFlags, type ContainerNetworkFlags } from './container-flags.js';

export interface RuntimeForNetwork {
  setNetwork(ref: string, network: { mode: 'netns'; path: string; hosts: string; resolvConf: string }): Promise<void>;
  inspect(ref: string): Promise<{ Id: string; Name: string; State: { Pid: number; Running: boolean }; Config: { Hostname: string } }>;
}

/** Attaches a created container to its network and points the runtime at the namespace. The caller removes the container if this throws. */
export async function wireContainerNetwork(rt: RuntimeForNetwork, id: string, f: ContainerNetworkFlags): Promise<AttachResult | undefined> {
  if (!isBridgeNetwork(f.network)) return undefined;
  const c = await rt.inspect(id);
  const attach = await attachContainer(
    id,
    c.Name.replace(/^\//, ''),
    [{ network: f.network ?? DEFAULT_NETWORK_NAME, ...(f.networkAlias ? { aliases: f.networkAlias } : {}), ...(f.ip ? { ipv4Address: f.ip } : {}) }],
    f.publish ?? [],
    { hostname: c.Config.Hostname, ...(f.addHost ? { extraHosts: f.addHost } : {}), ...(f.dns?.length ? { dnsServers: f.dns } : {}) },
  );
  try {
    await rt.setNetwork(id, { mode: 'netns', path: attach.netnsPath, hosts: attach.hosts, resolvConf: attach.resolvConf });
  } catch (err) {
    await detachContainer(id).catch(() => undefined);
    throw err;
  }
  return attach;
}

/** After a start: the container's names answer, for as long as its init lives. */
export async function containerStarted(rt: RuntimeForNetwork, id: string): Promise<void> {
  if (!isMounted(netnsPath(id))) return;
  const c = await rt.inspect(id);
  if (c.State.Running) await setContainerRunning(id, true, { pid: c.State.Pid });
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
