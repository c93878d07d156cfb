import type { ContainerState, ContainerSummary, Engine } from '../engine/types.js';
import { Label } from '../planner/labels.js';
import { loadedProject, type ProjectRef } from './project.js';
import { byCodeUnits } from '../util/order.js';

export interface PsOptions {
  services?: string[];
  /** Stopped containers and one-offs too (by default: running ones, and running one-offs). */
  all?: boolean;
  /** Only containers in these states (implies all). */
  status?: ContainerState[];
  /** false: not the containers of services the loaded file no longer has. */
  orphans?: boolean;
}

/** `ps`: the project's containers, sorted by name. */
export async function ps(engine: Engine, project: ProjectRef, o: PsOptions = {}): Promise<ContainerSummary[]> {
  const statuses = o.status ?? [];
  let rows = await engine.containers.list({ all: o.all || statuses.length > 0, labels: { [Label.project]: project.name } });
  if (!o.all) rows = rows.filter((c) => c.labels[Label.oneoff] !== 'True' || c.state === 'running');
  if (o.services?.length) rows = rows.filter((c) => o.services!.includes(c.labels[Label.service] ?? ''));
  if (statuses.length) rows = rows.filter((c) => statuses.includes(c.state));
  const file = loadedProject(project);
  if (file && o.orphans === false) rows = rows.filter((c) => (c.labels[Label.service] ?? '') in file.services);
  return rows.sort((a, b) => byCodeUnits(a.name, b.name));
}
