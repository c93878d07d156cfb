import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, statePath } from '../util/paths.js';
import { readJsonIfExists, sweepDeadTemps, writeJsonAtomic } from '../util/atomic.js';
import { tryLock, withLock } from '../util/lock.js';
import { isNoSpace, NotFoundError, UserError } from '../util/errors.js';
import type { NetworkRecord } from './types.js';
import { byCodeUnits } from '../util/order.js';

/**
 * Network records on disk: `<state root>/networks/<id>.json`, one per network,
 * written atomically. Writers serialize on one lock per state root; readers
 * (the daemon, `ls`, `inspect`) read without it, which atomic writes make safe.
 */

export function networksDir(): string {
  return ensurePrivateDir(statePath('networks'));
}

export function withNetworkLock<T>(fn: () => Promise<T> | T): Promise<T> {
  return withLock(join(networksDir(), '.lock'), () => {
    // A writer killed -9 (during `down`, say) between its write and its rename left a temp record.
    sweepDeadTemps(networksDir());
    return fn();
  });
}

/**
 * withNetworkLock without waiting: undefined when another process holds the lock (the daemon must
 * not wait for it, since the holder may be waiting for the daemon), else fn's result.
 */
export async function withNetworkLockIfFree<T>(fn: () => Promise<T> | T): Promise<{ value: T } | undefined> {
  const release = tryLock(join(networksDir(), '.lock'));
  if (!release) return undefined;
  try {
    sweepDeadTemps(networksDir());
    return { value: await fn() };
  } finally {
    release();
  }
}

export function readAllNetworks(): NetworkRecord[] {
  // A reader makes no directory: the daemon reads after its state root may have been deleted.
  const dir = statePath('networks');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: NetworkRecord[] = [];
  for (const f of names) {
    if (!/^[0-9a-f]{64}\.json$/.test(f)) continue;
    const rec = readJsonIfExists<NetworkRecord>(join(dir, f));
    if (rec) out.push(rec);
  }
  return out.sort((a, b) => byCodeUnits(a.created, b.created) || byCodeUnits(a.name, b.name));
}

/** `durable: false` for a change a crash may undo harmlessly (see setContainersRunning). */
export function writeNetwork(rec: NetworkRecord, opts: { durable?: boolean } = {}): void {
  writeJsonAtomic(join(networksDir(), `${rec.id}.json`), rec, 0o600, opts);
}

/**
 * writeNetwork for a change that frees something (a stop, a detach): on a full
 * disk the record is left as it was, and the cleanup goes on. What it still
 * names is stale: the endpoint of a container that is gone, or no longer
 * running, which liveness checks and the network's removal see through.
 */
export function writeNetworkUnlessFull(rec: NetworkRecord, opts: { durable?: boolean } = {}): void {
  try {
    writeNetwork(rec, opts);
  } catch (err) {
    if (!isNoSpace(err)) throw err;
  }
}

export function deleteNetworkRecord(id: string): void {
  try {
    unlinkSync(join(networksDir(), `${id}.json`));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export interface NetworkFilter {
  /** key or key=value, all must match. */
  labels?: Record<string, string | undefined>;
  names?: string[];
}

function matches(n: NetworkRecord, f: NetworkFilter): boolean {
  if (f.names?.length && !f.names.includes(n.name)) return false;
  for (const [k, v] of Object.entries(f.labels ?? {})) {
    if (!(k in n.labels)) return false;
    if (v !== undefined && n.labels[k] !== v) return false;
  }
  return true;
}

/** The records that match (a listing: no lock, nothing else of the network module loaded). */
export function listNetworks(filter: NetworkFilter = {}): NetworkRecord[] {
  return readAllNetworks().filter((n) => matches(n, filter));
}

/** Docker's lookup order: full id, exact name, then an unambiguous id prefix. */
export function findNetwork(ref: string, all: readonly NetworkRecord[] = readAllNetworks()): NetworkRecord | undefined {
  const byId = all.find((n) => n.id === ref);
  if (byId) return byId;
  const byName = all.find((n) => n.name === ref);
  if (byName) return byName;
  if (!/^[0-9a-f]+$/.test(ref)) return undefined;
  const byPrefix = all.filter((n) => n.id.startsWith(ref));
  if (byPrefix.length > 1) {
    throw new UserError(`network id prefix "${ref}" is ambiguous: it matches ${byPrefix.map((n) => n.name).join(', ')}`, 1, 'give more characters of the id, or the name');
  }
  return byPrefix[0];
}

export function getNetwork(ref: string, all?: readonly NetworkRecord[]): NetworkRecord {
  const n = findNetwork(ref, all);
  if (!n) throw new NotFoundError('network', ref);
  return n;
}
