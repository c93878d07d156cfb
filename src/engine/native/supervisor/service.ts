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
      const deps = new EngineDeps();
      return { ctx: { deps, containers: new NativeContainers(deps), log, done: (id: string, w: ContainerWatcher) => void (watchers.get(id) === w && watchers.delete(id)) }, Watcher };
    })());

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
      await Promise.all(ids.map(look));
      if (watchers.size) log(`supervisor: looking after ${watchers.size} container(s)`);
    },
    async reload() {
      await Promise.all([...watchers.values()].map((w) => w.sync()));
    },
    ops: {
      async supervise(req) {
        const id = String(req.id);
        if (!/^[0-9a-f]{64}$/.test(id)) throw new Error(`invalid container id "${id}"`);
        await look(id);
        return { supervised: watchers.has(id) };
      },
    },
    keepsAlive: () => watchers.size > 0,
    status: () => ({ containers: [...watchers.keys()] }),
    async stop() {
      for (const w of watchers.values()) w.dispose();
      watchers.clear();
    },
  };
}
