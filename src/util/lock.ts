import { closeSync, constants, readFileSync, readSync, fstatSync, lstatSync, readdirSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openPrivateFile, refuseForeign, checkPrivateDir } from './private-files.js';

/**
 * An inter-process lock on a path. Node has no flock(2), so the lock is a
 * regular file that its owner creates (O_CREAT|O_EXCL, never following a
 * symlink, never blocking) and keeps open for as long as it holds the lock;
 * the file says "pid starttime" when there was room to write it. A waiter
 * judges the owner by the kernel, not by the file: the lock is held while the
 * process it names has a descriptor open on this very inode (an empty lock,
 * written on a full disk, is judged by looking for any process holding it).
 * A pid written into the file by anyone else, alive or not, holds nothing,
 * and a crashed owner's descriptor went with it: such a lock is stale and is
 * broken, under a second, short-held lock, so that two waiters cannot both
 * break it and remove a new owner's lock.
 *
 * Creating the lock writes no temp file and needs no free block, so the
 * operations that free space (stop, kill, rm, down) can take their locks on a
 * full disk. Locks live only in directories no other user can write; a lock
 * path holding anything but a regular file owned by us (a FIFO, a symlink,
 * another user's file) is refused at once with a sentence naming it, since no
 * tscompose process made it.
 */
export async function withLock<T>(lockPath: string, fn: () => Promise<T> | T, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return inProcessTurn(lockPath, timeoutMs, async () => {
    const release = await acquireLock(lockPath, Math.max(0, deadline - Date.now()));
    try {
      return await fn();
    } finally {
      release();
    }
  });
}

/** The tail of each lock path's in-process queue (see inProcessTurn). */
const turns = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` after the calls for the same lock that this process made before it. Without this, the
 * callers of one process (30 creates of an `up`) met only at the lock file: each loser polled it,
 * sleeping up to 50 ms between tries, and came in well after the holder had left. Queued, the next
 * caller goes in as the last one leaves; other processes still meet at the file. A caller whose
 * turn has not come within `timeoutMs` goes to the file anyway, where acquireLock's own deadline
 * names the holder.
 */
function inProcessTurn<T>(lockPath: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const before = turns.get(lockPath) ?? Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const turn = Promise.race([before, new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); })]);
  const mine = turn.then(() => { clearTimeout(timer); return fn(); });
  const tail = mine.then(() => undefined, () => undefined);
  turns.set(lockPath, tail);
  void tail.then(() => {
    if (turns.get(lockPath) === tail) turns.delete(lockPath);
  });
  return mine;
}

export class LockTimeoutError extends Error {}

/** How often a waiter looks through every process for the holder of an empty lock (a full disk's). */
const EMPTY_LOCK_SCAN_MS = 500;

export async function acquireLock(lockPath: string, timeoutMs = 60_000): Promise<() => void> {
  checkPrivateDir(dirname(lockPath), 'lock');
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  let lastScan = 0;
  for (;;) {
    const fd = createLockFile(lockPath);
    if (fd !== undefined) return releaser(lockPath, fd);
    const scan = Date.now() - lastScan >= EMPTY_LOCK_SCAN_MS;
    if (scan) lastScan = Date.now();
    if (breakIfStale(lockPath, scan)) continue;
    if (Date.now() > deadline) {
      const holder = describeHolder(lockPath);
      throw new LockTimeoutError(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for the lock ${lockPath} (held by ${holder}); it is released when that process ends`);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
}

/** One attempt, without waiting: the release function, or undefined while a live process holds the lock. */
export function tryLock(lockPath: string): (() => void) | undefined {
  checkPrivateDir(dirname(lockPath), 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    const fd = createLockFile(lockPath);
    if (fd !== undefined) return releaser(lockPath, fd);
    if (!breakIfStale(lockPath, true)) return undefined;
  }
  return undefined;
}

/** The state of a lock as the kernel sees it: held by a live process (its pid), free (stale or absent). */
export function lockHolder(lockPath: string): { held: true; pid: number | undefined } | { held: false } {
  const judged = judge(lockPath, true);
  return judged.kind === 'held' ? { held: true, pid: judged.pid } : { held: false };
}

function releaser(lockPath: string, fd: number): () => void {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    try {
      // Ours only if the path still names the inode we hold (a waiter may have judged us dead and broken it).
      const mine = fstatSync(fd);
      const now = lstatSync(lockPath, { throwIfNoEntry: false });
      if (now && now.ino === mine.ino && now.dev === mine.dev) unlinkSync(lockPath);
    } catch { /* already gone */ }
    closeSync(fd);
  };
}

/** Creates the lock file and returns its descriptor (kept open: that is what holds the lock), or undefined when it exists. */
function createLockFile(path: string): number | undefined {
  let fd: number;
  try {
    fd = openPrivateFile(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600, 'lock');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw err;
  }
  try {
    writeSync(fd, `${process.pid} ${processStartTime(process.pid)}`);
  } catch (err) {
    // A full disk: the lock holds all the same (we keep it open); waiters find us by the descriptor.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOSPC' && code !== 'EDQUOT') {
      closeSync(fd);
      unlinkSync(path);
      throw err;
    }
  }
  return fd;
}

