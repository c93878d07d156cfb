import type { ContainerSummary, Engine } from '../engine/types.js';
import type { Project } from '../project/types.js';
import { follow, type FollowResult } from './attach.js';
import { projectContainers } from './containers.js';
import type { LogConsumer } from './logs-consumer.js';
import type { ComposeListener } from './progress.js';
import { watch, type WatchEvent, type WatchOptions } from './watch.js';

/** What a foreground `up --watch` follows, and how it watches. */
export interface FollowWatchingOptions {
  consumer: LogConsumer;
  /** The services whose output is followed (a filter on service names). */
  wanted: (service: string) => boolean;
  abortOn?: 'exit' | 'failure';
  since: number;
  /** Ends following and watching. */
  signal: AbortSignal;
  watch: Omit<WatchOptions, 'signal' | 'noUp'>;
}

/**
 * `up --watch` after the project is up: the services' output is followed
 * (per service) while `watch` applies the rules; when a rebuild replaces a
 * service's containers (or a rule restarts them), that service's containers
 * are followed again from then on, the others' output going on undisturbed. A service whose
 * containers all exited waits for a rebuild; the whole ends with the signal
 * (or with an abortOn exit), as a foreground `up` does.
 */
export async function followWatching(engine: Engine, project: Project, o: FollowWatchingOptions, listener?: ComposeListener): Promise<FollowResult> {
  const all = new AbortController();
  const onAbort = () => all.abort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  const replaced = new Map<string, AbortController>();
  const restartedAt = new Map<string, number>();
  const exitCodes = new Map<string, number>();
  let trigger: FollowResult['trigger'];

  const onEvent = (e: WatchEvent) => {
    o.watch.onEvent?.(e);
    // A restart ends the followed runs as a rebuild does: the service's containers are followed again.
    if (e.type === 'rebuilt' || e.type === 'restarted') {
      restartedAt.set(e.service, e.since);
      replaced.get(e.service)?.abort();
    }
  };
  const containersOf = async (service: string): Promise<ContainerSummary[]> =>
    projectContainers(engine, project.name, { all: true, oneoff: false, services: [service] });

  const followService = async (service: string, first: ContainerSummary[]): Promise<void> => {
    let list = first;
    let since = o.since;
    while (!all.signal.aborted) {
      const ctl = new AbortController();
      replaced.set(service, ctl);
      const r = await follow(engine, project.name, list, o.consumer, { since, ...(o.abortOn ? { abortOn: o.abortOn } : {}), signal: AbortSignal.any([all.signal, ctl.signal]) });
      for (const [id, code] of r.exitCodes) exitCodes.set(id, code);
      if (r.reason === 'abort') {
        trigger ??= r.trigger;
        all.abort();
        return;
      }
      // All exited: nothing to follow until a restart or a rebuild runs them again.
      if (r.reason === 'all-exited') await aborted(AbortSignal.any([all.signal, ctl.signal]));
      if (all.signal.aborted) return;
      since = restartedAt.get(service) ?? Date.now() / 1000;
      list = await containersOf(service);
    }
  };

  const services = Object.keys(project.services).filter(o.wanted);
  const initial = await Promise.all(services.map(containersOf));
  const watching = watch(engine, project, { ...o.watch, noUp: true, signal: all.signal, onEvent }, listener);
  try {
    await Promise.all([watching.finally(() => all.abort()), ...services.map((s, i) => followService(s, initial[i]!))]);
  } finally {
    all.abort();
    o.signal.removeEventListener('abort', onAbort);
  }
  return { reason: trigger ? 'abort' : 'interrupted', trigger, exitCodes };
}

function aborted(signal: AbortSignal): Promise<void> {
  return signal.aborted ? Promise.resolve() : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
