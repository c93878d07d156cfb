import type { DaemonService } from '../../../network/daemon/service.js';
import { supervised } from '../engine/lifecycle.js';
import { engineIds, hasEngineRecord, readEngineRecord } from '../engine/records.js';
import type { ContainerWatcher, WatcherContext } from './watcher.js';

/**
 * The supervisor, a service of the long-lived daemon (one per run root, one
 * Node process for every container, started on demand): healthchecks,
 * restart policies and the removal of --rm containers. The Engine tells it
 * about a container with the `supervise` op after each start, stop or
 * removal; on its own start it scans every container the Engine recorded, so
 * a killed daemon's successor carries on (and after a reboot, `always`
 * containers start again). It keeps the daemon alive while any container it
 * looks after runs or waits to be restarted.
 */
export function supervisorService(log: (msg: string) => void): DaemonService {
  const watchers = new Map<string, ContainerWatcher>();
  // Until its first scan is done, the supervisor does not know whether it has work: the daemon
  // must not leave on a request answered in the meantime (the ping of whoever started it).
  let scanned = false;
  // The Engine's parts load when there is a first container to look after: a daemon that serves
  // only networks never pays for them.
  let loaded: Promise<{ ctx: WatcherContext; Watcher: typeof ContainerWatcher }> | undefined;
  const load = () =>
    (loaded ??= (async () => {
      const [{ EngineDeps }, { NativeContainers }, { ContainerWatcher: Watcher }] = await Promise.all([
        import('../engine/deps.js'),
        import('../engine/containers.js'),
        import('./watcher.js'),
      ]);
      const deps = new EngineDeps(true);
      const done = (id: string, w: ContainerWatcher) => {
        if (watchers.get(id) === w) watchers.delete(id);
        if (watchers.size === 0) idle();
      };
      return { ctx: { deps, containers: new NativeContainers(deps), log, done }, Watcher };
    })());

  // The daemon weighs leaving after each request it answers: when the last container is let go on
  // the supervisor's own initiative (an exit, a --rm removal), a request to ourselves has it look.
  const idle = () =>
    setImmediate(() => {
      void import('../../../network/daemon/client.js').then(({ callDaemon }) => callDaemon({ op: 'ping' }, { start: false })).catch(() => undefined);
    });

  const look = async (id: string): Promise<void> => {
    let w = watchers.get(id);
    if (!w || !w.active) {
      const { ctx, Watcher } = await load();
      w = watchers.get(id);
      if (!w || !w.active) {
        w = new Watcher(id, ctx);
        watchers.set(id, w);
      }
    }
    await w.sync();
  };

  return {
    name: 'supervisor',
    async start() {
      const ids = engineIds().filter((id) => hasEngineRecord(id) && supervised(readEngineRecord(id)));
      try {
        await Promise.all(ids.map(look));
      } finally {
        scanned = true;
      }
      if (watchers.size) log(`supervisor: looking after ${watchers.size} container(s)`);
    },
    async reload() {
      // Each watcher looks again, but the reload does not wait for them: a watcher removing an
      // --rm container asks the daemon to reload (its network went), and would wait for itself.
      for (const w of watchers.values()) void w.sync();
    },
    ops: {
      async supervise(req) {
        const id = String(req.id);
        if (!/^[0-9a-f]{64}$/.test(id)) throw new Error(`invalid container id "${id}"`);
        await look(id);
        return { supervised: watchers.has(id) };
      },
    },
    keepsAlive: () => !scanned || watchers.size > 0,
    status: () => ({ containers: [...watchers.keys()] }),
    async stop() {
      for (const w of watchers.values()) w.dispose();
      watchers.clear();
    },
  };
}