type Judged =
  | { kind: 'absent' }
  | { kind: 'held'; pid: number | undefined }
  | { kind: 'stale'; st: Stats }
  | { kind: 'unknown' }; // empty, and not looked for this time

/**
 * Judges the lock at `path` by whether a live process holds its inode open. `scan`: an empty lock may be
 * looked for in every process. `onStale` is called with a stale lock's stat while the file judged is
 * still open here: the stat and the pid are those of one inode (an lstat before the read could name a
 * lock since released, and its pid be the next owner's), and that inode cannot be freed and its number
 * given to a new lock before the caller has compared it with what the path names now. Without this, a
 * waiter could judge a live lock stale and unlink it (two holders at once: seen once in CI, as an
 * increment lost by test/util.test.ts's four processes).
 */
function judge(path: string, scan: boolean, onStale?: (st: Stats) => void): Judged {
  const pre = lstatSync(path, { throwIfNoEntry: false });
  if (!pre) return { kind: 'absent' };
  refuseForeign(path, pre, 'lock');
  let fd: number;
  try {
    fd = openPrivateFile(path, constants.O_RDONLY, 0, 'lock');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    throw err;
  }
  try {
    const st = fstatSync(fd);
    const verdict = judgeOpen(st, readOwner(fd), scan, fd);
    if (verdict.kind === 'stale') onStale?.(st);
    return verdict;
  } finally {
    closeSync(fd);
  }
}

/** The verdict on the lock file open here as `judging` (which, being the judge's, holds nothing). */
function judgeOpen(st: Stats, owner: string, scan: boolean, judging: number): Judged {
  const pid = Number(owner.split(' ')[0]);
  if (owner !== '' && Number.isInteger(pid) && pid > 0) {
    return holdsOpen(pid, st, judging) ? { kind: 'held', pid } : { kind: 'stale', st };
  }
  if (owner !== '') return { kind: 'stale', st }; // not a pid: nobody of ours wrote it
  if (!scan) return { kind: 'unknown' };
  const holder = findHolder(st, judging);
  return holder === undefined ? { kind: 'stale', st } : { kind: 'held', pid: holder };
}

/** What the lock file says ("pid starttime", or nothing), read from its descriptor. */
function readOwner(fd: number): string {
  const buf = Buffer.alloc(64);
  let off = 0;
  for (;;) {
    const n = readSync(fd, buf, off, buf.length - off, off);
    if (n === 0 || off + n >= buf.length) return buf.subarray(0, off + n).toString('utf8');
    off += n;
  }
}

/** Removes the lock if no live process holds it; true when it did (or the lock vanished meanwhile). */
function breakIfStale(lockPath: string, scan: boolean): boolean {
  const first = judge(lockPath, scan);
  if (first.kind === 'absent') return true;
  if (first.kind !== 'stale') return false;
  const breaker = `${lockPath}.break`;
  const fd = createLockFile(breaker);
  if (fd === undefined) {
    // Another waiter is breaking it now; a breaker that died holding it is itself stale.
    judge(breaker, true, (st) => unlinkIfSame(breaker, st));
    return false;
  }
  const release = releaser(breaker, fd);
  try {
    // Judged again under the breaker lock: the lock may already be a new, live owner's.
    judge(lockPath, true, (st) => unlinkIfSame(lockPath, st));
    return true;
  } finally {
    release();
  }
}

function unlinkIfSame(path: string, st: Stats): void {
  try {
    const now = lstatSync(path);
    if (now.ino === st.ino && now.dev === st.dev) unlinkSync(path);
  } catch { /* gone already */ }
}

/** Whether process `pid` has a descriptor open on the inode `st` (this process's descriptor `judging` aside: the judge's own). */
function holdsOpen(pid: number, st: Stats, judging?: number): boolean {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false; // gone
  }
  for (const fd of fds) {
    if (pid === process.pid && fd === String(judging)) continue;
    let target: Stats | undefined;
    try {
      target = statSync(`/proc/${pid}/fd/${fd}`, { throwIfNoEntry: false });
    } catch {
      continue; // closed meanwhile, or a process we may not look into (none of ours)
    }
    if (target && target.ino === st.ino && target.dev === st.dev) return true;
  }
  return false;
}

/** The pid of any process holding the inode `st` open (a lock left empty by a full disk). */
function findHolder(st: Stats, judging?: number): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    if (holdsOpen(Number(name), st, judging)) return Number(name);
  }
  return undefined;
}

function describeHolder(lockPath: string): string {
  try {
    const j = judge(lockPath, true);
    if (j.kind === 'held') return j.pid === undefined ? 'a live process' : `process ${j.pid}${commandOf(j.pid)}`;
    return 'nobody now';
  } catch (err) {
    return (err as Error).message;
  }
}

function commandOf(pid: number): string {
  try {
    return ` (${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()})`;
  } catch {
    return '';
  }
}

/** Field 22 of /proc/PID/stat: the start time in clock ticks since boot, or undefined if the pid is gone. */
/** This process's own start time: read once (/proc/PID/stat of a process with threads is not cheap, and a lock is taken often). */
let ownStartTime: string | undefined;

export function processStartTime(pid: number): string | undefined {
  if (pid === process.pid) return (ownStartTime ??= readStartTime(pid));
  return readStartTime(pid);
}

function readStartTime(pid: number): string | undefined {
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
