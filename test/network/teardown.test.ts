import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../../src/util/proc.js';
import { processStartTime } from '../../src/util/lock.js';
import {
  createNetwork,
  detachContainer,
  listNetworks,
  pruneNetworks,
  removeNetwork,
} from '../../src/network/index.js';
import { NotFoundError } from '../../src/util/errors.js';
import { repoRoot } from '../support/cache.js';
import { FakeContainer, containerId, daemonPid, setUpNetEnv, tearDownNetEnv, type NetEnv } from './support.js';
import { findLeaks, formatLeaks, daemonPids, mountsUnder, taggedLinkNames } from './leaks.js';

// Acceptance 4: after teardown, and after kill -9 of every process of ours followed by cleanup,
// links, namespaces, firewall rules and the run directory hold nothing of ours.

const cli = (env: NetEnv, ...args: string[]) => run(join(repoRoot, 'bin/tscompose'), args, { env: { ...process.env, ...env.env } });

async function expectClean(env: NetEnv): Promise<void> {
  const leaks = await findLeaks({ runRoot: env.runRoot, waitForDaemonMs: 5000 });
  expect(leaks ? formatLeaks(leaks) : 'nothing').toBe('nothing');
  expect((await run('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.includes(env.runRoot))).toEqual([]);
}

describe('teardown', () => {
  let env: NetEnv;
  const containers: FakeContainer[] = [];

  beforeEach(async () => {
    env = await setUpNetEnv();
    containers.length = 0;
  });
  afterEach(async () => {
    await tearDownNetEnv(env, containers);
  });

  async function populate(): Promise<void> {
    await createNetwork({ name: 'front' });
    await createNetwork({ name: 'back', internal: true, subnet: '10.213.0.0/24' });
    containers.push(await FakeContainer.start('proxy', [{ network: 'front' }, { network: 'back' }], [{ target: 80, protocol: 'tcp' }, { target: 53, protocol: 'udp' }]));
    containers.push(await FakeContainer.start('app', [{ network: 'back', aliases: ['app'] }]));
    containers.push(await FakeContainer.start('web', [{ network: 'front' }], [{ target: 8080, protocol: 'tcp' }]));
    expect(taggedLinkNames().length).toBe(6); // 2 bridges, 4 veths
    expect(mountsUnder(env.runRoot).length).toBe(3);
  }

  it('detach and network rm take everything away, and doing it again is harmless', async () => {
    await populate();
    for (const c of containers) {
      await c.stop();
      await detachContainer(c.id);
      await detachContainer(c.id);
    }
    expect((await cli(env, 'network', 'rm', 'front', 'back')).code).toBe(0);
    await expectClean(env);
    await expect(removeNetwork('front')).rejects.toThrow(NotFoundError);
    expect(await pruneNetworks()).toEqual([]);
    await detachContainer(containerId()); // never attached: nothing to do, no error
    await expectClean(env);
  });

  it('after kill -9 of every process of ours (daemon, containers, a CLI mid-operation), prune cleans up', async () => {
    await populate();
    // A process attaching and detaching in a loop, killed in the middle of whatever it is doing.
    const churn = spawn(process.execPath, [join(repoRoot, 'test/network/fixtures/churn.mjs'), join(repoRoot, 'dist/network/index.js'), 'front'], {
      env: { ...process.env, ...env.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let progress = '';
    churn.stdout!.on('data', (d) => (progress += d.toString()));
    while (!/attached 3/.test(progress) && churn.exitCode === null) await sleep(5);
    expect(churn.exitCode).toBeNull();
    churn.kill('SIGKILL');
    for (const c of containers) await c.kill();
    const daemon = (await daemonPid())!;
    process.kill(daemon, 'SIGKILL');
    while (processStartTime(daemon) !== undefined) await sleep(10);
    expect(daemonPids(env.runRoot)).toEqual([]);
    expect(taggedLinkNames().length).toBeGreaterThan(6);

    const r = await cli(env, 'network', 'prune', '--force');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/Deleted Networks:\n(front\nback|back\nfront)\n/);
    await expectClean(env);
    expect(listNetworks()).toEqual([]);

    // And the host converges: the same again works from scratch.
    await createNetwork({ name: 'front' });
    const again = await FakeContainer.start('again', [{ network: 'front' }], [{ target: 80, protocol: 'tcp' }]);
    containers.push(again);
    expect((await again.exec(['ip', '-4', '-br', 'addr', 'show', 'eth0'])).stdout).toContain(again.ip);
  });

  it('network rm after a crash clears what dead containers left on it', async () => {
    await populate();
    for (const c of containers) await c.kill(); // the containers die; nobody detaches them
    expect((await cli(env, 'network', 'rm', 'front')).code).toBe(0);
    expect((await cli(env, 'network', 'rm', 'back')).code).toBe(0);
    expect(taggedLinkNames()).toEqual([]);
    // Their namespace handles are the containers' until they are removed (or pruned as orphans).
    for (const c of containers) await detachContainer(c.id);
    await expectClean(env);
  });
});
