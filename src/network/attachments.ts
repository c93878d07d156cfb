import { mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonIfExists, writeFilesAtomic, writeJsonAtomic } from '../util/atomic.js';
import { networksDir } from './store.js';
import type { PortRequest } from './ports/mapping.js';
import type { AttachOptions, EndpointRequest } from './types.js';

/**
 * What a container asked for when it was attached, kept in the state root
 * (`networks/attachments/<container id>.json`) for as long as it is
 * attached: enough to attach it again after a reboot wiped its namespace,
 * and to publish its ports again when it starts after a stop (ports are
 * released on stop, as Docker does).
 */
export interface Attachment {
  containerId: string;
  containerName: string;
  endpoints: EndpointRequest[];
  ports: PortRequest[];
  options: AttachOptions;
}

function attachmentPath(containerId: string): string {
  return join(networksDir(), 'attachments', `${containerId}.json`);
}

export function readAttachment(containerId: string): Attachment | undefined {
  return readJsonIfExists<Attachment>(attachmentPath(containerId));
}

export function writeAttachment(spec: Attachment): void {
  mkdirSync(join(networksDir(), 'attachments'), { recursive: true, mode: 0o700 });
  writeJsonAtomic(attachmentPath(spec.containerId), spec);
}

/** writeAttachment of many containers: their files made durable together (an `up` of 30 synced 60 times in a row). */
export async function writeAttachments(specs: readonly Attachment[]): Promise<void> {
  if (specs.length === 0) return;
  mkdirSync(join(networksDir(), 'attachments'), { recursive: true, mode: 0o700 });
  await writeFilesAtomic(specs.map((spec) => ({ path: attachmentPath(spec.containerId), data: JSON.stringify(spec, null, 2) + '\n' })));
}

export function deleteAttachment(containerId: string): void {
  try {
    unlinkSync(attachmentPath(containerId));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
