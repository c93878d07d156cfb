import { planStops, removeAnonymousVolumes, resourceOf, walkServices } from './down.js';
import { Label } from './labels.js';
import type { ObservedContainer, ObservedState } from './observed.js';
import { PlanBuilder, type Plan } from './plan.js';
import { UserError } from '../util/errors.js';
import { byCodeUnits } from '../util/order.js';

/**
 * Plans for the verbs that act on existing containers (stop, restart, kill,
 * pause, unpause, rm, start without a compose file). Like `down`, they read
 * the dependency order from the containers' depends_on labels.
 */

/** The containers of the named services (all, when none is named); a named service without containers is an error. */
export function selectContainers(observed: ObservedState, services: string[], what = 'container'): ObservedContainer[] {
  const all = Object.values(observed.containers).flat();
  if (!services.length) return all.sort((a, b) => byCodeUnits(a.name, b.name));
  for (const s of services) {
    if (!observed.containers[s]?.length) throw new UserError(`no ${what} found for service "${s}"`);
  }
  return all.filter((c) => services.includes(c.service)).sort((a, b) => byCodeUnits(a.name, b.name));
}

export function planStop(containers: ObservedContainer[], timeout?: number): Plan {
  const b = new PlanBuilder();
  planStops(b, containers, timeout, 'stop');
  return b.build();
}

/** Starts what is not running, each service after the services it depends on (from labels). */
export function planStartFromLabels(containers: ObservedContainer[]): Plan {
  const b = new PlanBuilder();
  walkServices(containers, 'dependencies', (_service, members, before) =>
    members
      .filter((c) => c.summary.state !== 'running')
      .map((c) => {
        const ref = { id: c.id, name: c.name };
        const op = c.summary.state === 'paused' ? ({ kind: 'UnpauseContainer', container: ref } as const) : ({ kind: 'StartContainer', container: ref } as const);
        return b.add(op, resourceOf(c), 'start', before);
      }),
  );
  return b.build();
}

/**
 * Restarts containers, each service after its dependencies; services that
 * declare `restart: true` on a restarted one are restarted after it too,
 * unless `noDeps`.
 */
export function planRestart(observed: ObservedState, services: string[], timeout: number | undefined, noDeps = false): Plan {
  const selected = new Set(selectContainers(observed, services).map((c) => c.service));
  const all = Object.values(observed.containers).flat();
  if (!noDeps) {
    let grew = true;
    while (grew) {
      grew = false;
      for (const c of all) {
        if (selected.has(c.service)) continue;
        const restartOn = (c.summary.labels[Label.dependsOn] ?? '').split(',').filter((d) => d.endsWith(':true')).map((d) => d.split(':')[0]!);
        if (restartOn.some((d) => selected.has(d))) {
          selected.add(c.service);
          grew = true;
        }
      }
    }
  }
  const b = new PlanBuilder();
  const named = (service: string) => !services.length || services.includes(service);
  walkServices(all.filter((c) => selected.has(c.service)), 'dependencies', (service, members, before) =>
    members.map((c) =>
      b.add({ kind: 'RestartContainer', container: { id: c.id, name: c.name }, timeout }, resourceOf(c), named(service) ? 'restart' : 'dependency restarted', before),
    ),
  );
  return b.build();
}

export function planKill(containers: ObservedContainer[], signal: string): Plan {
  const b = new PlanBuilder();
  for (const c of containers) {
    if (c.summary.state !== 'running' && c.summary.state !== 'restarting' && c.summary.state !== 'paused') continue;
    b.add({ kind: 'KillContainer', container: { id: c.id, name: c.name }, signal }, resourceOf(c), `kill -s ${signal}`);
  }
  return b.build();
}

export function planPause(containers: ObservedContainer[], pause: boolean): Plan {
  const b = new PlanBuilder();
  for (const c of containers) {
    const ref = { id: c.id, name: c.name };
    if (pause && c.summary.state === 'running') b.add({ kind: 'PauseContainer', container: ref }, resourceOf(c), 'pause');
    if (!pause && c.summary.state === 'paused') b.add({ kind: 'UnpauseContainer', container: ref }, resourceOf(c), 'unpause');
  }
  return b.build();
}

/** `rm`: stopped containers (with `stop`, running ones are stopped first). */
export function planRemove(containers: ObservedContainer[], o: { stop?: boolean; volumes?: boolean; timeout?: number }, observed?: ObservedState): Plan {
  const b = new PlanBuilder();
  const targets = o.stop ? containers : containers.filter((c) => !['running', 'paused', 'restarting'].includes(c.summary.state));
  const stops = o.stop ? planStops(b, targets, o.timeout, 'rm --stop', true) : new Map<string, number>();
  const removes = targets.map((c) =>
    b.add({ kind: 'RemoveContainer', container: { id: c.id, name: c.name }, volumes: o.volumes ?? false, force: o.stop }, resourceOf(c), 'rm', [stops.get(c.id)]),
  );
  if (o.volumes && observed) removeAnonymousVolumes(b, observed, targets, removes);
  return b.build();
}
