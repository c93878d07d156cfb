import { existsSync, watch, type FSWatcher } from 'node:fs';
import { NotFoundError } from '../../../util/errors.js';
import { ContainerPaths, deriveStatus, type DerivedStatus } from './store.js';
import type { ExitInfo } from './types.js';

/**
 * Waiting for a container to stop running, from any process: the monitor's
 * exit record appears with a rename in the container's dir (inotify wakes us
 * at once), and a slow poll catches a monitor that died without writing one.
 */
const POLL_MS = 200;

export function exitInfo(st: DerivedStatus): ExitInfo {
  return { exitCode: st.exitCode, oomKilled: st.oomKilled, finishedAt: st.finishedAt, ...(st.error ? { error: st.error } : {}) };
}

/** Resolves when the container is not running; with a timeout, resolves undefined if it still runs then. */
export function waitNotRunning(id: string, timeoutMs?: number): Promise<DerivedStatus | undefined> {
  const paths = new ContainerPaths(id);
  return new Promise((resolve, reject) => {
    let watcher: FSWatcher | undefined;
    let timer: NodeJS.Timeout | undefined;
    let poll: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (v: DerivedStatus | undefined, err?: Error) => {
      if (done) return;
      done = true;
      watcher?.close();
      if (timer) clearTimeout(timer);
      if (poll) clearInterval(poll);
      if (err) reject(err);
      else resolve(v);
    };
    const check = () => {
      if (done) return;
      if (!existsSync(paths.config)) return finish(undefined, new NotFoundError('container', id));
      let st: DerivedStatus;
      try {
        st = deriveStatus(id);
      } catch (err) {
        return finish(undefined, err as Error);
      }
      if (st.status !== 'running') finish(st);
    };
    try {
      watcher = watch(paths.dir, (_event, file) => {
        if (file === 'exit') check();
      });
      watcher.on('error', () => check());
    } catch {
      /* the dir is gone: check() reports it */
    }
    poll = setInterval(check, POLL_MS);
    if (timeoutMs !== undefined && timeoutMs >= 0) timer = setTimeout(() => finish(undefined), timeoutMs);
    check();
  });
}
