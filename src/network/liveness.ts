import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { netnsPath } from './links.js';

/**
 * Whether a container is alive, judged by the kernel rather than by records:
 * a process still lives in its network namespace. This is what `network rm`
 * refuses on, and what lets cleanup after a crash tell a dead container's
 * leftovers from a running container's endpoints.
 */

/** Namespace inodes that some process lives in (one scan of /proc for any number of questions). */
export function inhabitedNetns(): Set<number> {
  const inodes = new Set<number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/net`));
      if (m) inodes.add(Number(m[1]));
    } catch { /* gone, or a kernel thread */ }
  }
  return inodes;
}

export function netnsInode(containerId: string): number | undefined {
  try {
    const st = statSync(netnsPath(containerId));
    // A bare file (handle never mounted, or unmounted) is on the run root's filesystem, not nsfs.
    return st.size === 0 && st.dev !== statSync(netnsPath('')).dev ? st.ino : undefined;
  } catch {
    return undefined;
  }
}

/** Container ids (of those given) with at least one live process in their namespace. */
export function activeContainers(containerIds: Iterable<string>): Set<string> {
  const inhabited = inhabitedNetns();
  const out = new Set<string>();
  for (const cid of containerIds) {
    const ino = netnsInode(cid);
    if (ino !== undefined && inhabited.has(ino)) out.add(cid);
  }
  return out;
}

/** This boot's id: liveness recorded in an earlier boot means nothing now. */
export function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}
