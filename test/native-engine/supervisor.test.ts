import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { ready, useNativeEngine } from './harness.js';
import { BUSYBOX } from './support.js';

/**
 * The supervisor on the real kernel: healthchecks and restart policies
 * carried out by the long-lived daemon (one process for every container),
 * visible to inspect from any process, surviving the CLI that started the
 * container and a daemon killed with -9. Durations in the specs differ by
 * orders of magnitude (100 ms against an hour), so that what is checked is
 * which schedule ran, never how fast.
 */
const HOUR = 3_600_000;

describe('supervisor: healthchecks', () => {
  const t = useNativeEngine();

  it('probes a container started by a CLI that has exited; health reads the same from any process', async () => {
    const up = await t.compose(['up', '-d'], `
services:
  web:
    image: ${BUSYBOX}
    command: ["sh", "-c", "sleep 0.5; touch /tmp/ready; exec sleep 3600"]
    init: true
    network_mode: none
    healthcheck: { test: ["CMD-SHELL", "test -f /tmp/ready && echo ok"], interval: 100ms, retries: 100 }
`);
    expect(up.code, up.stderr).toBe(0);
    const d = await t.until('netest-web-1', (c) => c.health === 'healthy');
    expect(d.healthLog.at(-1)).toMatchObject({ exitCode: 0, output: 'ok\n' });
    expect((await t.compose(['ps'])).stdout).toMatch(/netest-web-1 .*Up .* \(healthy\)/);
    const inspect = await t.compose(['ps', '--format', 'json']);
    expect(inspect.stdout).toContain('"Health":"healthy"');
    expect(t.daemons()).toHaveLength(1);
    expect((await t.compose(['down'])).code).toBe(0);
  });

  it('during the start period, probes run at the start interval and failures do not count', async () => {
    // The container becomes ready only after a probe has failed (each failing probe leaves a mark),
    // so at least one failure precedes the success however late the first probe runs.
    const slow = await t.container({
      cmd: ['sh', '-c', 'until [ -f /tmp/probed ]; do sleep 0.05; done; touch /tmp/ready; exec sleep 3600'],
      init: true,
      healthcheck: { test: ['CMD-SHELL', 'test -f /tmp/ready || { touch /tmp/probed; exit 1; }'], interval: HOUR, startPeriod: HOUR, startInterval: 100, retries: 1 },
    });
    // Healthy within seconds: only the start interval can have scheduled those probes.
    const d = await t.until(slow, (c) => c.health === 'healthy');
    expect(d.healthLog.length).toBeGreaterThan(1);
    expect(d.healthLog.slice(0, -1).every((l) => l.exitCode === 1)).toBe(true);
    expect(d.status).toMatch(/\(healthy\)$/);

    const failing = await t.container({ cmd: ['sleep', '3600'], init: true, healthcheck: { test: ['CMD', 'false'], interval: HOUR, startPeriod: HOUR, startInterval: 100, retries: 1 } });
    const f = await t.until(failing, (c) => c.healthLog.length >= 3);
    expect(f.health).toBe('starting');
    expect(f.status).toMatch(/\(health: starting\)$/);
  });

  it('without a start period the first probe waits a whole interval', async () => {
    const id = await t.container({ cmd: ['sleep', '3600'], init: true, healthcheck: { test: ['CMD', 'true'], interval: HOUR, startInterval: 50 } });
    const other = await t.container({ cmd: ['sleep', '3600'], init: true, healthcheck: { test: ['CMD', 'true'], interval: 100 } });
    await t.until(other, (c) => c.health === 'healthy');
    const d = await t.inspect(id);
    expect(d.health).toBe('starting');
    expect(d.healthLog).toEqual([]);
  });

  it('turns unhealthy after `retries` failures in a row, with a probe killed at its timeout reported as Docker does', async () => {
    const id = await t.container({ cmd: ['sleep', '3600'], init: true, healthcheck: { test: ['CMD-SHELL', 'echo failing >&2; exit 3'], interval: 100, retries: 3 } });
    const d = await t.until(id, (c) => c.health === 'unhealthy');
    expect(d.healthLog.length).toBeGreaterThanOrEqual(3);
    expect(d.healthLog.at(-1)).toMatchObject({ exitCode: 3, output: 'failing\n' });

    const slow = await t.container({ cmd: ['sleep', '3600'], init: true, healthcheck: { test: ['CMD', 'sleep', '30'], interval: 100, timeout: 300, retries: 1 } });
    const s = await t.until(slow, (c) => c.health === 'unhealthy');
    expect(s.healthLog.at(-1)).toMatchObject({ exitCode: -1, output: 'Health check exceeded timeout (300ms)' });
    // The timed-out probe was killed: only PID 1 and its child are left in the container.
    const top = await t.engine().containers.top(slow);
    expect(top.processes.filter((p) => p.join(' ').includes('sleep 30'))).toEqual([]);
  });

  it('the image\'s healthcheck applies unless the container disables it with NONE', async () => {
    await ready(t);
    const store = await (await import('../../src/engine/native/image/index.js')).ImageStore.open(`${t.root().state}/image`);
    const { commitContainer } = await import('../../src/build/commit.js');
    const base = await t.container({ cmd: ['true'] }, false);
    await commitContainer({ store, runtime: await t.engine().deps.runtime() }, base, {
      tag: 'tsc-test/with-health:1',
      changes: ['HEALTHCHECK --interval=100ms CMD echo from-image', 'CMD ["sleep", "3600"]'],
    });
    const withImage = await t.container({ image: 'tsc-test/with-health:1', cmd: ['sleep', '3600'], init: true });
    const d = await t.until(withImage, (c) => c.health === 'healthy');
    expect(d.healthLog.at(-1)!.output).toBe('from-image\n');
    const none = await t.container({ image: 'tsc-test/with-health:1', cmd: ['sleep', '3600'], init: true, healthcheck: { test: ['NONE'] } });
    await sleep(500);
    expect((await t.inspect(none)).health).toBeUndefined();
  });
});

