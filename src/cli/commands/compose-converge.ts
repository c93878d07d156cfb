import type { ComposeContext } from './compose-context.js';
import type { Project } from '../../project/types.js';
import type { Engine } from '../../engine/types.js';
import type { ReconcileOptions } from '../../planner/reconcile.js';
import type { Plan } from '../../planner/plan.js';
import type { ObservedState } from '../../planner/observed.js';
import type { ExecuteResult } from '../../planner/execute.js';
import type { ProgressBus } from '../progress/bus.js';
import type { PullPolicyOption } from '../../planner/images.js';

export interface ConvergeOptions extends ReconcileOptions {
  pull?: PullPolicyOption;
  build?: boolean;
  noBuild?: boolean;
  quietPull?: boolean;
  signal?: AbortSignal;
  /** The title of the progress block ("Running", "Creating"). */
  title?: string;
}

export interface Converged {
  project: Project;
  engine: Engine;
  plan: Plan;
  observed: ObservedState;
  result?: ExecuteResult;
}

/**
 * The heart of `up`, `create` and `run`'s dependencies: images (pull/build),
 * observe, reconcile, execute. With --dry-run it stops after printing the
 * plan with its reasons, having changed nothing.
 */
export async function converge(ctx: ComposeContext, bus: ProgressBus, o: ConvergeOptions): Promise<Converged> {
  const [{ planImages, runImageActions }, { observe, imageRef }, { reconcile }, { execute, throwIfFailed }, { formatPlan }, { withDependencies }, { serviceDeps, checkServices }] = await Promise.all([
    import('../../planner/images.js'),
    import('../../planner/observe.js'),
    import('../../planner/reconcile.js'),
    import('../../planner/execute.js'),
    import('../../planner/plan.js'),
    import('../../planner/order.js'),
    import('../../planner/reconcile.js'),
  ]);
  const project = enableTargeted(await ctx.project(), [...(o.services ?? []), ...(o.infraOnly ?? [])]);
  const engine = await ctx.engine();
  checkServices(project, [...(o.services ?? []), ...(o.infraOnly ?? [])]);
  const named = o.services?.length ? o.services : o.infraOnly?.length ? [] : Object.keys(project.services);
  const selected = [...new Set([...(o.noDeps ? named : withDependencies(named, serviceDeps(project))), ...(o.infraOnly ?? [])])];
  const imageOpts = { services: selected.sort(), pull: o.pull, build: o.build, noBuild: o.noBuild, quietPull: o.quietPull, dryRun: ctx.dryRun, signal: o.signal };
  const actions = await planImages(project, engine, imageOpts);

  if (ctx.dryRun) {
    const observed = await observe(engine, project.name, project);
    for (const a of actions) {
      process.stdout.write(`DRY-RUN MODE - image:${a.ref} ${a.action === 'pull' ? 'PullImage' : 'BuildImage'} (${a.reason})\n`);
      observed.images[a.ref] ??= { id: `sha256:<${a.action === 'pull' ? 'pulled' : 'built'} ${a.ref}>`, config: { entrypoint: [], cmd: [], env: [], workingDir: '', user: '', exposedPorts: [], volumes: [], labels: {} } };
    }
    const plan = reconcile(project, observed, o);
    const text = formatPlan(plan);
    process.stdout.write(text ? text.replace(/^/gm, 'DRY-RUN MODE - ').replace(/DRY-RUN MODE - $/, '') : 'DRY-RUN MODE - nothing to do\n');
    return { project, engine, plan, observed };
  }

  bus.start(o.title ?? 'Running');
  try {
    if (actions.length) await runImageActions(project, engine, actions, bus.emit, imageOpts);
    const observed = await observe(engine, project.name, project);
    for (const s of selected) {
      if (!observed.images[imageRef(project, s)]) {
        const { UserError } = await import('../../util/errors.js');
        throw new UserError(`image ${imageRef(project, s)} of service ${s} is not in the engine's store`, 1, 'pull or build it');
      }
    }
    const plan = reconcile(project, observed, o);
    for (const w of plan.warnings) bus.info(`WARN[0000] ${w}`);
    const result = await execute(plan, engine, bus.emit, { signal: o.signal });
    throwIfFailed(result);
    return { project, engine, plan, observed, result };
  } finally {
    bus.stop();
  }
}

/**
 * A service named on the command line runs whatever its profiles, and so do
 * the disabled services it depends on (Compose: "services explicitly targeted
 * are enabled").
 */
export function enableTargeted(project: Project, names: string[]): Project {
  const stack = names.filter((n) => project.disabledServices[n]);
  if (!stack.length) return project;
  const services = { ...project.services };
  const disabled = { ...project.disabledServices };
  while (stack.length) {
    const n = stack.pop()!;
    const s = disabled[n];
    if (!s) continue;
    services[n] = s;
    delete disabled[n];
    for (const dep of Object.keys(s.depends_on)) if (disabled[dep]) stack.push(dep);
  }
  return { ...project, services, disabledServices: disabled };
}
