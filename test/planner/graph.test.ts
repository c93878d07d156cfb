import { describe, expect, it } from 'vitest';
import { assertAcyclic, inDependencyOrder, inReverseDependencyOrder, serviceGraph, type DependencyGraph } from '../../src/planner/graph.js';
import { UserError } from '../../src/util/errors.js';
import { load } from '../project/helpers.js';

async function graphOf(yaml: string): Promise<DependencyGraph> {
  return serviceGraph((await load(yaml)).project);
}

/** A visitor that records start and end events and holds each visit until the test releases it. */
function recorder() {
  const events: string[] = [];
  const gates = new Map<string, () => void>();
  const started = new Map<string, () => void>();
  const startedPromises = new Map<string, Promise<void>>();
  const whenStarted = (id: string) => {
    if (!startedPromises.has(id)) startedPromises.set(id, new Promise((r) => started.set(id, r)));
    return startedPromises.get(id)!;
  };
  const visit = async (id: string) => {
    events.push(`start ${id}`);
    whenStarted(id);
    started.get(id)!();
    await new Promise<void>((r) => gates.set(id, r));
    events.push(`end ${id}`);
  };
  const release = async (id: string) => {
    await whenStarted(id);
    gates.get(id)!();
    await new Promise((r) => setImmediate(r));
  };
  return { events, visit, release, whenStarted };
}

describe('service graph', () => {
  it('has a node per service, network and named volume, with edges to what each needs', async () => {
    const g = await graphOf(
      'services:\n  web: {image: x, depends_on: [db], links: [cache], networks: [front]}\n  db: {image: d, volumes: ["data:/d"]}\n  cache: {image: c, network_mode: "service:db"}\nnetworks: {front: {}}\nvolumes: {data: {}}\n',
    );
    expect(g.nodes().sort()).toEqual(['network:default', 'network:front', 'service:cache', 'service:db', 'service:web', 'volume:data']);
    expect(g.successors('service:web')!.sort()).toEqual(['network:front', 'service:cache', 'service:db']);
    expect(g.successors('service:db')!.sort()).toEqual(['network:default', 'volume:data']);
    expect(g.successors('service:cache')).toEqual(['service:db']);
  });

  it('visits a node once all its dependencies finished, independent nodes in parallel', async () => {
    const g = await graphOf('services:\n  web: {image: x, depends_on: [db, cache]}\n  db: {image: d}\n  cache: {image: c}\n');
    const r = recorder();
    const done = inDependencyOrder(g, r.visit);
    // The network comes first (every service joins it), then db and cache together; web waits for both.
    await r.whenStarted('network:default');
    expect(r.events).toEqual(['start network:default']);
    await r.release('network:default');
    await Promise.all(['service:cache', 'service:db'].map(r.whenStarted));
    expect(r.events.slice(2).sort()).toEqual(['start service:cache', 'start service:db']);
    await r.release('service:db');
    expect(r.events).not.toContain('start service:web');
    await r.release('service:cache');
    await r.release('service:web');
    await done;
    expect(r.events.at(-1)).toBe('end service:web');
  });

  it('reverse order visits dependents first (tear-down)', async () => {
    const g = await graphOf('services:\n  web: {image: x, depends_on: [db]}\n  db: {image: d}\n');
    const order: string[] = [];
    await inReverseDependencyOrder(g, async (id) => {
      order.push(id);
    });
    expect(order.indexOf('service:web')).toBeLessThan(order.indexOf('service:db'));
    expect(order.indexOf('service:db')).toBeLessThan(order.indexOf('network:default'));
  });

  it('honours a concurrency limit', async () => {
    const g = await graphOf('services:\n  a: {image: x}\n  b: {image: x}\n  c: {image: x}\n  d: {image: x}\n');
    let running = 0;
    let peak = 0;
    await inDependencyOrder(
      g,
      async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setImmediate(r));
        running--;
      },
      { concurrency: 2 },
    );
    expect(peak).toBe(2);
  });

  it('stops starting nodes after a failure and rejects with it, letting running visits finish', async () => {
    const g = await graphOf('services:\n  web: {image: x, depends_on: [db]}\n  db: {image: d}\n  other: {image: o}\n');
    const visited: string[] = [];
    const err = await inDependencyOrder(g, async (id) => {
      visited.push(id);
      if (id === 'service:db') throw new Error('db failed');
      await new Promise((r) => setImmediate(r));
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('db failed');
    expect(visited).not.toContain('service:web');
  });

  it('detects cycles and prints their path', async () => {
    // The loader refuses cycles, so make one in a loaded project by hand.
    const { project } = await load('services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [c]}\n  c: {image: x}\n');
    project.services.c!.depends_on.a = { condition: 'service_started', required: true, restart: false };
    const g = serviceGraph(project);
    expect(() => assertAcyclic(g)).toThrow(UserError);
    expect(() => assertAcyclic(g)).toThrow('dependency cycle: a -> b -> c -> a');
    await expect(inDependencyOrder(g, async () => {})).rejects.toThrow('a -> b -> c -> a');
  });
});
