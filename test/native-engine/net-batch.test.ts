import { describe, expect, it, vi } from 'vitest';

// How the Engine gathers the network work of one process into batches (net-batch.ts). The network
// module is replaced by a recorder: what is checked is which containers go together, not the kernel.
const calls = vi.hoisted(() => [] as string[]);
vi.mock('../../src/network/batch.js', () => ({
  attachContainers: async () => [],
  setContainersRunning: async () => undefined,
  releaseOnStops: async (ids: string[]) => void calls.push(`release ${ids.join(',')}`),
  detachRemoved: async (ids: string[]) => void calls.push(`detach ${ids.join(',')}`),
}));

// What the network holds: containers named "none-*" are of network none (nothing to release or detach).
vi.mock('../../src/network/presence.js', () => ({
  onOurNetworks: (ids: string[]) => ids.filter((id) => !id.startsWith('none-')),
  withNetworkRemnants: (ids: string[]) => ids.filter((id) => !id.startsWith('none-')),
}));

const { NetworkBatcher } = await import('../../src/engine/native/engine/net-batch.js');

function batcher(onLoad: () => void = () => undefined): InstanceType<typeof NetworkBatcher> {
  let queue: Promise<unknown> = Promise.resolve();
  return new NetworkBatcher(<T>(fn: () => Promise<T>) => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  }, () => {
    onLoad();
    return import('../../src/network/batch.js');
  });
}

describe('network batches of the native Engine', () => {
  it('stops and removals asked for side by side go as one batch each', async () => {
    calls.length = 0;
    const b = batcher();
    await Promise.all([b.stopped('a'), b.stopped('b'), b.stopped('c')]);
    await Promise.all([b.removed('a'), b.removed('b'), b.removed('c')]);
    expect(calls).toEqual(['release a,b,c', 'detach a,b,c']);
  });

  it('removals wait while a stop is under way (a chain of stops is not held up by detaches), then go together', async () => {
    calls.length = 0;
    const b = batcher();
    // A chain: c stops, is removed while b stops, b is removed while a stops.
    let ended = b.stopping();
    await b.stopped('c');
    ended();
    ended = b.stopping();
    const removals = [b.removed('c')];
    await b.stopped('b');
    ended();
    ended = b.stopping();
    removals.push(b.removed('b'));
    await b.stopped('a');
    ended();
    removals.push(b.removed('a'));
    await Promise.all(removals);
    expect(calls).toEqual(['release c', 'release b', 'release a', 'detach c,b,a']);
  });

  it('a drain that comes between two stops of a chain (the one ended, the next not begun) holds the removals too', async () => {
    vi.useFakeTimers();
    try {
      calls.length = 0;
      const b = batcher();
      let ended = b.stopping();
      const removals = [b.removed('c')];
      ended();
      // A removal queued just then runs a drain at once, before the next stop of the chain has begun.
      removals.push(b.removed('d'));
      await vi.advanceTimersByTimeAsync(5);
      ended = b.stopping();
      await vi.advanceTimersByTimeAsync(100);
      expect(calls).toEqual([]);
      ended();
      await vi.advanceTimersByTimeAsync(100);
      await Promise.all(removals);
      expect(calls).toEqual(['detach c,d']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a removal with no stop under way is not held', async () => {
    calls.length = 0;
    const b = batcher();
    await b.removed('x');
    expect(calls).toEqual(['detach x']);
  });

  it('stops and removals of containers the network holds nothing of are done without loading the batches', async () => {
    calls.length = 0;
    let loads = 0;
    const b = batcher(() => loads++);
    await Promise.all([b.stopped('none-1'), b.stopped('none-2')]);
    await b.removed('none-1');
    expect(loads).toBe(0);
    await Promise.all([b.stopped('none-3'), b.stopped('y')]);
    await Promise.all([b.removed('none-3'), b.removed('y')]);
    expect(calls).toEqual(['release y', 'detach y']);
    expect(loads).toBe(2);
  });
});
