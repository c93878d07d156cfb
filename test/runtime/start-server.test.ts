import { describe, it, expect, afterEach } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { closeStartServer } from '../../src/engine/native/runtime/index.js';
import { checkNoLeaks, makeRuntimeRoot, runToEnd, sh } from './helpers.js';

afterEach(checkNoLeaks);

/** This process's start servers (`tsc-helper serve`, its children). */
function startServers(): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid
        && readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[1] === 'serve';
    } catch {
      return false;
    }
  });
}

async function gone(): Promise<boolean> {
  for (let i = 0; i < 100 && startServers().length; i++) await new Promise((r) => setTimeout(r, 20));
  return startServers().length === 0;
}

describe('runtime: starts in a burst go through one resident helper', () => {
  it('runs them, reports a failed start as a direct one does, and ends when closed', async () => {
    const root = await makeRuntimeRoot();
    closeStartServer();
    expect(await gone()).toBe(true);
    // The first start of the burst spawns its helper; the next ones go through the server.
    const first = await runToEnd(root, sh('echo one'));
    const ids = await Promise.all([1, 2, 3].map(() => root.create(sh('echo $HOSTNAME; exit 7'))));
    await Promise.all(ids.map((id) => root.runtime.start(id)));
    expect(startServers()).toHaveLength(1);
    for (const id of ids) {
      expect((await root.runtime.waitExit(id)).exitCode).toBe(7);
      const lines: string[] = [];
      for await (const e of root.runtime.logs(id)) lines.push(e.line);
      expect(lines).toEqual([id.slice(0, 12)]);
    }
    expect(first.stdout).toBe('one\n');
    // A command that cannot run: the helper's own error, through the server.
    const bad = await root.create({ cmd: ['/no/such/program'] });
    await expect(root.runtime.start(bad)).rejects.toThrow(/no such file or directory/);
    expect(startServers()).toHaveLength(1);
    for (const id of [first.id, ...ids, bad]) await root.runtime.remove(id);
    closeStartServer();
    expect(await gone()).toBe(true);
  });
});
