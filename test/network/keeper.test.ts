import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { helperPath } from '../../src/engine/native/runtime/helper.js';
import { processStartTime } from '../../src/util/lock.js';
import { run } from '../../src/util/proc.js';

/**
 * The daemon's keeper (`tsc-helper keep`, native/keep.c) on its own, with a
 * shell script for a daemon: started again after any death but an exit 0,
 * bounded when the program dies at start, and leaving with it.
 */

const keep = (quickMs: number, script: string) => [helperPath(), 'keep', String(quickMs), '50', '400', '3', '--', '/bin/sh', '-c', script];

async function until<T>(what: string, fn: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(20);
  }
}

describe('the daemon keeper', () => {
  it('leaves with a program that exits 0, and gives up (exit 1, logged) on one that keeps dying at start', async () => {
    const [helper, ...args] = keep(1000, 'exit 0');
    expect(await run(helper!, args)).toMatchObject({ code: 0, stderr: '' });
    const [h2, ...failing] = keep(1000, 'echo started >&2; exit 3');
    const r = await run(h2!, failing);
    expect(r.code).toBe(1);
    // Three starts, two waits (50 ms, then 100 ms), then the end, each said once.
    expect(r.stderr.match(/^started$/gm)).toHaveLength(3);
    expect(r.stderr).toMatch(/exited with 3 after \d+ ms; starting it again in 50 ms/);
    expect(r.stderr).toMatch(/exited with 3 after \d+ ms; starting it again in 100 ms/);
    expect(r.stderr).toMatch(/the 3rd time in a row within 1000 ms of its start: giving up/);
  });

  it('starts a killed program again at once, passes SIGTERM on and then stays down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsc-keep-'));
    const pidFile = join(dir, 'pid');
    const [helper, ...args] = keep(100, `echo $$ > ${pidFile}; exec sleep 60`);
    const keeper = spawn(helper!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    keeper.stderr.on('data', (d) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => keeper.on('exit', (code) => resolve(code)));
    try {
      const pidOf = () => {
        try {
          const pid = Number(readFileSync(pidFile, 'utf8'));
          return pid > 0 && processStartTime(pid) !== undefined ? pid : undefined;
        } catch {
          return undefined;
        }
      };
      const first = await until('the program to start', pidOf);
      await sleep(150); // past QUICK_MS: the death is not a failed start
      process.kill(first, 'SIGKILL');
      const second = await until('the program to be started again', () => {
        const p = pidOf();
        return p !== undefined && p !== first ? p : undefined;
      });
      expect(log).toMatch(new RegExp(`\\(pid ${first}\\) was killed by signal 9 after \\d+ ms; starting it again in 0 ms`));
      expect(readFileSync(`/proc/${keeper.pid}/comm`, 'utf8').trim()).toBe('tsc-keep');
      keeper.kill('SIGTERM');
      expect(await exited).toBe(128 + 15); // the program's end, passed on
      expect(processStartTime(second)).toBeUndefined();
      expect(log).toMatch(/was killed by signal 15; asked to stop, not starting it again/);
    } finally {
      if (keeper.exitCode === null) keeper.kill('SIGKILL');
      const last = Number(readFileSync(pidFile, { encoding: 'utf8', flag: 'a+' }) || 0);
      if (last > 0 && processStartTime(last) !== undefined) process.kill(last, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
