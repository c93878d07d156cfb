import { openSync, writeSync, closeSync, readFileSync, unlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * An inter-process lock on a path. Node has no flock(2), so the lock is a file
 * created with O_EXCL holding "pid starttime"; a lock whose owner is gone (the
 * pid is dead, or reused by another process with a different start time) is
 * stale and is broken. This keeps concurrent tscompose processes from
 * corrupting shared state, and a crashed one from blocking the next forever.
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
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      writeSync(fd, me);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(lockPath, 'utf8') === me) unlinkSync(lockPath);
        } catch { /* already broken by someone who judged us dead */ }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (isStale(lockPath)) {
      try { unlinkSync(lockPath); } catch { /* another waiter broke it first */ }
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for the lock ${lockPath} (held by ${readOwner(lockPath)})`);
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
}

function readOwner(lockPath: string): string {
  try { return readFileSync(lockPath, 'utf8'); } catch { return ''; }
}

function isStale(lockPath: string): boolean {
  const owner = readOwner(lockPath);
  if (owner === '') return false; // being written right now; give it a moment
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
