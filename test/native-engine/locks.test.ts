import { describe, it, expect, afterAll } from 'vitest';
import { chownSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { ready, useNativeEngine } from './harness.js';
import { BUSYBOX } from './support.js';

/**
 * `up` against what a local user (or debris) can plant at the host-wide
 * network lock: it works, or fails at once with a sentence naming the file,
 * creating nothing. (The lock lived in /run/lock, where a FIFO froze every
 * `up` for ever; TSCOMPOSE_HOST_RUN puts it in the test's own directory so
 * that no other tscompose on the host is disturbed.)
 */

const FILE = `services:\n  app:\n    image: ${BUSYBOX}\n    command: ["sleep", "600"]\n    init: true\n`;
const saved = process.env.TSCOMPOSE_HOST_RUN;
afterAll(() => {
  if (saved === undefined) delete process.env.TSCOMPOSE_HOST_RUN;
  else process.env.TSCOMPOSE_HOST_RUN = saved;
});

describe('the host-wide network lock', () => {
  const t = useNativeEngine();

  it('up refuses a FIFO, a symlink and another user\'s file at once; breaks a lock naming another user\'s live process', async () => {
    await ready(t);
    const host = join(t.root().dir, 'host');
    process.env.TSCOMPOSE_HOST_RUN = host;
    mkdirSync(host, { mode: 0o700 });
    const lock = join(host, 'network.lock');

    const refusedUp = async (sentence: string) => {
      const up = await t.compose(['up', '-d'], FILE);
      expect(up.code).not.toBe(0);
      expect(up.stderr).toContain(sentence);
      // Nothing half-created.
      expect(await t.engine().containers.list({ all: true })).toEqual([]);
      expect(await t.engine().networks.list()).toEqual([]);
      rmSync(lock);
    };

    execFileSync('mkfifo', [lock]);
    await refusedUp(`${lock} is a FIFO, not a lock file of tscompose`);
    symlinkSync('/etc/hostname', lock);
    await refusedUp(`${lock} is a symbolic link, not a lock file of tscompose`);
    writeFileSync(lock, '1 1');
    chownSync(lock, 65534, 65534);
    await refusedUp(`${lock} is owned by uid 65534, not by uid 0`);

    const sleeper = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sleep', '600'], { stdio: 'ignore' });
    try {
      while (readFileSync(`/proc/${sleeper.pid}/comm`, 'utf8').trim() !== 'sleep') await new Promise((r) => setTimeout(r, 10));
      const stat = readFileSync(`/proc/${sleeper.pid}/stat`, 'utf8');
      writeFileSync(lock, `${sleeper.pid} ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`);
      const up = await t.compose(['up', '-d'], FILE);
      expect(up.code, up.stderr).toBe(0);
      expect((await t.engine().containers.list({})).map((c) => c.state)).toEqual(['running']);
      expect((await t.compose(['down'])).code).toBe(0);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});
