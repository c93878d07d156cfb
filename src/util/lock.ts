import { readFileSync, unlinkSync, writeFileSync, linkSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * An inter-process lock on a path. Node has no flock(2), so the lock is a file
 * holding "pid starttime"; a lock whose owner is gone (the pid is dead, or
 * reused by another process with a different start time) is stale and is
 * broken. This keeps concurrent tscompose processes from corrupting shared
 * state, and a crashed one from blocking the next forever.
 *
 * The lock file is created whole: its content is written to a private temp
 * file that is then hard-linked to the lock path (link fails if the lock
 * exists), so a process killed at any moment never leaves an empty lock that
 * nobody can judge. Breaking a stale lock happens under a second, short-held
 * lock, so that two waiters cannot both break it and remove a new owner's lock.
 */
export async function withLock<T>(lockPath: string, fn: () => Promise<T> | T, timeoutMs = 60_000): Promise<T> {
  const release = await acquireLock(lockPath, timeoutMs);
  try {
    return await fn();
  } finally {
    release();
  }
}

export async function acquireLock(lockPath: string, timeoutMs = 60_000): Promise<() => void> {
  const me = `${process.pid} ${processStartTime(process.pid)}`;
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    if (createWhole(lockPath, me)) {
      return () => {
        try {
          if (readFileSync(lockPath, 'utf8') === me) unlinkSync(lockPath);
        } catch { /* already broken by someone who judged us dead */ }
      };
    }
    if (breakIfStale(lockPath, me)) continue;
    if (Date.now() > deadline) throw new Error(`timed out waiting for the lock ${lockPath} (held by ${readOwner(lockPath) || 'nobody'})`);
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
}

/** Creates `path` holding `content`, or returns false when it exists. Never leaves `path` half-written. */
function createWhole(path: string, content: string): boolean {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.taking`;
  writeFileSync(tmp, content, { mode: 0o600 });
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}

/** Removes the lock if its owner is gone; true when it did (or the lock vanished meanwhile). */
function breakIfStale(lockPath: string, me: string): boolean {
  if (!isStale(lockPath)) return false;
  const breaker = `${lockPath}.break`;
  if (!createWhole(breaker, me)) {
    // Another waiter is breaking it now; a breaker that died holding it is itself stale.
    if (isStale(breaker)) unlinkQuietly(breaker);
    return false;
  }
  try {
    // Judged again under the breaker lock: the lock may already be a new, live owner's.
    if (isStale(lockPath)) unlinkQuietly(lockPath);
    return true;
  } finally {
    unlinkQuietly(breaker);
  }
}

function unlinkQuietly(path: string): void {
  try { unlinkSync(path); } catch { /* gone already */ }
}

function readOwner(lockPath: string): string {
  try { return readFileSync(lockPath, 'utf8'); } catch { return ''; }
}

/** Locks written before locks were created whole may be empty: such a file is stale once it is this old. */
const EMPTY_LOCK_GRACE_MS = 2_000;

function isStale(lockPath: string): boolean {
  let owner: string;
  let ageMs: number;
  try {
    owner = readFileSync(lockPath, 'utf8');
    ageMs = Date.now() - statSync(lockPath).mtimeMs;
  } catch {
    return false; // gone: not ours to break, the next create attempt will tell
  }
  if (owner === '') return ageMs > EMPTY_LOCK_GRACE_MS;
  const [pidText, start] = owner.split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  const actual = processStartTime(pid);
  return actual === undefined || (start !== undefined && start !== 'undefined' && actual !== start);
}

/** Field 22 of /proc/PID/stat: the start time in clock ticks since boot, or undefined if the pid is gone. */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}
