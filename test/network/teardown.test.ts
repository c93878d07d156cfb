import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../../src/util/proc.js';
import { processStartTime } from '../../src/util/lock.js';
import { deleteLinks, linkExists } from '../../src/network/links.js';
import { releaseOnStops } from '../../src/network/batch.js';
import { publishedPorts } from '../../src/network/ports/client.js';
import {
  createNetwork,
  detachContainer,
  detachContainers,
  inspectNetwork,
  listNetworks,
  pruneNetworks,
  removeNetwork,
} from '../../src/network/index.js';
import { NotFoundError } from '../../src/util/errors.js';
import { repoRoot } from '../support/cache.js';
import { containerId, daemonPid, useNetEnv, type NetEnv } from './support.js';
import { findLeaks, formatLeaks, daemonPids, keeperPids, mountsUnder, taggedLinkNames } from './leaks.js';

// Acceptance 4: after teardown, and after kill -9 of every process of ours followed by cleanup,
// links, namespaces, firewall rules and the run directory hold nothing of ours.

async function expectClean(env: NetEnv): Promise<void> {
  const leaks = await findLeaks({ runRoot: env.runRoot, waitForDaemonMs: 5000 });
  expect(leaks ? formatLeaks(leaks) : 'nothing').toBe('nothing');
  expect((await run('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.includes(env.runRoot))).toEqual([]);
}

describe('teardown', () => {
  const t = useNetEnv();

  async function populate(): Promise<void> {
    await createNetwork({ name: 'front' });
    await createNetwork({ name: 'back', internal: true, subnet: '10.213.0.0/24' });
    await t.start('proxy', [{ network: 'front' }, { network: 'back' }], ['80/tcp', '53/udp']);
    await t.start('app', [{ network: 'back', aliases: ['app'] }]);
    await t.start('web', [{ network: 'front' }], ['8080/tcp']);
    expect(taggedLinkNames().length).toBe(6); // 2 bridges, 4 veths
    expect(mountsUnder(t.env.runRoot).length).toBe(3);
  }

  it('detach and network rm take everything away, and doing it again is harmless', async () => {
    await populate();
    for (const c of t.containers) {
      await c.stop();
      await detachContainer(c.id);
      await detachContainer(c.id);
    }
    expect((await t.cli('network', 'rm', 'front', 'back')).code).toBe(0);
    await expectClean(t.env);
    await expect(removeNetwork('front')).rejects.toThrow(NotFoundError);
    expect(await pruneNetworks()).toEqual([]);
    await detachContainer(containerId()); // never attached: nothing to do, no error
    await expectClean(t.env);
  });

  it('stops and detaches of many containers in one call: ports released, everything taken, one still running included, and again is harmless', async () => {
    await populate();
    const [proxy, app, web] = t.containers as [typeof t.containers[0], typeof t.containers[0], typeof t.containers[0]];
    await proxy.kill();
    await app.kill();
    // web still runs: its namespace is inhabited, so its veths must be deleted, not left to the namespace's death.
    await releaseOnStops([proxy.id, app.id, web.id]);
    expect([proxy, app, web].map((c) => publishedPorts(c.id).length)).toEqual([0, 0, 0]);
    await detachContainers([proxy.id, app.id, web.id]);
    await detachContainers([proxy.id, app.id, web.id, containerId()]);
    expect(taggedLinkNames().length).toBe(2); // the bridges
    expect(mountsUnder(t.env.runRoot)).toEqual([]);
    for (const n of ['front', 'back']) expect(Object.keys((await inspectNetwork(n)).Containers ?? {})).toEqual([]);
    await web.kill();
    expect((await t.cli('network', 'rm', 'front', 'back')).code).toBe(0);
    await expectClean(t.env);
  });

  it('deleting links takes one that vanished meanwhile in its stride (a veth goes with its peer)', async () => {
    const [a, b] = [`tsc-v${randomBytes(5).toString('hex')}`, `tsc-v${randomBytes(5).toString('hex')}`];
    await run('ip', ['link', 'add', 'name', a, 'type', 'veth', 'peer', 'name', b]);
    try {
      // Deleting a takes b with it, so the batch's second line finds nothing: that is success, not an error.
      await deleteLinks([a, b]);
      expect([linkExists(a), linkExists(b)]).toEqual([false, false]);
    } finally {
      await run('ip', ['link', 'del', 'dev', a]);
    }
  });

  it('after kill -9 of every process of ours (daemon, containers, a CLI mid-operation), prune cleans up', async () => {
    await populate();
    // A process attaching and detaching in a loop, killed in the middle of whatever it is doing.
    const churn = spawn(process.execPath, [join(repoRoot, 'test/network/fixtures/churn.mjs'), join(t.env.build, 'network/index.js'), 'front'], {
      env: { ...process.env, ...t.env.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let progress = '';
    churn.stdout!.on('data', (d) => (progress += d.toString()));
    while (!/attached 3/.test(progress) && churn.exitCode === null) await sleep(5);
    expect(churn.exitCode).toBeNull();
    churn.kill('SIGKILL');
    for (const c of t.containers) await c.kill();
    // Its keeper first: it would start the daemon again.
    const [keeper] = keeperPids(t.env.runRoot);
    process.kill(keeper!, 'SIGKILL');
    const daemon = (await daemonPid())!;
    process.kill(daemon, 'SIGKILL');
    for (const pid of [keeper!, daemon]) while (processStartTime(pid) !== undefined) await sleep(10);
    expect(daemonPids(t.env.runRoot)).toEqual([]);
    expect(taggedLinkNames().length).toBeGreaterThan(6);

    const r = await t.cli('network', 'prune', '--force');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/Deleted Networks:\n(front\nback|back\nfront)\n/);
    await expectClean(t.env);
    expect(listNetworks()).toEqual([]);

    // And the host converges: the same again works from scratch.
    await createNetwork({ name: 'front' });
    const again = await t.start('again', [{ network: 'front' }], ['80/tcp']);
    expect((await again.exec(['ip', '-4', '-br', 'addr', 'show', 'eth0'])).stdout).toContain(again.ip);
  });

  it('network rm after a crash clears what dead containers left on it', async () => {
    await populate();
    for (const c of t.containers) await c.kill(); // the containers die; nobody detaches them
    expect((await t.cli('network', 'rm', 'front')).code).toBe(0);
    expect((await t.cli('network', 'rm', 'back')).code).toBe(0);
    expect(taggedLinkNames()).toEqual([]);
    // Their namespace handles are the containers' until they are removed (or pruned as orphans).
    for (const c of t.containers) await detachContainer(c.id);
    await expectClean(t.env);
  });
});
