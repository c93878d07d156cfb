import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPath, statePath } from '../../../util/paths.js';
import { processStartTime } from '../../../util/lock.js';
import { readPrivateFile } from '../../../util/private-files.js';
import { scanContainers, type ContainerScan } from '../runtime/store.js';
import type { EngineDeps } from './deps.js';
import { removeFiles } from './files.js';
import { engineDir, engineIds, hasEngineRecord, readEngineRecord, removeEngineDir } from './records.js';

/**
 * What a process killed in the middle of a create or a removal leaves, found
 * and finished on the next listing (every `up`, `down` and `ps` lists):
 *
 * - a container whose runtime record is gone but whose network endpoints,
 *   namespace handle or Engine records are still there (killed between the
 *   runtime's removal and its hooks): they are taken away;
 * - a container whose create never finished (killed before the Engine
 *   recorded it, its network perhaps half wired: a marker by name says a
 *   create began): it is removed, as Docker's create is all or nothing.
 */

function pendingDir(): string {
  return join(engineDir(), 'pending');
}

let madePending: string | undefined;

/** Marks the start of a create by the container's name (it has no id yet); returns the marker's remover. */
export function markCreate(name: string): () => void {
  // A name the runtime will refuse makes nothing to mark (and must not become a path).
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) return () => undefined;
  if (madePending !== pendingDir()) {
    mkdirSync(pendingDir(), { recursive: true, mode: 0o700 });
    madePending = pendingDir();
  }
  const path = join(pendingDir(), name);
  writeFileSync(path, `${process.pid} ${processStartTime(process.pid)}`, { mode: 0o600 });
  return () => rmSync(path, { force: true });
}

/** Creates whose process died: the containers they made without an Engine record (or with an unfinished one) go. */
export async function sweepDeadCreates(deps: EngineDeps): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(pendingDir());
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(pendingDir(), name);
    let owner: string[];
    try {
      owner = readPrivateFile(path, 4096).split(' ');
    } catch {
      continue;
    }
    if (processStartTime(Number(owner[0])) === owner[1]) continue; // still creating
    const rt = await deps.runtime();
    try {
      const id = rt.resolve(name);
      if (!hasEngineRecord(id)) await rt.remove(id, { force: true, volumes: true });
    } catch { /* no such container: nothing was made */ }
    rmSync(path, { force: true });
  }
}

function ids(dir: string, suffix = ''): string[] {
  try {
    return readdirSync(dir).filter((n) => n.endsWith(suffix)).map((n) => n.slice(0, n.length - suffix.length)).filter((n) => /^[0-9a-f]{64}$/.test(n));
  } catch {
    return [];
  }
}

/**
 * Takes away what removed containers left; returns the scan of the containers' dir it judged by, for the
 * listing that follows. The scan is taken after the remnants are read: a container created meanwhile is
 * in it, so its fresh records are never taken for a removed one's.
 */
export async function sweepRemovedRemnants(deps: EngineDeps): Promise<ContainerScan> {
  const netns = ids(runPath('netns'));
  const attached = ids(statePath('networks', 'attachments'), '.json');
  const candidates = new Set([...engineIds(), ...netns, ...attached]);
  const scan = scanContainers();
  const present = new Set(scan.ids);
  const gone = [...candidates].filter((id) => !present.has(id));
  if (gone.length === 0) return scan;
  const net = await deps.network();
  const wired = gone.filter((id) => netns.includes(id) || attached.includes(id));
  if (wired.length) await deps.netOp(() => net.detachContainers(wired));
  for (const id of gone) {
    removeFiles(readEngineRecord(id).filesToken);
    removeEngineDir(id);
  }
  return scan;
}
