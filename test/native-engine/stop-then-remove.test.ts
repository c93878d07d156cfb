import { describe, expect, it } from 'vitest';
import { publishedPorts } from '../../src/network/index.js';
import { ready, useNativeEngine } from './harness.js';

/**
 * A stop the caller follows with the removal (StopOptions.thenRemove: `down`, `rm --stop`) leaves
 * the network's release (names off, ports freed) to the removal's detach, which does it anyway: a
 * chain of stops no longer takes the network lock and reloads the daemon between every two. What
 * was left is paid when the removal does not come: before a start, and at the engine's close.
 */
describe('a stop followed by its removal, on the native engine', () => {
  const t = useNativeEngine();

  async function published(): Promise<string> {
    await ready(t);
    const net = `sr${process.pid}`;
    if (!(await t.engine().networks.inspect(net))) await t.engine().networks.create({ name: net, labels: {} });
    return t.container({ cmd: ['sleep', '3600'], init: true, networkMode: undefined, networks: [{ network: net }], ports: [{ target: 80, protocol: 'tcp', hostIp: '127.0.0.1' }] });
  }

  it('leaves the release to the removal, which frees everything', async () => {
    const id = await published();
    await t.engine().containers.stop(id, undefined, undefined, { thenRemove: true });
    expect((await t.inspect(id)).state).toBe('exited');
    expect(publishedPorts(id)).toHaveLength(1); // not released by the stop
    await t.engine().containers.remove(id, { force: true });
    expect(publishedPorts(id)).toEqual([]);
    // The harness checks that nothing is left behind (veths, namespace handles, rules).
  });

  it('pays the release at close() when no removal came', async () => {
    const id = await published();
    await t.engine().containers.stop(id, undefined, undefined, { thenRemove: true });
    await t.engine().close();
    expect(publishedPorts(id)).toEqual([]);
  });

  it('pays the release before a start, not after it (the started container keeps its ports)', async () => {
    const id = await published();
    await t.engine().containers.stop(id, undefined, undefined, { thenRemove: true });
    await t.engine().containers.start(id);
    await t.engine().close();
    expect((await t.inspect(id)).state).toBe('running');
    expect(publishedPorts(id)).toHaveLength(1);
  });
});
