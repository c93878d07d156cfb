import { describe, it, expect, afterEach } from 'vitest';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkNoLeaks, makeRuntimeRoot, sh, type RuntimeRoot } from './helpers.js';

afterEach(checkNoLeaks);

/**
 * Stop semantics (acceptance 3, security test 9). The grace period is set to
 * a minute everywhere: a stop that waited it out would take that long, so a
 * stop that returns within a small fraction of it did not wait.
 */
const GRACE = 60;

async function started(root: RuntimeRoot, spec: Parameters<RuntimeRoot['create']>[0]): Promise<string> {
  const id = await root.create({ stopTimeout: GRACE, ...spec });
  await root.runtime.start(id);
  return id;
}

async function timedStop(root: RuntimeRoot, id: string) {
  const t0 = Date.now();
  const info = await root.runtime.stop(id);
  return { ...info, seconds: (Date.now() - t0) / 1000 };
}

async function logText(root: RuntimeRoot, id: string): Promise<string> {
  let out = '';
  for await (const e of root.runtime.logs(id)) out += e.line + '\n';
  return out;
}

describe('runtime: stop', () => {
  it("does not wait the grace period when PID 1 has no handler for the stop signal: sh -c 'sleep 1000' is killed (137)", async () => {
    const root = await makeRuntimeRoot();
    const id = await started(root, sh('sleep 1000'));
    const r = await timedStop(root, id);
    expect(r.exitCode).toBe(137);
    expect(r.seconds).toBeLessThan(GRACE / 6);
    expect((await root.runtime.inspect(id)).State.Status).toBe('exited');
    await root.runtime.remove(id);
  });

  it('lets a PID 1 that handles the signal finish on its own (its exit code, not 137)', async () => {
    const root = await makeRuntimeRoot();
    const id = await started(root, sh('trap "echo bye; exit 3" TERM; echo ready; while true; do sleep 0.05; done'));
    for (let i = 0; i < 100 && !(await logText(root, id)).includes('ready'); i++) await sleep(20);
    const r = await timedStop(root, id);
    expect(r.exitCode).toBe(3);
    expect(await logText(root, id)).toContain('bye');
    await root.runtime.remove(id);
  });

  it('signals the processes that handle it when PID 1 does not, waits for them, then kills', async () => {
    const root = await makeRuntimeRoot();
    const id = await started(root, sh('(trap "echo child-got-term; exit 0" TERM; echo ready; while :; do sleep 0.05; done) & exec sleep 1000'));
    for (let i = 0; i < 100 && !(await logText(root, id)).includes('ready'); i++) await sleep(20);
    const r = await timedStop(root, id);
    expect(r.exitCode).toBe(137);
    expect(r.seconds).toBeLessThan(GRACE / 6);
    expect(await logText(root, id)).toContain('child-got-term');
    await root.runtime.remove(id);
  });

  it('with init: true, stop reaches the command through tsc-init and the container exits 143 promptly', async () => {
    const root = await makeRuntimeRoot();
    const id = await started(root, { init: true, cmd: ['sleep', '1000'] });
    const commands = async () => (await root.runtime.top(id)).Processes.map((p) => p[7]);
    for (let i = 0; i < 100 && (await commands())[1] !== 'sleep 1000'; i++) await sleep(20);
    expect(await commands()).toEqual(['/sbin/docker-init -- sleep 1000', 'sleep 1000']);
    const r = await timedStop(root, id);
    expect(r.exitCode).toBe(143);
    expect(r.seconds).toBeLessThan(GRACE / 6);
    await root.runtime.remove(id);
  });

  it('with init: true, orphans are reaped: a zombie generator leaves no zombies (without init, it does)', async () => {
    const root = await makeRuntimeRoot();
    // Each (sleep &) orphan reparents to PID 1 when its subshell exits; only a PID 1 that waits reaps it.
    // An orphan that has just exited is a zombie until PID 1 reaps it: the count is read until it is what
    // the test expects (2 s at most), so a reaping init reads 0 and one that never reaps keeps its 8.
    const zombies = async (init: boolean, expected: number) => {
      const orphan = "sh -c 'while [ ! -e /go ]; do sleep 0.02; done'";
      const id = await started(root, { init, ...sh(`for i in 1 2 3 4 5 6 7 8; do (${orphan} &); done; echo spawned; exec sleep 1000`) });
      for (let i = 0; i < 100 && !(await logText(root, id)).includes('spawned'); i++) await sleep(20);
      await root.runtime.execCapture(id, { cmd: ['touch', '/go'] });
      // Live processes leave the cgroup's task list when they exit; wait until every orphan has.
      const cmdline = (p: number) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8'); } catch { return ''; } };
      const orphansLive = () => root.runtime.cgroups.pids(id).filter((p) => cmdline(p).startsWith('sh\0-c\0while')).length;
      for (let i = 0; i < 200 && orphansLive() > 0; i++) await sleep(20);
      expect(orphansLive()).toBe(0);
      // Zombies are no longer in the cgroup's task list: look at PID 1's children.
      const pid1 = (await root.runtime.inspect(id)).State.Pid;
      const count = () => readFileSync(`/proc/${pid1}/task/${pid1}/children`, 'utf8').trim().split(' ').filter(Boolean).filter((p) => {
        try {
          const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
          return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
        } catch {
          return false; // reaped between the two reads
        }
      }).length;
      let n = count();
      for (let i = 0; i < 100 && n !== expected; i++) {
        await sleep(20);
        n = count();
      }
      await root.runtime.remove(id, { force: true });
      return n;
    };
    expect(await zombies(true, 0)).toBe(0);
    expect(await zombies(false, 8)).toBe(8);
  });

  it('kill sends the signal to PID 1; SIGKILL ends the container with 137', async () => {
    const root = await makeRuntimeRoot();
    const id = await started(root, sh('trap "echo usr1" USR1; echo ready; while true; do sleep 0.05; done'));
    for (let i = 0; i < 100 && !(await logText(root, id)).includes('ready'); i++) await sleep(20);
    await root.runtime.kill(id, 'USR1');
    for (let i = 0; i < 100 && !(await logText(root, id)).includes('usr1'); i++) await sleep(20);
    expect(await logText(root, id)).toContain('usr1');
    expect((await root.runtime.inspect(id)).State.Running).toBe(true);
    await root.runtime.kill(id);
    expect((await root.runtime.waitExit(id)).exitCode).toBe(137);
    await root.runtime.remove(id);
  });

  it('restarts: the same container runs again, its writable layer kept', async () => {
    const root = await makeRuntimeRoot();
    const id = await started(root, sh('echo run >> /runs; cat /runs | wc -l; sleep 1000'));
    for (let i = 0; i < 100 && !(await logText(root, id)).includes('1'); i++) await sleep(20);
    await root.runtime.restart(id, { timeout: 1 });
    for (let i = 0; i < 100 && !(await logText(root, id)).includes('2'); i++) await sleep(20);
    expect((await root.runtime.inspect(id)).State.Running).toBe(true);
    await root.runtime.stop(id);
    expect((await logText(root, id)).trim().split('\n')).toEqual(['1', '2']);
    await root.runtime.remove(id);
  });
});
