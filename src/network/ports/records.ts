import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, runPath } from '../../util/paths.js';
import { readJsonIfExists } from '../../util/atomic.js';
import type { ActualPort } from '../types.js';

/**
 * The daemon's table of published ports. Each container's ports are one
 * record, `<run root>/ports/<container id>.json`, written by the daemon once
 * its sockets are bound: a restarted daemon binds them again from there, and
 * teardown without a daemon deletes the file and the kernel's rules. The run
 * root is the right home: a reboot ends every container, and with them every
 * forward. Each record's IPv4 ports are also forwarded by the kernel
 * (forwards.ts), which keeps them answering while no daemon runs.
 */

export interface PortRecord {
  containerId: string;
  containerName: string;
  targetIp: string;
  ports: ActualPort[];
}

export function portsDir(): string {
  return ensurePrivateDir(runPath('ports'));
}

export function portRecordPath(containerId: string): string {
  return join(runPath('ports'), `${containerId}.json`);
}

export function readPortRecords(): PortRecord[] {
  let files: string[];
  try {
    files = readdirSync(runPath('ports'));
  } catch {
    return [];
  }
  return files
    .filter((f) => /^[0-9a-f]{64}\.json$/.test(f))
    .map((f) => readJsonIfExists<PortRecord>(join(runPath('ports'), f)))
    .filter((r): r is PortRecord => r !== undefined);
}

export function deletePortRecord(containerId: string): void {
  try {
    unlinkSync(portRecordPath(containerId));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** The ports a container has published, as bound (for `ps` and `inspect`); [] when none. */
export function publishedPorts(containerId: string): ActualPort[] {
  return readJsonIfExists<PortRecord>(portRecordPath(containerId))?.ports ?? [];
}
