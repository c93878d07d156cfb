import { prepareStart } from './lifecycle.js';

/**
 * Where a native container's start meets its network, for the Engine:
 * before a start, ports and a namespace made again. The attach after create,
 * the names going live after a start, the release after a stop and the
 * detach after a remove take many containers at once (batch.ts), gathered
 * by the Engine (net-batch.ts). Written against the little of the runtime it
 * needs, so this module does not depend on the runtime's class.
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
