import type { Engine, EngineEvent } from '../engine/types.js';
import { planDown } from '../planner/down.js';
import { Label } from '../planner/labels.js';
import { observe } from '../planner/observe.js';
import { UserError } from '../util/errors.js';
import { projectContainers } from './containers.js';
import { runPlan } from './converge.js';
import { loadedProject, type ProjectRef } from './project.js';
import { Reporter, type ComposeListener } from './progress.js';

/** An engine event of one of the project's containers, its compose labels taken out of the attributes. */
export interface ProjectEvent {
  /** Milliseconds since the epoch. */
  time: number;
  type: string;
  action: string;
  id: string;
  service: string;
  attributes: Record<string, string>;
}

export interface EventsOptions {
  services?: string[];
  signal: AbortSignal;
  /** `--since`: replay the events from this time (ms since the epoch) first. */
  since?: number;
  /** `--until`: end at this time (ms since the epoch); in the past, end after the replay. */
  until?: number;
}

/** `events`: the project's container events as they happen (of `services`, or all), until `signal` aborts or `until` passes. */
export async function* events(engine: Engine, project: ProjectRef, o: EventsOptions): AsyncIterable<ProjectEvent> {
  // The engine ends the stream at `until` (after its replay, when that time is past: docker's --until).
  const filter = { labels: { [Label.project]: project.name }, types: ['container'], ...(o.since !== undefined ? { since: o.since } : {}), ...(o.until !== undefined ? { until: o.until } : {}) };
  for await (const e of engine.events(filter, o.signal)) {
    if (o.until !== undefined && e.time > o.until) return;
    const projected = projectEvent(e, o.services);
    if (projected) yield projected;
  }
}

/** An engine event as the project's (compose labels taken out), or undefined for a service not asked for. */
function projectEvent(e: EngineEvent, services: string[] | undefined): ProjectEvent | undefined {
  const service = e.attributes[Label.service] ?? '';
  if (services?.length && !services.includes(service)) return undefined;
  const attributes = Object.fromEntries(Object.entries(e.attributes).filter(([k]) => !k.startsWith('com.docker.compose.') && !k.startsWith('io.tscompose.')));
  return { time: e.time, type: e.type, action: e.action, id: e.id, service, attributes };
}

export interface WaitOptions {
  /** The services to wait for (at least one). */
  services: string[];
  /** `--down-project`: take the project down when the first container stops. */
  downProject?: boolean;
}

/** `wait`: until the first container of `services` stops; its exit code. */
export async function wait(engine: Engine, project: ProjectRef, o: WaitOptions, listener?: ComposeListener): Promise<{ exitCode: number }> {
  const list = await projectContainers(engine, project.name, { all: true, oneoff: false, services: o.services });
  for (const s of o.services) if (!list.some((c) => c.labels[Label.service] === s)) throw new UserError(`no container found for service "${s}"`);
  const stop = new AbortController();
  const first = await Promise.race(list.map((c) => engine.containers.wait(c.id, 'not-running', stop.signal)));
  stop.abort();
  if (o.downProject) {
    const file = loadedProject(project);
    await runPlan(engine, planDown(await observe(engine, project.name, file), file ? { project: file } : {}), 'Running', new Reporter(listener));
  }
  return { exitCode: first.exitCode };
}