describe('supervisor: restart policies', () => {
  const t = useNativeEngine();

  it('always: a PID 1 killed from outside comes back (RestartCount 1); an explicit stop is never undone', async () => {
    const id = await t.container({ cmd: ['sleep', '3600'], restart: { name: 'always' } });
    const before = await t.inspect(id);
    process.kill(before.pid, 'SIGKILL');
    const after = await t.until(id, (c) => c.restartCount === 1 && c.state === 'running');
    expect(after.pid).not.toBe(before.pid);
    expect(after.restartPolicy).toEqual({ name: 'always' });

    await t.engine().containers.stop(id, 1);
    await sleep(1000);
    expect(await t.inspect(id)).toMatchObject({ state: 'exited', restartCount: 1 });
    // An explicit start opens a new count.
    await t.engine().containers.start(id);
    expect(await t.inspect(id)).toMatchObject({ state: 'running', restartCount: 0 });
    await t.engine().containers.kill(id, 'SIGKILL');
    await sleep(1000);
    expect((await t.inspect(id)).state).toBe('exited');
  });

  it('on-failure:2 restarts a failing container twice, with Docker\'s backoff, then leaves it exited; exit 0 is not a failure', async () => {
    const id = await t.container({ cmd: ['sh', '-c', 'exit 3'], restart: { name: 'on-failure', maxRetries: 2 } });
    const d = await t.until(id, (c) => c.restartCount === 2 && c.state === 'exited', 30_000);
    await sleep(1500);
    expect(await t.inspect(id)).toMatchObject({ state: 'exited', exitCode: 3, restartCount: 2 });
    expect(d.error).toBeUndefined();

    const ok = await t.container({ cmd: ['true'], restart: { name: 'on-failure' } });
    await t.until(ok, (c) => c.state === 'exited');
    await sleep(1000);
    expect(await t.inspect(ok)).toMatchObject({ state: 'exited', exitCode: 0, restartCount: 0 });
  });

  it('a container that keeps failing is seen restarting while it waits out its growing backoff', async () => {
    const id = await t.container({ cmd: ['sh', '-c', 'exit 1'], restart: { name: 'always' } });
    const d = await t.until(id, (c) => c.state === 'restarting', 30_000);
    expect(d.status).toMatch(/^Restarting \(1\)/);
    expect(d.restartCount).toBeGreaterThan(0);
    // A stop during the wait cancels the restart.
    await t.engine().containers.stop(id);
    const s = await t.until(id, (c) => c.state === 'exited');
    await sleep(4000);
    expect((await t.inspect(id)).restartCount).toBe(s.restartCount);
  });

  it('unless-stopped survives a crash but not a user\'s kill, whatever the signal', async () => {
    const id = await t.container({ cmd: ['sh', '-c', 'trap "exit 9" HUP; while :; do sleep 0.1; done'], restart: { name: 'unless-stopped' }, stopSignal: 'SIGTERM' });
    process.kill((await t.inspect(id)).pid, 'SIGKILL');
    await t.until(id, (c) => c.restartCount === 1 && c.state === 'running');
    await t.engine().containers.kill(id, 'SIGHUP');
    await t.until(id, (c) => c.state === 'exited');
    await sleep(1000);
    expect(await t.inspect(id)).toMatchObject({ state: 'exited', exitCode: 9, restartCount: 1 });
  });

  it('one daemon for all; killed with -9, it is back by itself, restarts what exited meanwhile and resumes a restart it was waiting out', async () => {
    const ids = await Promise.all([1, 2, 3].map(() => t.container({ cmd: ['sleep', '3600'], restart: { name: 'always' }, healthcheck: { test: ['CMD', 'true'], interval: 100 } })));
    for (const id of ids) await t.until(id, (c) => c.health === 'healthy');
    const daemons = t.daemons();
    expect(daemons).toHaveLength(1);
    // A container waiting out a long backoff (its fifth quick failure: 1.6 s) when the daemon dies.
    const flaky = await t.container({ cmd: ['sh', '-c', 'exit 1'], restart: { name: 'always' } });
    await t.until(flaky, (c) => c.restartCount >= 4 && c.state === 'restarting', 30_000);
    const waiting = (await t.inspect(flaky)).restartCount;
    // The victim dies while no daemon runs: its keeper starts one, which finds the exit and restarts it.
    const victim = await t.inspect(ids[0]!);
    process.kill(t.daemons()[0]!, 'SIGKILL');
    process.kill(victim.pid, 'SIGKILL');
    const back = await t.until(ids[0]!, (c) => c.state === 'running' && c.restartCount === 1);
    expect(back.pid).not.toBe(victim.pid);
    expect(t.daemons()).toHaveLength(1);
    expect(t.daemons()).not.toContain(daemons[0]);
    // Its health starts over with the new run; the others' carry on.
    expect((await t.until(ids[0]!, (c) => c.health === 'healthy')).healthLog.length).toBeGreaterThan(0);
    // The restart the dead daemon was waiting out happened all the same.
    await t.until(flaky, (c) => c.restartCount > waiting, 30_000);
    await t.engine().containers.stop(flaky);
  });

  it('--rm containers are removed when they exit, by the supervisor', async () => {
    // Its volume's name is read before the start: a second later (sooner than a loaded machine answers) it is all gone.
    const id = await t.container({ cmd: ['sh', '-c', 'sleep 1'], autoRemove: true, mounts: [{ type: 'volume', source: '', target: '/scratch' }] }, false);
    const volume = (await t.inspect(id)).mounts[0]!.name!;
    await t.engine().containers.start(id);
    // The container goes first, then its anonymous volume: wait (bounded) for both.
    for (let i = 0; i < 200 && ((await t.engine().containers.inspect(id)) || (await t.engine().volumes.inspect(volume))); i++) await sleep(50);
    expect(await t.engine().containers.inspect(id)).toBeUndefined();
    expect(await t.engine().volumes.inspect(volume)).toBeUndefined();
  });
});
