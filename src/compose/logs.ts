import type { Engine } from '../engine/types.js';
import { Label } from '../planner/labels.js';
import { UserError } from '../util/errors.js';
import { logSource } from './attach.js';
import { projectContainers } from './containers.js';
import type { LogConsumer } from './logs-consumer.js';
import type { ProjectRef } from './project.js';

export interface LogsOptions {
  services?: string[];
  follow?: boolean;
  /** Last N lines of each container; absent: all. */
  tail?: number;
  /** Unix seconds. */
  since?: number;
  until?: number;
  timestamps?: boolean;
  /** Only the replica with this number. */
  index?: number;
  /** Ends a `follow`. */
  signal?: AbortSignal;
}

/** `logs`: the output of the project's containers (all of them, stopped ones too), each to `consumer`. */
export async function logs(engine: Engine, project: ProjectRef, o: LogsOptions, consumer: LogConsumer): Promise<void> {
  let containers = await projectContainers(engine, project.name, { all: true });
  for (const s of o.services ?? []) {
    if (!containers.some((c) => c.labels[Label.service] === s)) throw new UserError(`no container found for service "${s}"`);
  }
  if (o.services?.length) containers = containers.filter((c) => o.services!.includes(c.labels[Label.service] ?? ''));
  if (o.index !== undefined) containers = containers.filter((c) => c.labels[Label.containerNumber] === String(o.index));
  const sources = containers.map((c) => logSource(c, project.name));
  consumer.start?.(sources);
  await Promise.all(
    sources.map(async (s) => {
      for await (const line of engine.containers.logs(s.id, { follow: o.follow, tail: o.tail, since: o.since, until: o.until, timestamps: o.timestamps, signal: o.signal })) {
        consumer.line(s, line);
      }
    }),
  );
}
