import { readAllNetworks, withNetworkLock, writeNetwork } from './store.js';
import { readAttachment, writeAttachment } from './attachments.js';
import { reloadDaemon } from './networks.js';

/**
 * A container's new name on its networks (docker rename): its name record
 * answers to the new name only, an alias that was its old name becomes the
 * new one, and what it asked for at attach time (used to attach it again
 * after a reboot) carries the new name too. Cheap when it is on no network.
 */
export async function renameContainer(containerId: string, oldName: string, newName: string): Promise<void> {
  const swap = (aliases: readonly string[] | undefined) =>
    aliases && [...new Set(aliases.map((a) => (a === oldName ? newName : a)))];
  const changed = await withNetworkLock(() => {
    let any = false;
    for (const n of readAllNetworks()) {
      const ep = n.endpoints[containerId];
      if (!ep) continue;
      ep.containerName = newName;
      ep.aliases = swap(ep.aliases)!;
      writeNetwork(n);
      any = true;
    }
    const attached = readAttachment(containerId);
    if (attached) {
      writeAttachment({
        ...attached,
        containerName: newName,
        endpoints: attached.endpoints.map((e) => ({ ...e, ...(e.aliases ? { aliases: swap(e.aliases)! } : {}) })),
      });
    }
    return any;
  });
  if (changed) await reloadDaemon();
}
