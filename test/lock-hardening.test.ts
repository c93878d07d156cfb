import { describe, it, expect, afterEach } from 'vitest';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { acquireLock, lockHolder } from '../src/util/lock.js';

/**
 * Locks no other local user can stall or steer: what a user (or debris)
 * plants at a lock path is refused at once with a sentence or judged by the
 * kernel, never waited on for ever. Every case here hung or timed out before
 * the locks were held open and opened with O_NOFOLLOW|O_NONBLOCK.
 */

const dirs: string[] = [];
const children: ChildProcess[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsc-lock-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.kill('SIGKILL');
    if (c.exitCode === null && c.signalCode === null) await new Promise((r) => c.on('exit', r));
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

/** A process of another user (nobody), alive until the test ends. */
async function otherUsersProcess(): Promise<number> {
  const c = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sleep', '600'], { stdio: 'ignore' });
  children.push(c);
  // Wait until the exec happened (the uid changed), so the start time is the sleeper's.
  for (;;) {
    const status = readFileSync(`/proc/${c.pid}/status`, 'utf8');
    if (/^Uid:\s+65534/m.test(status) && readFileSync(`/proc/${c.pid}/comm`, 'utf8').trim() === 'sleep') return c.pid!;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('locks a local user cannot stall', () => {
  it('refuses a FIFO at the lock path at once (a blocking open never returned)', async () => {
    const lock = join(tmp(), 'network.lock');
    execFileSync('mkfifo', [lock]);
    await expect(acquireLock(lock, 60_000)).rejects.toThrow(`${lock} is a FIFO, not a lock file of tscompose`);
  });

  it('refuses a symlink at the lock path and leaves its target alone', async () => {
    const d = tmp();
    const target = join(d, 'precious');
    writeFileSync(target, 'keep me');
    const lock = join(d, 'network.lock');
    symlinkSync(target, lock);
    await expect(acquireLock(lock, 60_000)).rejects.toThrow(`${lock} is a symbolic link, not a lock file of tscompose`);
    expect(readFileSync(target, 'utf8')).toBe('keep me');
  });

  it('refuses a lock file owned by another user', async () => {
    const lock = join(tmp(), 'network.lock');
    writeFileSync(lock, `${process.pid} ${startTime(process.pid)}`);
    chownSync(lock, 65534, 65534);
    await expect(acquireLock(lock, 60_000)).rejects.toThrow(`${lock} is owned by uid 65534, not by uid 0`);
  });

  it('breaks a planted lock naming a live process of another user (it holds nothing)', async () => {
    const lock = join(tmp(), 'network.lock');
    const pid = await otherUsersProcess();
    writeFileSync(lock, `${pid} ${startTime(pid)}`);
    expect(lockHolder(lock)).toEqual({ held: false });
    const release = await acquireLock(lock, 5_000);
    expect(readFileSync(lock, 'utf8')).toBe(`${process.pid} ${startTime(process.pid)}`);
    release();
    expect(existsSync(lock)).toBe(false);
  });

  it('breaks a planted lock naming our own live process that does not hold it', async () => {
    const lock = join(tmp(), 'network.lock');
    writeFileSync(lock, `${process.pid} ${startTime(process.pid)}`);
    const release = await acquireLock(lock, 5_000);
    release();
  });

  it('waits for a live holder and names it, even when its lock is empty (written on a full disk)', async () => {
    const lock = join(tmp(), 'network.lock');
    // A process that holds an empty lock file open, as an owner whose write met ENOSPC does.
    const holder = spawn(process.execPath, ['-e', `require('fs').openSync(${JSON.stringify(lock)}, 'wx'); process.stdout.write('ok'); setInterval(() => {}, 1000)`], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(holder);
    await new Promise((r) => holder.stdout!.once('data', r));
    expect(lockHolder(lock)).toEqual({ held: true, pid: holder.pid });
    await expect(acquireLock(lock, 300)).rejects.toThrow(`(held by process ${holder.pid} (node))`);
    holder.kill('SIGKILL');
    await new Promise((r) => holder.on('exit', r));
    const release = await acquireLock(lock, 5_000);
    release();
  });

  it('refuses a lock directory other users can write to', async () => {
    const d = tmp();
    chmodSync(d, 0o1777);
    await expect(acquireLock(join(d, 'network.lock'), 60_000)).rejects.toThrow(`refusing to keep lock files in ${d}: it is writable by other users (mode 1777)`);
  });
});
