import type { Project } from '../project/types.js';
import { Label, defaultImageName } from './labels.js';
import type { ObservedContainer, ObservedState } from './observed.js';
import { PlanBuilder, type Plan } from './plan.js';

export interface DownOptions {
  /** The compose file, when there is one (`down -p name` works without: labels say everything). */
  project?: Project;
  /** Only these services' containers (networks and volumes stay). */
  services?: string[];
  removeOrphans?: boolean;
  /** `-v`: named volumes too (anonymous volumes always go with their containers). */
  volumes?: boolean;
  /** `--rmi local|all`. */
  rmi?: 'local' | 'all';
  timeout?: number;
}

/**
 * The `down` plan: stop containers in reverse dependency order (a service
 * stops after everything that depends on it, independent ones in parallel),
 * remove them with their anonymous volumes, then the project's networks, and
 * with -v its named volumes, with --rmi its images. Dependencies are read
 * from the containers' `depends_on` labels, so it works without the file.
 */
export function planDown(observed: ObservedState, options: DownOptions = {}): Plan {
  const b = new PlanBuilder();
  const only = options.services?.length ? new Set(options.services) : undefined;
  let containers: ObservedContainer[] = Object.values(observed.containers).flat();
  if (only) containers = containers.filter((c) => only.has(c.service));
  if (!only) containers.push(...observed.oneoffs);
  if (observed.orphans.length) {
    if (options.removeOrphans || !options.project) containers.push(...observed.orphans);
    else {
      b.warnings.push(
        `Found orphan containers ([${observed.orphans.map((o) => o.name).join(', ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`,
      );
    }
  }
  const removes = stopAndRemove(b, containers, options.timeout, 'down');
  removeAnonymousVolumes(b, observed, containers, removes);

  if (only) return b.build();
  for (const key of Object.keys(observed.networks).sort()) {
    b.add({ kind: 'RemoveNetwork', name: observed.networks[key]!.name }, `network:${key}`, 'down', removes);
  }
  if (options.volumes) {
    for (const key of Object.keys(observed.volumes).sort()) {
      b.add({ kind: 'RemoveVolume', name: observed.volumes[key]!.name }, `volume:${key}`, 'down -v', removes);
    }
  }
  if (options.rmi) {
    for (const ref of imagesToRemove(observed, containers, options)) {
      b.add({ kind: 'RemoveImage', ref }, `image:${ref}`, `down --rmi ${options.rmi}`, removes, { optional: true });
    }
  }
  return b.build();
}

/**
 * Stops (what runs) in reverse dependency order and removes each container
 * after its own stop; returns the remove nodes.
 */
export function stopAndRemove(b: PlanBuilder, containers: ObservedContainer[], timeout: number | undefined, reason: string, remove = true): number[] {
  const stops = planStops(b, containers, timeout, reason, remove);
  if (!remove) return [...stops.values()];
  return containers.map((c) =>
    b.add({ kind: 'RemoveContainer', container: { id: c.id, name: c.name }, volumes: true, force: true }, resourceOf(c), reason, [stops.get(c.id)]),
  );
}

/**
 * Stop nodes by container id, each after the stops of the containers that depend on it; `thenRemove`
 * when the caller plans each container's removal after its stop.
 */
export function planStops(b: PlanBuilder, containers: ObservedContainer[], timeout: number | undefined, reason: string, thenRemove = false): Map<string, number> {
  const stops = new Map<string, number>();
  walkServices(containers, 'dependents', (_service, members, before) =>
    members.filter(isActive).map((c) => {
      const n = b.add({ kind: 'StopContainer', container: { id: c.id, name: c.name }, timeout, ...(thenRemove ? { thenRemove } : {}) }, resourceOf(c), reason, before);
      stops.set(c.id, n);
      return n;
    }),
  );
  return stops;
}

/**
 * Visits the services of `containers` so that each comes after the services
 * it depends on (`dependencies`) or after those depending on it
 * (`dependents`), as the containers' depends_on labels say. `emit` plans a
 * service's operations after the nodes it is given and returns them; a
 * service that plans nothing passes its own predecessors on, so the order
 * still holds across it. A cycle in the labels is broken, not followed.
 */
export function walkServices(
  containers: ObservedContainer[],
  direction: 'dependencies' | 'dependents',
  emit: (service: string, members: ObservedContainer[], before: number[]) => number[],
): void {
  const byService = new Map<string, ObservedContainer[]>();
  for (const c of containers) byService.set(c.service, [...(byService.get(c.service) ?? []), c]);
  const edges = new Map<string, Set<string>>();
  for (const c of containers) {
    for (const dep of dependsOnOf(c)) {
      if (dep === c.service || !byService.has(dep)) continue;
      const [from, to] = direction === 'dependencies' ? [c.service, dep] : [dep, c.service];
      edges.set(from, (edges.get(from) ?? new Set()).add(to));
    }
  }
  const done = new Map<string, number[]>();
  const visiting = new Set<string>();
  const visit = (service: string): number[] => {
    const known = done.get(service);
    if (known) return known;
    if (visiting.has(service)) return [];
    visiting.add(service);
    const before = [...new Set([...(edges.get(service) ?? [])].sort().flatMap(visit))];
    const nodes = emit(service, byService.get(service) ?? [], before);
    const result = nodes.length ? nodes : before;
    done.set(service, result);
    visiting.delete(service);
    return result;
  };
  for (const service of [...byService.keys()].sort()) visit(service);
}

/**
 * The anonymous volumes of removed containers go with them. The engine drops
 * those it made itself; a replacement's inherited ones are mounted by name,
 * so they are removed here explicitly, after every container using them.
 * Optional: one still used outside the project stays, with a warning.
 */
export function removeAnonymousVolumes(b: PlanBuilder, observed: ObservedState, containers: ObservedContainer[], removes: number[]): void {
  const named = new Set(Object.values(observed.volumes).map((v) => v.name));
  const users = new Map<string, number[]>();
  containers.forEach((c, i) => {
    for (const m of c.summary.mounts) {
      if (m.type !== 'volume' || !m.name || named.has(m.name) || !/^[0-9a-f]{64}$/.test(m.name)) continue;
      users.set(m.name, [...(users.get(m.name) ?? []), removes[i]!]);
    }
  });
  for (const [name, deps] of [...users.entries()].sort()) {
    b.add({ kind: 'RemoveVolume', name }, `volume:${name.slice(0, 12)}`, 'anonymous', deps, { optional: true });
  }
}

function isActive(c: ObservedContainer): boolean {
  return c.summary.state === 'running' || c.summary.state === 'paused' || c.summary.state === 'restarting';
}

export function dependsOnOf(c: ObservedContainer): string[] {
  const label = c.summary.labels[Label.dependsOn];
  if (!label) return [];
  return label.split(',').map((d) => d.split(':')[0]!).filter(Boolean);
}

export function resourceOf(c: ObservedContainer): string {
  if (c.oneoff) return `container:${c.name}`;
  return `service:${c.service}:${c.number}`;
}

function imagesToRemove(observed: ObservedState, containers: ObservedContainer[], options: DownOptions): string[] {
  const refs = new Set<string>();
  const project = options.project;
  if (project) {
    for (const [name, s] of Object.entries(project.services)) {
      if (options.rmi === 'all') refs.add(s.image ?? defaultImageName(project.name, name));
      else if (!s.image) refs.add(defaultImageName(project.name, name));
    }
  } else {
    for (const c of containers) {
      const local = defaultImageName(observed.project, c.service);
      if (options.rmi === 'all' || c.summary.image === local) refs.add(c.summary.image);
    }
  }
  return [...refs].sort();
}
