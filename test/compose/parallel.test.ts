import { describe, expect, it } from 'vitest';
import { limitParallelism } from '../../src/compose/parallel.js';
import type { Engine } from '../../src/engine/types.js';

/** A stand-in engine (the unit under test is the limiter) whose starts last until released, counting how many overlap. */
function countingEngine() {
  let running = 0;
  const seen = { max: 0, order: [] as string[] };
  const pending: (() => void)[] = [];
  const containers = {
    calls: 0,
    start(id: string): Promise<void> {
      this.calls++;
      running++;
      seen.max = Math.max(seen.max, running);
      seen.order.push(id);
      return new Promise<void>((done) =>
        pending.push(() => {
          running--;
          done();
        }),
      );
    },
    wait(): Promise<{ exitCode: number }> {
      return new Promise(() => {}); // never ends: must not hold a slot
    },
  };
  const engine = { backend: 'native', containers, networks: {}, volumes: {}, images: {}, info: async () => ({}), events: () => [], close: async () => {} } as unknown as Engine;
  return { engine, seen, containers, releaseAll: () => { for (const p of pending.splice(0)) p(); } };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('limitParallelism (--parallel, COMPOSE_PARALLEL_LIMIT)', () => {
  it('runs at most N changing operations at once, the rest in order as slots free', async () => {
    const w = countingEngine();
    const e = limitParallelism(w.engine, 2);
    const all = ['a', 'b', 'c', 'd', 'e'].map((id) => e.containers.start(id));
    await tick();
    expect(w.seen.order).toEqual(['a', 'b']);
    while (w.seen.order.length < 5) {
      w.releaseAll();
      await tick();
    }
    w.releaseAll();
    await Promise.all(all);
    expect(w.seen.max).toBe(2);
    expect(w.seen.order).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(w.containers.calls).toBe(5); // `this` stayed the engine's own object
  });

  it('does not count waits, and -1 (or 0) is no limit', async () => {
    const w = countingEngine();
    const e = limitParallelism(w.engine, 1);
    void e.containers.wait('x');
    void e.containers.wait('y');
    const started = e.containers.start('a');
    await tick();
    expect(w.seen.order).toEqual(['a']);
    w.releaseAll();
    await started;
    expect(limitParallelism(w.engine, -1)).toBe(w.engine);
    expect(limitParallelism(w.engine, 0)).toBe(w.engine);
  });
});
