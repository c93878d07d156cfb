import type { ContainerSummary, Engine } from '../engine/types.js';
import { Label } from '../planner/labels.js';
import { UserError } from '../util/errors.js';
import { byCodeUnits } from '../util/order.js';

/** How Compose v2 shows a container in front of its lines and in messages: its name without the project prefix. */
export function displayName(c: { name: string }, project: string): string {
  return c.name.startsWith(`${project}-`) ? c.name.slice(project.length + 1) : c.name;
}

export function serviceOf(c: ContainerSummary): string {
  return c.labels[Label.service] ?? '';
}

/** A project's containers by label, sorted by name; `services` narrows them (all when empty). */
export async function projectContainers(
  engine: Engine,
  project: string,
  o: { all?: boolean; services?: readonly string[]; oneoff?: boolean } = {},
): Promise<ContainerSummary[]> {
  const labels: Record<string, string> = { [Label.project]: project };
  if (o.oneoff !== undefined) labels[Label.oneoff] = o.oneoff ? 'True' : 'False';
  let list = await engine.containers.list({ all: o.all ?? false, labels });
  if (o.services?.length) list = list.filter((c) => o.services!.includes(serviceOf(c)));
  return list.sort((a, b) => byCodeUnits(a.name, b.name));
}

/** The container of a service replica, by number (not a one-off), or a sentence that says what is there. */
export async function serviceContainer(engine: Engine, project: string, service: string, index: number, running = true): Promise<ContainerSummary> {
  const list = await engine.containers.list({
    all: true,
    labels: { [Label.project]: project, [Label.service]: service, [Label.oneoff]: 'False' },
  });
  const c = list.find((x) => x.labels[Label.containerNumber] === String(index));
  if (!c) {
    if (!list.length) throw new UserError(`service "${service}" is not running`, 1, `start it with \`up -d ${service}\``);
    throw new UserError(`service "${service}" has no container with index ${index}`, 1, `indexes: ${list.map((x) => x.labels[Label.containerNumber]).sort().join(', ')}`);
  }
  if (running && c.state !== 'running') throw new UserError(`container ${c.name} is not running (${c.status})`, 1, `start it with \`start ${service}\``);
  return c;
}
