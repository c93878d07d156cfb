import { existsSync } from 'node:fs';
import { isNetnsMounted, netnsPath } from './links.js';
import { readAllNetworks, withNetworkLock } from './store.js';
import { attachContainer } from './endpoints.js';
import { readAttachment } from './attachments.js';
import { portRecordPath } from './ports/records.js';
import { publishPorts } from './ports/client.js';
import { describeRequest } from './ports/mapping.js';
import type { AttachResult } from './types.js';

/**
 * A container's network across stop and start, as Docker behaves: stopping
 * releases its published ports (another container may take them), starting
 * takes them again (a port taken meanwhile fails the start, naming its
 * holder). A container whose namespace is gone (the host rebooted, the run
 * root was wiped) is attached again from what it first asked for; the
 * runtime must then be pointed at the new namespace.
 */

/** Before a start. Returns the new attachment when the container had to be attached again. */
export async function prepareStart(containerId: string): Promise<AttachResult | undefined> {
  const spec = readAttachment(containerId);
  if (!spec) return undefined;
  if (!isNetnsMounted(netnsPath(containerId))) {
    return attachContainer(containerId, spec.containerName, spec.endpoints, spec.ports.map(describeRequest), spec.options);
  }
  if (spec.ports.length === 0 || existsSync(portRecordPath(containerId))) return undefined;
  await withNetworkLock(async () => {
    const first = readAllNetworks().map((n) => n.endpoints[containerId]).find((e) => e !== undefined);
    if (first) await publishPorts(containerId, spec.containerName, first.ipv4, spec.ports);
  });
  return undefined;
}
