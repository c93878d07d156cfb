import { describe, it, expect, afterEach, beforeAll } from 'vitest';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cgroupsOf, checkNoLeaks, ensureBuilt, makeRuntimeRoot, processesOf } from './helpers.js';

beforeAll(ensureBuilt);
afterEach(checkNoLeaks);

/**
 * State survives what kills processes: a monitor killed with SIGKILL, a host
 * "reboot" (every process gone, the run root wiped, cgroups left behind as a
 * crash would leave them). ls, inspect and rm still work and clean up.
 */
describe('runtime: after a crash or a reboot', () => {
  it('a killed monitor takes its container with it; ls shows it exited, rm cleans up', async () => {
    const root = await makeRuntimeRoot();
    const id = root.cli(['container', 'run', '-d', '--network', 'none', '--name', 'victim', 'busybox', 'sleep', '1000']).stdout.trim();
    const { State } = await root.runtime.inspect(id);
    const monitors = processesOf(root.state);
    expect(monitors).toHaveLength(1);
    process.kill(monitors[0]!, 'SIGKILL');
    // PID 1 dies with its parent (PDEATHSIG), and the pid namespace with it.
    for (let i = 0; i < 250 && existsSync(`/proc/${State.Pid}`); i++) await sleep(20);
    expect(existsSync(`/proc/${State.Pid}`)).toBe(false);
    const info = await root.runtime.inspect(id);
    expect(info.State).toMatchObject({ Status: 'exited', Running: false, ExitCode: 255 });
    expect(info.State.Error).toMatch(/monitor is gone/);
    expect(root.cli(['container', 'ls', '-a']).stdout).toMatch(/Exited \(255\) .*victim/);
    // It can be started again, and removed.
    expect(root.cli(['container', 'start', 'victim']).code).toBe(0);
    expect((await root.runtime.inspect(id)).State.Running).toBe(true);
    expect(root.cli(['container', 'rm', '-f', 'victim']).code).toBe(0);
  });

  it('after a reboot (processes gone, run root wiped, cgroups left over), ls, inspect and rm work and clean up', async () => {
    const root = await makeRuntimeRoot();
    const ids = [0, 1].map((i) => root.cli(['container', 'run', '-d', '--network', 'none', '--name', `box${i}`, 'busybox', 'sleep', '1000']).stdout.trim());
    const stopped = root.cli(['container', 'run', '--network', 'none', '--name', 'done', 'busybox', 'sh', '-c', 'exit 4']);
    expect(stopped.code).toBe(4);
    // The "reboot": every process of ours dies at once, and /run is a new tmpfs.
    for (const p of processesOf(root.state)) process.kill(p, 'SIGKILL');
    for (const id of ids) for (const pid of root.runtime.cgroups.pids(id)) process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 250 && processesOf(root.state).length; i++) await sleep(20);
    rmSync(root.run, { recursive: true, force: true });
    expect(cgroupsOf(ids).length).toBeGreaterThan(0);

    const ls = root.cli(['container', 'ls', '-a', '--format', '{{.Names}} {{.State}} {{.Status}}']);
    expect(ls.stdout.trim().split('\n').sort()).toEqual([
      expect.stringMatching(/^box0 exited Exited \(255\)/),
      expect.stringMatching(/^box1 exited Exited \(255\)/),
      expect.stringMatching(/^done exited Exited \(4\)/),
    ]);
    expect(JSON.parse(root.cli(['container', 'inspect', 'box0']).stdout)[0].State).toMatchObject({ Status: 'exited', Pid: 0, ExitCode: 255 });
    expect(root.cli(['container', 'rm', 'box0', 'box1', 'done']).code).toBe(0);
    expect(cgroupsOf(ids)).toEqual([]);
    expect(readdirSync(join(root.state, 'containers')).filter((n) => /^[0-9a-f]{64}$/.test(n))).toEqual([]);
    expect(readdirSync(join(root.state, 'image', 'rw'))).toEqual([]);
  });

  it('a failed start leaves the container as it was: startable once the cause is fixed, nothing leaked', async () => {
    const root = await makeRuntimeRoot();
    const id = await root.create({ cmd: ['/bin/app'] });
    await expect(root.runtime.start(id)).rejects.toThrow(/stat \/bin\/app: no such file or directory/);
    expect(cgroupsOf([id])).toEqual([]);
    expect(processesOf(root.state)).toEqual([]);
    expect((await root.runtime.inspect(id)).State.Status).toBe('created');
    const script = join(root.dir, 'app');
    writeFileSync(script, '#!/bin/sh\necho fixed\n', { mode: 0o755 });
    await root.runtime.copyTo(id, script, '/bin/app');
    await root.runtime.start(id);
    expect((await root.runtime.waitExit(id)).exitCode).toBe(0);
    let out = '';
    for await (const e of root.runtime.logs(id)) out += `${e.line}\n`;
    expect(out).toBe('fixed\n');
    await root.runtime.remove(id);
  });

  it('a create that crashed half-way (dir and root filesystem made, no record) is cleaned up by the next ls', async () => {
    const root = await makeRuntimeRoot();
    const id = 'ab'.repeat(32);
    const dir = join(root.state, 'containers', id);
    mkdirSync(dir, { recursive: true });
    // Its creator: a process that has exited since.
    const dead = spawnSync('true').pid!;
    writeFileSync(join(dir, 'name'), `crashed\n${dead} 1\n`);
    await root.store.prepareRootfs(id, 'busybox');
    expect(readdirSync(join(root.state, 'image', 'rw'))).toEqual([id]);
    // The name is free again, and ls sweeps the debris.
    const again = await root.create({ name: 'crashed', cmd: ['true'] });
    expect(await root.runtime.list({ all: true })).toHaveLength(1);
    expect(existsSync(dir)).toBe(false);
    expect(readdirSync(join(root.state, 'image', 'rw'))).toEqual([again]);
    await root.runtime.remove(again);
  });
});

