import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic, writeFilesAtomic, readJsonCached, readJsonIfExists, writeJsonAtomic } from '../src/util/atomic.js';
import { acquireLock, withLock } from '../src/util/lock.js';
import { networksDir, withNetworkLock } from '../src/network/store.js';

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
  it('writes many files together; one that cannot be written means none is, and no temp file is left', async () => {
    const d = tmp();
    writeFileSync(join(d, 'a'), 'old');
    await writeFilesAtomic([{ path: join(d, 'a'), data: 'A' }, { path: join(d, 'b'), data: Buffer.from('B') }], 0o640);
    expect([readFileSync(join(d, 'a'), 'utf8'), readFileSync(join(d, 'b'), 'utf8')]).toEqual(['A', 'B']);
    expect(statSync(join(d, 'b')).mode & 0o777).toBe(0o640);
    await expect(writeFilesAtomic([{ path: join(d, 'a'), data: 'new' }, { path: join(d, 'missing-dir', 'c'), data: 'C' }])).rejects.toThrow(/ENOENT/);
    expect(readFileSync(join(d, 'a'), 'utf8')).toBe('A');
    expect(readdirSync(d).sort()).toEqual(['a', 'b']);
  });
});

describe('sweepDeadTemps', () => {
  it("removes a killed writer's temp file (under the network lock too), keeps a live writer's", async () => {
    const root = tmp();
    const saved = process.env.TSCOMPOSE_ROOT;
    process.env.TSCOMPOSE_ROOT = root;
    try {
      const dir = networksDir();
      const child = spawn('sleep', ['10']);
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      const dead = `.${'a'.repeat(64)}.json.${child.pid}-${start}.0123456789ab.tmp`;
      writeFileSync(join(dir, dead), '{');
      const oldUntagged = `.${'b'.repeat(64)}.json.0123456789ab.tmp`;
      writeFileSync(join(dir, oldUntagged), '{');
      utimesSync(join(dir, oldUntagged), new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000));
      const me = readFileSync('/proc/self/stat', 'utf8');
      const live = `.${'c'.repeat(64)}.json.${process.pid}-${me.slice(me.lastIndexOf(')') + 2).split(' ')[19]}.0123456789ab.tmp`;
      writeFileSync(join(dir, live), '{');
      await withNetworkLock(() => undefined);
      expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([live]);
    } finally {
      if (saved === undefined) delete process.env.TSCOMPOSE_ROOT;
      else process.env.TSCOMPOSE_ROOT = saved;
    }
  });
});

describe('readJsonCached', () => {
  it('sees every replacement and in-place rewrite, a removal, and hands out copies', () => {
    const p = join(tmp(), 'config.json');
    expect(readJsonCached(p)).toBeUndefined();
    writeJsonAtomic(p, { n: 1 });
    const first = readJsonCached<{ n: number; extra?: boolean }>(p)!;
    expect(first).toEqual({ n: 1 });
    first.extra = true; // a caller's change stays its own
    expect(readJsonCached(p)).toEqual({ n: 1 });
    writeJsonAtomic(p, { n: 2 }); // same size, new inode
    expect(readJsonCached(p)).toEqual({ n: 2 });
    writeFileSync(p, '{"n": 3}'); // in place: another size
    expect(readJsonCached(p)).toEqual({ n: 3 });
    writeFileSync(p, '{"n": 4}'); // in place, the same size: the mtime tells
    utimesSync(p, new Date(), new Date(Date.now() + 5000));
    expect(readJsonCached(p)).toEqual({ n: 4 });
    rmSync(p);
    expect(readJsonCached(p)).toBeUndefined();
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

  it('lets one process\'s callers in in the order they asked, each as the last leaves', async () => {
    const lock = join(tmp(), 'l');
    const entered: number[] = [];
    let inside = 0;
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        withLock(lock, async () => {
          expect(inside++).toBe(0);
          entered.push(i);
          await new Promise((r) => setImmediate(r));
          inside--;
        }),
      ),
    );
    // The lock file alone let the pollers in in whatever order their sleeps ended.
    expect(entered).toEqual([...Array(12).keys()]);
  });

  it('a caller queued behind a holder that never leaves times out naming the holder', async () => {
    const lock = join(tmp(), 'l');
    let leave!: () => void;
    const held = withLock(lock, () => new Promise<void>((r) => (leave = r)));
    await expect(withLock(lock, () => 'never', 300)).rejects.toThrow(new RegExp(`waiting for the lock ${lock} \\(held by .*${process.pid}`));
    leave();
    await held;
    expect(await withLock(lock, () => 'after')).toBe('after');
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

  it('breaks an empty lock file once it is old (left by a lock format that could be half-written)', async () => {
    const lock = join(tmp(), 'l');
    writeFileSync(lock, '');
    const old = new Date(Date.now() - 10_000);
    utimesSync(lock, old, old);
    const release = await acquireLock(lock, 2000);
    release();
  });

  it('keeps processes mutually exclusive: every increment under the lock survives', async () => {
    const d = tmp();
    const lock = join(d, 'l');
    const counter = join(d, 'n');
    writeFileSync(counter, '0');
    const workers = Array.from({ length: 4 }, () => lockWorker(lock, counter, 200, 0));
    await Promise.all(workers.map((w) => new Promise((r) => w.on('exit', r))));
    expect(workers.map((w) => w.exitCode)).toEqual([0, 0, 0, 0]);
    expect(Number(readFileSync(counter, 'utf8'))).toBe(800);
  });

  it('recovers after processes are killed -9 at any moment while taking or holding it', async () => {
    const d = tmp();
    const lock = join(d, 'l');
    const counter = join(d, 'n');
    writeFileSync(counter, '0');
    for (let round = 0; round < 20; round++) {
      const workers = Array.from({ length: 3 }, () => lockWorker(lock, counter, 1_000_000, 1));
      await new Promise((r) => setTimeout(r, 30 + ((round * 37) % 120)));
      for (const w of workers) w.kill('SIGKILL');
      await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null || w.signalCode ? r(null) : w.on('exit', r)))));
    }
    // Whatever moment the kills hit, the lock can be taken again, and no temp file stays behind but by a dead taker.
    const release = await acquireLock(lock, 5000);
    release();
    expect(readdirSync(d).filter((n) => n !== 'n' && !n.endsWith('.taking'))).toEqual([]);
  });

});

const here = fileURLToPath(new URL('.', import.meta.url));

/** A process that takes the lock `times` times, each time incrementing the counter file by read-then-write. */
function lockWorker(lock: string, counter: string, times: number, holdMs: number): ChildProcess {
  const code = `
    const { withLock } = await import(${JSON.stringify(join(here, '..', 'dist', 'util', 'lock.js'))});
    const fs = await import('node:fs');
    for (let i = 0; i < ${times}; i++) {
      await withLock(${JSON.stringify(lock)}, async () => {
        const n = Number(fs.readFileSync(${JSON.stringify(counter)}, 'utf8'));
        if (${holdMs}) await new Promise((r) => setTimeout(r, ${holdMs}));
        fs.writeFileSync(${JSON.stringify(counter)}, String(n + 1));
      }, 30_000);
    }`;
  return spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: 'inherit' });
}
