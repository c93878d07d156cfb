import { existsSync } from 'node:fs';
import { NotFoundError, UserError } from '../../../util/errors.js';
import { toInspect, toSummary } from './inspect.js';
import { matchLabels } from './volumes.js';
import {
  ContainerPaths, ID_RE, abandonedCreates, deriveStatus, listContainerIds, readRecord, readState, scanContainers,
  type ContainerRecord, type ContainerScan, type DerivedStatus, type RuntimeState,
} from './store.js';
import type { ContainerInspect, ContainerSummary, ListOptions } from './types.js';

/**
 * Containers read from their records on disk: what the runtime's `resolve`,
 * `inspect` and `list` are made of, without the code that creates, starts,
 * stops or copies (runtime/index.ts, which also brings the image store).
 * The Engine reads through these directly while a listing has no chores
 * (`listingChores`), so that a command that only looks (a no-op `up`, `ps`)
 * loads none of that; with chores it asks the runtime, whose `list` does them.
 */

/** A full id, a unique id prefix, or a name (with or without the leading slash). */
export function resolveContainer(ref: string): string {
  if (ID_RE.test(ref) && existsSync(new ContainerPaths(ref).config)) return ref;
  const name = ref.startsWith('/') ? ref.slice(1) : ref;
  const ids = listContainerIds();
  for (const id of ids) {
    try {
      if (readRecord(id).name === name) return id;
    } catch { /* removed meanwhile */ }
  }
  if (/^[0-9a-f]{1,63}$/.test(ref)) {
    const matches = ids.filter((id) => id.startsWith(ref));
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) throw new UserError(`multiple containers match the id prefix ${ref}`, 1, 'give more characters of the id');
  }
  throw new NotFoundError('container', ref);
}

/** Docker's inspect of a container, from its record, state and derived status. */
export function inspectContainer(ref: string): ContainerInspect {
  const id = resolveContainer(ref);
  const state = readState(id);
  return toInspect(readRecord(id), state, deriveStatus(id, state));
}

export interface ListedContainer {
  id: string;
  record: ContainerRecord;
  state: RuntimeState;
  status: DerivedStatus;
}

/** Docker's inspect of a listed container, from what its listing read (no file read again). */
export function inspectListed(c: ListedContainer): ContainerInspect {
  return toInspect(c.record, c.state, c.status);
}

/**
 * The containers whose labels and name match `opts` (not yet narrowed by status), each with its status;
 * `ids`: those of a scan the caller took (scanContainers), else the dir is read.
 */
export function listedContainers(opts: Pick<ListOptions, 'labels' | 'name'> = {}, ids = listContainerIds()): ListedContainer[] {
  const out: ListedContainer[] = [];
  for (const id of ids) {
    let record: ContainerRecord;
    try {
      record = readRecord(id);
    } catch {
      continue;
    }
    if (opts.labels && !matchLabels(record.spec.labels ?? {}, opts.labels)) continue;
    if (opts.name && !record.name.includes(opts.name.replace(/^\//, ''))) continue;
    const state = readState(id);
    out.push({ id, record, state, status: deriveStatus(id, state) });
  }
  return out;
}

/** An exited `autoRemove` container nobody waited for: the runtime's listing removes it. */
export function autoRemoveDue(c: ListedContainer): boolean {
  return c.status.status === 'exited' && c.record.spec.autoRemove === true;
}

/**
 * Whether listing `listed` has work only the runtime can do: a crashed
 * create's remains to take away (its root filesystem is the image store's),
 * or an exited `autoRemove` container to remove (`scan`: the one `listed` came from, else the dir is read).
 */
export function listingChores(listed: readonly ListedContainer[], scan: ContainerScan = scanContainers()): boolean {
  return listed.some(autoRemoveDue) || abandonedCreates(scan.incomplete).length > 0;
}

/** Docker's list of `listed`, narrowed by `opts.all` and `opts.status`, newest first. */
export function summaries(listed: readonly ListedContainer[], opts: Pick<ListOptions, 'all' | 'status'> = {}, now = Date.now()): ContainerSummary[] {
  return listed
    .filter((c) => (opts.all || c.status.status === 'running') && (!opts.status || opts.status.includes(c.status.status)))
    .sort((a, b) => (a.record.created < b.record.created ? 1 : -1))
    .map((c) => toSummary(c.record, c.status, now));
}
