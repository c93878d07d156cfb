import { closeSync, fstatSync, openSync, readFileSync, readSync, renameSync, statSync, watch, writeSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir } from '../../../util/paths.js';
import type { EngineEvent, LabelFilter } from '../../types.js';
import { engineDir } from './records.js';

/**
 * The native engine's event stream. There is no daemon that sees every
 * operation, so each process that changes something appends a line to
 * `engine/events.log` (one write per event, O_APPEND: lines from concurrent
 * writers never interleave), and `events()` follows that file. `die` is not
 * journaled: exits happen without anyone of ours running, so a follower
 * learns them from the containers themselves (see containers' eventsOf).
 */

const ROTATE_BYTES = 1 << 20;

export function journalPath(): string {
  return join(engineDir(), 'events.log');
}

/**
 * The journal this process appends to, kept open (O_APPEND): one write per
 * event. Whether it is still the file at the path (another process may have
 * rotated it) is checked at most once a second.
 */
let open_: { path: string; fd: number; checked: number } | undefined;

/**
 * A journal line is an EngineEvent, and for a container's destroy the exit
 * code of its last run (`exitCode`), which the follower turns into a die
 * when it did not see the exit itself (the container went at once).
 */
export type JournalEvent = EngineEvent & { exitCode?: number };

export function journal(type: EngineEvent['type'], action: string, id: string, attributes: Record<string, string> = {}, extra: { exitCode?: number } = {}): void {
  const line = JSON.stringify({ time: Date.now(), type, action, id, attributes, ...extra }) + '\n';
  try {
    const path = journalPath();
    const now = Date.now();
    if (open_ && now - open_.checked > 1000) {
      if (open_.path === path && !stale(open_.fd, path)) open_.checked = now;
      else {
        closeSync(open_.fd);
        open_ = undefined;
      }
    }
    if (open_ && open_.path !== path) {
      closeSync(open_.fd);
      open_ = undefined;
    }
    if (!open_) {
      ensurePrivateDir(engineDir());
      try {
        if (statSync(path).size > ROTATE_BYTES) renameSync(path, `${path}.1`);
      } catch { /* no journal yet */ }
      open_ = { path, fd: openSync(path, 'a', 0o600), checked: now };
    }
    writeSync(open_.fd, line);
  } catch {
    // Events are a courtesy to whoever follows them: an operation never fails because its event could not be written.
  }
}

/** Rotated (by size, or by another process): the fd no longer names the file at the path. */
function stale(fd: number, path: string): boolean {
  try {
    const st = fstatSync(fd);
    return st.size > ROTATE_BYTES || statSync(path).ino !== st.ino;
  } catch {
    return true;
  }
}

export function matchesFilter(e: EngineEvent, filter: LabelFilter & { types?: string[] }): boolean {
  if (filter.types?.length && !filter.types.includes(e.type)) return false;
  for (const [k, v] of Object.entries(filter.labels ?? {})) {
    if (!(k in e.attributes)) return false;
    if (v !== undefined && e.attributes[k] !== v) return false;
  }
  return true;
}

/**
 * Journal lines appended from now on, until `signal` aborts; with `since`,
 * the lines already there (the rotated file first) come before; with
 * `until`, it ends once it has read all there is and that time has come.
 */
export async function* followJournal(signal: AbortSignal, since?: number, until?: number): AsyncGenerator<JournalEvent> {
  ensurePrivateDir(engineDir());
  const path = journalPath();
  let pos = sizeOf(path);
  if (since !== undefined) {
    pos = 0;
    for (const l of readLines(`${path}.1`)) yield l;
  }
  let rest = '';
  let wake: (() => void) | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(engineDir(), (_e, file) => {
      if (file === 'events.log' || file === 'events.log.1') wake?.();
    });
    watcher.on('error', () => wake?.());
  } catch { /* polled below */ }
  const onAbort = () => wake?.();
  signal.addEventListener('abort', onAbort);
  try {
    while (!signal.aborted) {
      const size = sizeOf(path);
      if (size < pos) pos = 0; // rotated: the new file starts from its beginning
      if (size > pos) {
        const fd = openSync(path, 'r');
        try {
          const buf = Buffer.alloc(size - pos);
          const n = readSync(fd, buf, 0, buf.length, pos);
          pos += n;
          const lines = (rest + buf.subarray(0, n).toString('utf8')).split('\n');
          rest = lines.pop()!;
          for (const l of lines) {
            if (!l) continue;
            try {
              yield JSON.parse(l) as JournalEvent;
            } catch { /* a line we cannot read is skipped */ }
          }
        } finally {
          closeSync(fd);
        }
        continue;
      }
      if (until !== undefined && Date.now() >= until) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, until !== undefined ? Math.min(500, Math.max(0, until - Date.now())) : 500).unref();
      });
      wake = undefined;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    watcher?.close();
  }
}

/** Every event of a whole journal file (the rotated one: no writer appends to it). */
function readLines(path: string): JournalEvent[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: JournalEvent[] = [];
  for (const l of text.split('\n')) {
    if (!l) continue;
    try {
      out.push(JSON.parse(l) as JournalEvent);
    } catch { /* a line we cannot read is skipped */ }
  }
  return out;
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
