import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { writeFileAtomic, readJsonIfExists, writeJsonAtomic } from '../src/util/atomic.js';
import { acquireLock, withLock } from '../src/util/lock.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsc-util-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('replaces content, leaves no temp file, and applies the mode', () => {
    const d = tmp();
    const p = join(d, 'state.json');
    writeFileSync(p, 'old');
    writeJsonAtomic(p, { a: 1 });
    expect(readJsonIfExists(p)).toEqual({ a: 1 });
    expect(readdirSync(d)).toEqual(['state.json']);
    writeFileAtomic(join(d, 'x'), 'y', 0o600);
    expect(statSync(join(d, 'x')).mode & 0o777).toBe(0o600);
  });
  it('reads a missing file as undefined', () => {
    expect(readJsonIfExists(join(tmp(), 'nope'))).toBeUndefined();
  });
});

describe('withLock', () => {
  it('serializes critical sections in one process', async () => {
    const lock = join(tmp(), 'l');
    const order: string[] = [];
    await Promise.all(
      ['a', 'b', 'c'].map((n) =>
        withLock(lock, async () => {
          order.push(`${n}+`);
          await new Promise((r) => setTimeout(r, 20));
          order.push(`${n}-`);
        }),
      ),
    );
    for (let i = 0; i < order.length; i += 2) expect(order[i]!.slice(0, 1)).toBe(order[i + 1]!.slice(0, 1));
  });

  it('breaks a lock whose owner died', async () => {
    const lock = join(tmp(), 'l');
    // A process takes the lock by hand and is killed: its pid is gone, the lock is stale.
    const child = spawn('sleep', ['10']);
    const start = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const startTime = start.slice(start.lastIndexOf(')') + 2).split(' ')[19];
    writeFileSync(lock, `${child.pid} ${startTime}`);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const release = await acquireLock(lock, 2000);
    expect(readFileSync(lock, 'utf8')).toMatch(new RegExp(`^${process.pid} `));
    release();
  });

  it('times out while a live owner holds it', async () => {
    const lock = join(tmp(), 'l');
    const release = await acquireLock(lock);
    // The same live pid with a matching start time is not stale.
    await expect(acquireLock(lock, 100)).rejects.toThrow(/timed out/);
    release();
  });
});
