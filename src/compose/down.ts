import type { Engine } from '../engine/types.js';
import { planDown } from '../planner/down.js';
import { observe } from '../planner/observe.js';
import type { Plan } from '../planner/plan.js';
import type { ExecuteResult } from '../planner/execute.js';
import { runPlan } from './converge.js';
import { loadedProject, type ProjectRef } from './project.js';
import { Reporter, type ComposeListener } from './progress.js';

export interface DownOptions {
  /** Only these services' containers (all, with one-offs and networks, when empty). */
  services?: string[];
  /** `-v`: named volumes of the file and anonymous ones of the containers too. */
  volumes?: boolean;
  /** `--rmi`: the images of the services, all or only those named after the project. */
  rmi?: 'local' | 'all';
  removeOrphans?: boolean;
  /** Stop timeout in seconds; absent: each container's own. */
  timeout?: number;
  dryRun?: boolean;
}

export interface PlanResult {
  plan: Plan;
  /** What the executor did; absent under dryRun. */
  result?: ExecuteResult;
}

/** `down`: stop and remove the project's containers, then its networks (and with options its volumes and images). */
export async function down(engine: Engine, project: ProjectRef, options: DownOptions = {}, listener?: ComposeListener): Promise<PlanResult> {
  const file = loadedProject(project);
  const observed = await observe(engine, project.name, file);
  const plan = planDown(observed, {
    ...(file ? { project: file } : {}),
    services: options.services ?? [],
    volumes: options.volumes,
    rmi: options.rmi,
    removeOrphans: options.removeOrphans,
    timeout: options.timeout,
  });
  return runPlan(engine, plan, 'Running', new Reporter(listener), options.dryRun, file);
}
