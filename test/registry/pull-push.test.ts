import { describe, it, expect } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pullImage, pushImage, storeCredentials, login, type ProgressFn } from '../../src/engine/native/registry/index.js';
import type { TransferProgress } from '../../src/engine/types.js';
import { makeRuntimeRoot, runToEnd, sh } from '../runtime/helpers.js';
import { registryFixture } from './fixture.js';

/**
 * Acceptance 1: against a real registry server (Basic auth, then a token
 * server), an image pushed from one store is pulled into an empty one and
 * runs there.
 */

const fx = registryFixture();

function recorder(): { events: TransferProgress[]; fn: ProgressFn } {
  const events: TransferProgress[] = [];
  return { events, fn: (p) => events.push(p) };
}

describe('registry: push and pull against docker-registry', () => {
  it('with htpasswd Basic auth: push needs the login, then pull into an empty store and run', async () => {
    const registry = await fx.start('htpasswd');
    const root = await makeRuntimeRoot();
    const ref = `${registry.host}/team/busybox:1.0`;
    await root.store.tag('busybox:latest', ref);

    await expect(pushImage(root.store, ref)).rejects.toThrow(/unauthorized|login/i);
    await storeCredentials(registry.host, registry.user!);
    const push = recorder();
    const pushed = await pushImage(root.store, ref, { onProgress: push.fn });
    expect(pushed.layers.map((l) => l.action)).toEqual(['pushed']);
    expect(push.events.some((e) => e.status === 'Pushed')).toBe(true);
    expect(pushed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    // A second push finds the layer in the registry (HEAD) and uploads nothing.
    const again = await pushImage(root.store, ref);
    expect(again.layers.map((l) => l.action)).toEqual(['exists']);
    expect(again.digest).toBe(pushed.digest);

    const original = await root.store.get(ref);
    const store2 = await fx.emptyStore();
    const pull = recorder();
    const pulled = await pullImage(store2, ref, { onProgress: pull.fn });
    expect(pulled.image.id).toBe(original.id);
    expect(pulled.image.chainIds).toEqual(original.chainIds);
    expect(pulled.digest).toBe(pushed.digest);
    expect(pulled.fetched).toBe(1);
    expect(pulled.image.repoDigests).toContain(`${registry.host}/team/busybox@${pushed.digest}`);
    expect(pull.events.map((e) => e.status)).toContain('Pull complete');
    expect(pull.events.some((e) => e.status === 'Downloading' && e.total !== undefined && e.current === e.total)).toBe(true);

    // The pulled image runs on the runtime (a runtime over the second store).
    const { ContainerRuntime } = await import('../../src/engine/native/runtime/index.js');
    const rt2 = await ContainerRuntime.open({ images: store2 });
    const id = await rt2.create({ image: ref, cmd: ['sh', '-c', 'echo pulled-and-running; cat /etc/passwd | head -1'] });
    root.ids.add(id);
    await rt2.start(id);
    expect((await rt2.waitExit(id)).exitCode).toBe(0);
    let out = '';
    for await (const e of rt2.logs(id)) out += `${e.line}\n`;
    expect(out).toContain('pulled-and-running');
    expect(out).toContain('root:x:0:0');
    await rt2.remove(id);

    // Pulling again: up to date after one HEAD, nothing downloaded.
    const again2 = await pullImage(store2, ref);
    expect(again2.upToDate).toBe(true);
    expect(again2.fetched).toBe(0);
  });

  it('behind a token server: anonymous pull, authenticated push, mount across repositories', async () => {
    const registry = await fx.start('token');
    const root = await makeRuntimeRoot();
    const ref = `${registry.host}/library/busybox:latest`;
    await root.store.tag('busybox:latest', ref);

    // Anonymous tokens carry pull only: the registry refuses the push.
    await expect(pushImage(root.store, ref)).rejects.toThrow(/unauthorized|denied|login/i);
    await expect(login(registry.host, { username: registry.user!.username, password: 'wrong' })).rejects.toThrow(/refused|incorrect|unauthorized/i);
    await login(registry.host, registry.user!);
    const pushed = await pushImage(root.store, ref);
    expect(pushed.layers[0]!.action).toBe('pushed');
    expect(registry.tokenRequests.some((r) => r.account === 'alice' && r.scope.includes('repository:library/busybox:pull,push'))).toBe(true);

    // Another repository of the same registry: the layer is mounted, not uploaded.
    const other = `${registry.host}/other/copy:v1`;
    await root.store.tag('busybox:latest', other);
    const mounted = await pushImage(root.store, other);
    expect(mounted.layers[0]).toMatchObject({ action: 'mounted', from: 'library/busybox' });

    // Anonymous pull into an empty store, with the token flow.
    fx.resetDockerConfig();
    const store2 = await fx.emptyStore();
    const before = registry.tokenRequests.length;
    const pulled = await pullImage(store2, ref);
    expect(pulled.image.id).toBe((await root.store.get(ref)).id);
    const anon = registry.tokenRequests.slice(before);
    expect(anon.length).toBeGreaterThan(0);
    expect(anon.every((r) => r.account === undefined)).toBe(true);
    expect(anon.some((r) => r.scope.includes('repository:library/busybox:pull'))).toBe(true);

    const r = await runToEnd(root, { image: pulled.image.id, ...sh('echo from-token-registry') });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('from-token-registry\n');
    await root.runtime.remove(r.id);
  });

  it('pushes in chunks when asked, and pulls what it pushed', async () => {
    const registry = await fx.start('none');
    const root = await makeRuntimeRoot();
    const ref = `${registry.host}/chunked/busybox:2`;
    await root.store.tag('busybox:latest', ref);
    const pushed = await pushImage(root.store, ref, { chunkSize: 256 * 1024 });
    expect(pushed.layers[0]!.action).toBe('pushed');
    const store2 = await fx.emptyStore();
    const pulled = await pullImage(store2, ref);
    expect(pulled.image.id).toBe((await root.store.get(ref)).id);
    expect(readdirSync(join(store2.root, 'tmp'))).toEqual([]);

    // An image on top of it: its base layer is in the store already and is not fetched again.
    const { commitContainer } = await import('../../src/build/commit.js');
    const r = await runToEnd(root, { image: ref, ...sh('echo more > /more') });
    const child = await commitContainer({ store: root.store, runtime: root.runtime }, r.id, { tag: `${registry.host}/chunked/child:1` });
    await root.runtime.remove(r.id);
    await pushImage(root.store, `${registry.host}/chunked/child:1`);
    const events: string[] = [];
    const second = await pullImage(store2, `${registry.host}/chunked/child:1`, { onProgress: (p) => events.push(p.status) });
    expect(second.image.id).toBe(child.id);
    expect(second.reused).toBe(1);
    expect(second.fetched).toBe(1);
    expect(events).toContain('Already exists');
  });
});
