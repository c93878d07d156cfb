import { existsSync } from 'node:fs';
import { callDaemon } from '../daemon/client.js';
import type { ActualPort } from '../types.js';
import { readJsonIfExists, writeJsonAtomic } from '../../util/atomic.js';
import { deletePortRecord, portRecordPath, type PortRecord } from './records.js';
import type { PortRequest } from './mapping.js';
import { dropPortForwards, setPortForwards } from './forwards.js';

export { publishedPorts } from './records.js';

/** The CLI side of published ports: the daemon holds the sockets, so binding (and its conflict check) happens there. */

export async function publishPorts(containerId: string, containerName: string, targetIp: string, requests: readonly PortRequest[]): Promise<ActualPort[]> {
  if (requests.length === 0) return [];
  return (await callDaemon<ActualPort[]>({ op: 'publish', containerId, containerName, targetIp, requests }))!;
}

/** Idempotent; without a daemon there is no socket to close, only the record to forget and the kernel's forwards to drop. */
export async function unpublishPorts(containerId: string): Promise<void> {
  // No record, nothing bound (a daemon's reload closes whatever has no record): no round trip.
  if (!existsSync(portRecordPath(containerId))) return;
  const r = await callDaemon({ op: 'unpublish', containerId }, { start: false });
  if (r !== undefined) return;
  deletePortRecord(containerId);
  await dropPortForwards([containerId]);
}

export async function retargetPorts(containerId: string, targetIp: string): Promise<void> {
  const r = await callDaemon({ op: 'retarget', containerId, targetIp }, { start: false });
  if (r !== undefined) return;
  const record = readJsonIfExists<PortRecord>(portRecordPath(containerId));
  if (!record) return;
  writeJsonAtomic(portRecordPath(containerId), { ...record, targetIp });
  await setPortForwards([{ ...record, targetIp }]);
}
