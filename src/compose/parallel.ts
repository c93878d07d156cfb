import type { Engine } from '../engine/types.js';

/**
 * `--parallel N` / COMPOSE_PARALLEL_LIMIT: at most N engine operations that
 * change something (create, start, stop, remove, pull, build, ...) run at
 * once, whichever verb and planner step asks for them, as Compose bounds its
 * API calls. Reads (list, inspect, logs, events) and waits are not bounded: a
 * wait holding a slot while the start it waits for queues behind it would
 * never end. N ≤ 0 means no limit (Compose's default, -1).
 */
export function limitParallelism(engine: Engine, limit: number): Engine {
  if (!(limit > 0)) return engine;
  const slot = semaphore(limit);
  // A Proxy keeps `this` the engine's own object for every method, bounded or not.
  const bound = <T extends object>(api: T, methods: readonly (keyof T & string)[]): T =>
    new Proxy(api, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== 'function') return value;
        const fn = value as (...args: unknown[]) => unknown;
        if (!(methods as readonly (string | symbol)[]).includes(prop)) return fn.bind(target);
        return (...args: unknown[]) => slot(() => fn.apply(target, args) as Promise<unknown>);
      },
    });
  const limited: Engine = {
    backend: engine.backend,
    containers: bound(engine.containers, ['create', 'start', 'stop', 'restart', 'kill', 'remove', 'rename', 'pause', 'unpause']),
    networks: bound(engine.networks, ['create', 'remove', 'connect', 'disconnect']),
    volumes: bound(engine.volumes, ['create', 'remove']),
    images: bound(engine.images, ['pull', 'push', 'build', 'remove']),
    info: () => engine.info(),
    events: (filter, signal) => engine.events(filter, signal),
    close: () => engine.close(),
  };
  return limited;
}

/** Runs each task when fewer than `limit` run, in the order they came. */
function semaphore(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const queue: (() => void)[] = [];
  const release = () => {
    running--;
    queue.shift()?.();
  };
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((go) => queue.push(go));
    running++;
    try {
      return await task();
    } finally {
      release();
    }
  };
}
