import type { Engine } from '../engine/types.js';
import type { Project } from '../project/types.js';
import { execute, throwIfFailed, type ExecuteResult } from '../planner/execute.js';
import { planImages, runImageActions, type ImageAction, type ImageOptions } from '../planner/images.js';
import { observe } from '../planner/observe.js';
import type { Plan } from '../planner/plan.js';
import type { ObservedState } from '../planner/observed.js';
import { reconcile, selectServices, type ReconcileOptions } from '../planner/reconcile.js';
import { checkPortConflicts } from '../planner/port-conflicts.js';
import { checkSupport } from '../planner/service-support.js';
import { serviceHooks } from '../planner/hooks.js';
import type { Reporter } from './progress.js';

/**
 * What `up`, `create` and `run` share: what to do with existing containers
 * (the planner's options), and with images before them (`--pull`, `--build`,
 * `--no-build`, `--quiet-pull`); `dryRun` plans and returns the plan, changing
 * nothing; aborting `signal` lets running operations finish and starts no new ones.
 */
export interface CreateOptions extends ReconcileOptions, Omit<ImageOptions, 'services'> {}

export interface Converged {
  /** The images pulled or built first (under dryRun: those that would be). */
  images: ImageAction[];
  plan: Plan;
  /** What the executor did; absent under dryRun. */
  result?: ExecuteResult;
}

/**
 * The heart of `up`, `create` and `run`'s dependencies: images (pull or
 * build), observe, reconcile, execute. Under dryRun it stops after the plan,
 * having changed nothing (images to be pulled or built are assumed made).
 */
export async function converge(engine: Engine, project: Project, o: CreateOptions, report: Reporter, title: string): Promise<Converged> {
  const { selected } = selectServices(project, o);
  const services = [...new Set([...selected, ...(o.infraOnly ?? [])])].sort();
  // What the engine cannot honour stops here, before any image is pulled or object created.
  const warnings = checkSupport(project, engine.backend, services);
  checkPortConflicts(project, services);
  for (const w of warnings) report.warning(w);
  const imageOptions = { services, pull: o.pull, build: o.build, noBuild: o.noBuild, quietPull: o.quietPull, dryRun: o.dryRun, signal: o.signal };
  const images = await planImages(project, engine, imageOptions);

  if (o.dryRun) {
    const observed = await observe(engine, project.name, project);
    for (const a of images) {
      observed.images[a.ref] ??= {
        id: `sha256:<${a.action === 'pull' ? 'pulled' : 'built'} ${a.ref}>`,
        config: { entrypoint: [], cmd: [], env: [], workingDir: '', user: '', exposedPorts: [], volumes: [], labels: {} },
      };
    }
    return { images, plan: reconcile(project, observed, o) };
  }

  return report.block(title, async () => {
    if (images.length) await runImageActions(project, engine, images, report.progress, imageOptions);
    const observed = await observe(engine, project.name, project);
    const plan = reconcile(project, observed, o);
    for (const w of plan.warnings) report.warning(w);
    reportRunning(plan, observed, services, report);
    const result = await execute(plan, engine, report.progress, { signal: o.signal, hooks: serviceHooks(project) });
    throwIfFailed(result);
    return { images, plan, result };
  });
}

/**
 * Compose's `Container x  Running`: a container of the services that runs and that the plan leaves
 * alone is reported as running, as Compose's convergence does (a no-op `up` prints one line per
 * container). A wait (`up --wait`) changes nothing, so its container is reported too.
 */
function reportRunning(plan: Plan, observed: ObservedState, services: readonly string[], report: Reporter): void {
  const touched = new Set<string>();
  for (const n of plan.nodes) {
    const c = 'container' in n.op ? n.op.container : undefined;
    if (c && 'id' in c && n.op.kind !== 'WaitContainer') touched.add(c.id);
  }
  for (const service of services) {
    for (const c of observed.containers[service] ?? []) {
      if (c.summary.state === 'running' && !touched.has(c.id)) report.progress({ id: `Container ${c.name}`, status: 'done', text: 'Running' });
    }
  }
}

/**
 * Runs a plan of the other verbs (down, stop, start...) in a block of progress: no images, nothing to
 * decide; with the loaded `project`, its services' hooks run around starts and stops.
 */
export async function runPlan(engine: Engine, plan: Plan, title: string, report: Reporter, dryRun = false, project?: Project): Promise<{ plan: Plan; result?: ExecuteResult }> {
  if (dryRun) return { plan };
  return report.block(title, async () => {
    for (const w of plan.warnings) report.warning(w);
    const result = await execute(plan, engine, report.progress, { hooks: serviceHooks(project) });
    throwIfFailed(result);
    return { plan, result };
  });
}
