import { createReadStream, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import type * as TarStream from 'tar-stream';
import type { Engine } from '../engine/types.js';
import { execCapturing } from '../planner/hooks.js';

/** A changed host path and where it goes in the container. */
export interface SyncChange {
  host: string;
  container: string;
}

export interface SyncResult {
  /** Container paths written (files, directories and links, those under a synced directory included). */
  copied: string[];
  /** Container paths removed because they are gone on the host. */
  removed: string[];
}

/**
 * Compose's `sync`: what exists on the host goes into the container in one
 * tar extracted at `/` (the Engine's copy-into-container, as `cp` uses it),
 * each entry named by its full container path, so one round trip carries a
 * whole burst of edits; what is gone on the host is removed in the container
 * with one `rm -rf`. A synced directory brings what is below it, less what
 * `skip` leaves out (the rule's ignore patterns).
 */
export async function syncToContainer(engine: Engine, id: string, changes: SyncChange[], skip: (host: string) => boolean): Promise<SyncResult> {
  const present: Array<SyncChange & { dir: boolean }> = [];
  const removed: string[] = [];
  for (const c of changes) {
    const st = lstatSync(c.host, { throwIfNoEntry: false });
    if (!st) removed.push(c.container);
    else present.push({ ...c, dir: st.isDirectory() });
  }
  const copied: string[] = [];
  if (present.length) {
    const entries = present.flatMap((c) => (c.dir ? walk(c.host, c.container, skip) : [c]));
    // Paths named twice in one burst (a directory and a file below it) go in once.
    const unique = [...new Map(entries.map((e) => [e.container, e])).values()];
    await engine.containers.putArchive(id, '/', packChanges(unique));
    copied.push(...unique.map((e) => e.container));
  }
  if (removed.length) {
    const rm = await execCapturing(engine, id, { cmd: ['rm', '-rf', '--', ...removed] });
    if (rm.exitCode !== 0) throw new Error(`removing ${removed.join(', ')} in the container failed (${rm.exitCode}): ${rm.output}`);
  }
  return { copied, removed };
}

/** The files (and links) below a host directory, with their container paths and times, without what `skip` leaves out. */
export function listFiles(host: string, container: string, skip: (host: string) => boolean): Array<SyncChange & { mtimeMs: number }> {
  const st = lstatSync(host, { throwIfNoEntry: false });
  if (!st) return [];
  if (!st.isDirectory()) return [{ host, container, mtimeMs: st.mtimeMs }];
  return walk(host, container, skip).flatMap((c) => {
    const s = lstatSync(c.host, { throwIfNoEntry: false });
    return s && !s.isDirectory() ? [{ ...c, mtimeMs: s.mtimeMs }] : [];
  });
}

/** A directory and what is below it, parents before children, without what `skip` leaves out. */
function walk(host: string, container: string, skip: (host: string) => boolean): SyncChange[] {
  const out: SyncChange[] = [{ host, container }];
  let names: string[];
  try {
    names = readdirSync(host).sort();
  } catch {
    return out;
  }
  for (const name of names) {
    const h = join(host, name);
    if (skip(h)) continue;
    const st = lstatSync(h, { throwIfNoEntry: false });
    if (!st) continue;
    const c = posix.join(container, name);
    if (st.isDirectory()) out.push(...walk(h, c, skip));
    else out.push({ host: h, container: c });
  }
  return out;
}

/**
 * tar-stream's pack, loaded at the first sync: `up` brings this module with it, and loading
 * tar-stream costs a command that never syncs ~55 M instructions (13 % of a no-op `up`).
 */
function pack(): TarStream.Pack {
  return (createRequire(import.meta.url)('tar-stream') as typeof TarStream).pack();
}

/** The tar of the changes, entries named by container path (relative to `/`), owned by root as Compose copies them. */
function packChanges(entries: SyncChange[]): Readable {
  const p = pack();
  const write = async (): Promise<void> => {
    for (const e of entries) {
      const st = lstatSync(e.host, { throwIfNoEntry: false });
      if (!st) continue; // removed since: the next burst removes it in the container
      const base = { name: e.container.replace(/^\/+/, ''), mode: st.mode & 0o7777, mtime: st.mtime, uid: 0, gid: 0 };
      if (st.isDirectory()) p.entry({ ...base, type: 'directory' });
      else if (st.isSymbolicLink()) p.entry({ ...base, type: 'symlink', linkname: readlinkSync(e.host) });
      else if (st.isFile()) {
        await new Promise<void>((res, rej) => {
          const done = (err?: Error | null) => (err ? rej(err) : res());
          if (st.size === 0) {
            p.entry({ ...base, type: 'file', size: 0 }, Buffer.alloc(0), done);
            return;
          }
          // Read no more than the size in the header: a file still growing is synced again by its next event.
          const entry = p.entry({ ...base, type: 'file', size: st.size }, done);
          createReadStream(e.host, { start: 0, end: st.size - 1 }).on('error', rej).pipe(entry);
        });
      }
    }
  };
  write().then(
    () => p.finalize(),
    (err: Error) => p.destroy(err),
  );
  return p as unknown as Readable;
}
