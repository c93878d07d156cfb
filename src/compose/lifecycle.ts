import type { Engine } from '../engine/types.js';
import { observe } from '../planner/observe.js';
import type { ObservedState } from '../planner/observed.js';
import { planKill, planPause, planRemove, planRestart, planStartFromLabels, planStop, selectContainers } from '../planner/lifecycle.js';
import { reconcile } from '../planner/reconcile.js';
import { UserError } from '../util/errors.js';
import { runPlan } from './converge.js';
import type { PlanResult } from './down.js';
import { loadedProject, type ProjectRef } from './project.js';
import { Reporter, type ComposeListener } from './progress.js';

/**
 * start, stop, restart, kill, rm, pause, unpause: each plans single
 * operations on the project's existing containers (of `services`, or all)
 * and runs them through the executor, so a dry run shows them and progress
 * reads like `up`'s.
 */

export interface ServicesOptions {
  services?: string[];
  dryRun?: boolean;
}

async function observed(engine: Engine, project: ProjectRef): Promise<ObservedState> {
  return observe(engine, project.name, loadedProject(project));
}

export interface StartOptions extends ServicesOptions {
  /** Wait until they run (and are healthy, when they have a healthcheck). */
  wait?: boolean;
  waitTimeoutMs?: number;
}

/**
 * `start`: the existing containers, in dependency order with the
 * dependencies' conditions when the file is loaded (only from their labels
 * when it is not).
 */
export async function start(engine: Engine, project: ProjectRef, o: StartOptions = {}, listener?: ComposeListener): Promise<PlanResult> {
  const state = await observed(engine, project);
  const containers = selectContainers(state, o.services ?? []);
  if (!containers.length) throw new UserError('no containers to start', 1, 'create them with `up` or `create` first');
  const file = loadedProject(project);
  const plan = file
    ? reconcile(file, state, { services: o.services ?? [], onlyExisting: true, wait: o.wait, waitTimeoutMs: o.waitTimeoutMs })
    : planStartFromLabels(containers);
  return runPlan(engine, plan, 'Starting', new Reporter(listener), o.dryRun, file);
}

export interface StopOptions extends ServicesOptions {
  /** Seconds between the stop signal and SIGKILL; absent: each container's own. */
  timeout?: number;
}

export async function stop(engine: Engine, project: ProjectRef, o: StopOptions = {}, listener?: ComposeListener): Promise<PlanResult> {
  const plan = planStop(selectContainers(await observed(engine, project), o.services ?? []), o.timeout);
  return runPlan(engine, plan, 'Stopping', new Reporter(listener), o.dryRun, loadedProject(project));
}

export interface RestartOptions extends StopOptions {
  /** Leave the services that depend on the restarted ones alone. */
  noDeps?: boolean;
}

export async function restart(engine: Engine, project: ProjectRef, o: RestartOptions = {}, listener?: ComposeListener): Promise<PlanResult> {
  const plan = planRestart(await observed(engine, project), o.services ?? [], o.timeout, o.noDeps ?? false);
  return runPlan(engine, plan, 'Restarting', new Reporter(listener), o.dryRun);
}

export interface KillOptions extends ServicesOptions {
  /** Default SIGKILL. */
  signal?: string;
  /** The orphans (containers of services no longer in the file) too. */
  removeOrphans?: boolean;
}

export async function kill(engine: Engine, project: ProjectRef, o: KillOptions = {}, listener?: ComposeListener): Promise<PlanResult> {
  const state = await observed(engine, project);
  const targets = selectContainers(state, o.services ?? []);
  if (o.removeOrphans) targets.push(...state.orphans);
  return runPlan(engine, planKill(targets, o.signal ?? 'SIGKILL'), 'Killing', new Reporter(listener), o.dryRun);
}

export interface RmOptions extends ServicesOptions {
  /** Stop running containers first (else only stopped ones are removed). */
  stop?: boolean;
  /** Their anonymous volumes too. */
  volumes?: boolean;
  /**
   * Asked with the names before anything is removed (the CLI's "Are you
   * sure?"); false leaves everything. Not asked under dryRun or when absent.
   */
  confirm?: (names: string[]) => Promise<boolean>;
}

export interface RmResult extends Partial<PlanResult> {
  /** The containers removed (or, under dryRun, to be removed); empty when there were none or `confirm` said no. */
  removed: string[];
  /** `confirm` said no. */
  cancelled?: boolean;
}

export async function rm(engine: Engine, project: ProjectRef, o: RmOptions = {}, listener?: ComposeListener): Promise<RmResult> {
  const state = await observed(engine, project);
  const plan = planRemove(selectContainers(state, o.services ?? []), { stop: o.stop, volumes: o.volumes }, state);
  const names = plan.nodes.filter((n) => n.op.kind === 'RemoveContainer').map((n) => ('container' in n.op ? n.op.container.name : ''));
  if (!names.length) return { removed: [] };
  if (o.confirm && !o.dryRun && !(await o.confirm(names))) return { removed: [], cancelled: true };
  return { removed: names, ...(await runPlan(engine, plan, 'Removing', new Reporter(listener), o.dryRun)) };
}

export async function pause(engine: Engine, project: ProjectRef, o: ServicesOptions = {}, listener?: ComposeListener): Promise<PlanResult> {
  const plan = planPause(selectContainers(await observed(engine, project), o.services ?? []), true);
  return runPlan(engine, plan, 'Pausing', new Reporter(listener), o.dryRun);
}

export async function unpause(engine: Engine, project: ProjectRef, o: ServicesOptions = {}, listener?: ComposeListener): Promise<PlanResult> {
  const plan = planPause(selectContainers(await observed(engine, project), o.services ?? []), false);
  return runPlan(engine, plan, 'Unpausing', new Reporter(listener), o.dryRun);
}
