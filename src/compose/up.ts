import type { Engine } from '../engine/types.js';
import type { Project } from '../project/types.js';
import { enableServices } from '../project/profiles.js';
import { planStops } from '../planner/down.js';
import { execute } from '../planner/execute.js';
import { serviceHooks } from '../planner/hooks.js';
import { observe } from '../planner/observe.js';
import { PlanBuilder } from '../planner/plan.js';
import { selectServices } from '../planner/reconcile.js';
import { UserError } from '../util/errors.js';
import { follow } from './attach.js';
import { projectContainers, serviceOf } from './containers.js';
import { converge, type Converged, type CreateOptions } from './converge.js';
import type { LogConsumer } from './logs-consumer.js';
import type { WatchOptions } from './watch.js';
import { Reporter, type ComposeListener } from './progress.js';

/** A foreground `up`: whose output to follow, where it goes, and what ends it. */
export interface UpAttachOptions {
  consumer: LogConsumer;
  /** `--attach`: only these services' output (default: the services `up` names, or all). */
  services?: string[];
  /** `--no-attach`: not these services' output. */
  exclude?: string[];
  /** `--attach-dependencies`: the output of the named services' dependencies too (not with `services`). */
  dependencies?: boolean;
  /** Stop the project when a container exits (`--abort-on-container-exit`), or exits with a failure. */
  abortOn?: 'exit' | 'failure';
  /** The result's exit code is this service's container's (`--exit-code-from`; implies abortOn exit). */
  exitCodeFrom?: string;
  /** Unix seconds: output from then on (default: when `up` began). */
  since?: number;
  /**
   * Aborted on a second interrupt while the project stops: the containers are
   * killed instead of waited for (the first interrupt is `signal`).
   */
  kill?: AbortSignal;
}

export interface UpOptions extends CreateOptions {
  /** Follow the containers' output after starting them, then stop them (the foreground `up`); absent: `up -d`. */
  attach?: UpAttachOptions;
  /** `--watch`: while attached, apply the services' develop.watch rules (see `watch`); needs `attach`. */
  watch?: Omit<WatchOptions, 'signal' | 'noUp' | 'services'>;
}

export interface UpResult extends Converged {
  /** 0, the exit code of the container that ended a foreground `up` (or of `exitCodeFrom`'s), or 130 when interrupted. */
  exitCode: number;
}

/**
 * `up`: converge the project (images, then containers in dependency order,
 * started unless `start: false`), then for a foreground `up` follow the
 * containers' output until they exit, one aborts, or `signal` fires, and
 * stop them. A service named by the options runs whatever its profiles.
 */
export async function up(engine: Engine, project: Project, options: UpOptions = {}, listener?: ComposeListener): Promise<UpResult> {
  const report = new Reporter(listener);
  const target = enableServices(project, [...(options.services ?? []), ...(options.infraOnly ?? [])]);
  // Bad watch rules stop `up --watch` before anything is created.
  if (options.watch) {
    if (!options.attach || options.start === false) throw new UserError('--watch follows the services: it cannot be combined with --detach, --wait or --no-start');
    (await watchCode()).watchRules(target, options.services ?? []);
  }
  const startedAt = Date.now() / 1000;
  const done = await converge(engine, target, options, report, 'Running');
  if (options.dryRun) return { ...done, exitCode: 0 };
  const a = options.attach;
  if (a?.dependencies && a.services?.length) throw new UserError('cannot combine --attach and --attach-dependencies');
  if (a?.exitCodeFrom && !target.services[a.exitCodeFrom]) throw new UserError(`no such service: ${a.exitCodeFrom}`, 1, '--exit-code-from names a service of the project');
  const interrupt = options.signal ?? new AbortController().signal;
  // Detached, or created only: done, unless an interrupt came meanwhile (then what started is stopped again).
  if ((!a || options.start === false) && !interrupt.aborted) return { ...done, exitCode: 0 };
  const attach = a ?? { consumer: { line: () => undefined } };
  return { ...done, exitCode: await attachAndStop(engine, target, options, attach, interrupt, attach.since ?? startedAt, report) };
}

/**
 * `--watch`'s code (its rules bring the build context's pattern matching), loaded by an `up` that
 * watches: every other `up` would load it for nothing.
 */
function watchCode(): Promise<typeof import('./watch.js')> {
  return import('./watch.js');
}

/** `create`: as `up` with `start: false`. */
export async function create(engine: Engine, project: Project, options: CreateOptions = {}, listener?: ComposeListener): Promise<Converged> {
  const report = new Reporter(listener);
  const target = enableServices(project, [...(options.services ?? []), ...(options.infraOnly ?? [])]);
  return converge(engine, target, { ...options, start: false }, report, 'Creating');
}

async function attachAndStop(engine: Engine, target: Project, o: UpOptions, a: UpAttachOptions, interrupt: AbortSignal, since: number, report: Reporter): Promise<number> {
  const project = target.name;
  const services = o.services ?? [];
  // A service's `attach: false` keeps its output out unless --attach names it (as Compose does).
  const attached = new Set(services.length && a.dependencies ? selectServices(target, o).selected : services);
  const byDefault = (svc: string) => (!attached.size || attached.has(svc)) && target.services[svc]?.attach !== false;
  const wanted = (svc: string) => (a.services?.length ? a.services.includes(svc) : byDefault(svc)) && !(a.exclude ?? []).includes(svc);
  const containers = (await projectContainers(engine, project, { all: true, oneoff: false })).filter((c) => wanted(serviceOf(c)));
  const abortOn = a.abortOn ?? (a.exitCodeFrom ? 'exit' : undefined);
  const result = o.watch
    ? await (await import('./up-watch.js')).followWatching(engine, target, { consumer: a.consumer, wanted, since, ...(abortOn ? { abortOn } : {}), signal: interrupt, watch: { ...o.watch, services } }, report.listener)
    : await follow(engine, project, containers, a.consumer, { since, ...(abortOn ? { abortOn } : {}), signal: interrupt });
  if (result.reason === 'all-exited') return 0;

  // Stop the project: on an abort, or on the interrupt; `kill` (a second interrupt) kills instead.
  if (result.reason === 'abort') report.info('Aborting on container exit...');
  const forced = await stopProject(engine, target, services, o.timeout, a.kill, report);
  if (result.reason === 'interrupted') return 130;
  if (a.exitCodeFrom) {
    const c = containers.find((x) => serviceOf(x) === a.exitCodeFrom);
    if (c) return result.exitCodes.get(c.id) ?? (await engine.containers.inspect(c.id))?.exitCode ?? 0;
  }
  return forced ? 130 : (result.trigger?.exitCode ?? 0);
}

/** Stops the project's containers (of `services`, or all); true when `kill` fired and they were killed instead. */
async function stopProject(engine: Engine, project: Project, services: string[], timeout: number | undefined, kill: AbortSignal | undefined, report: Reporter): Promise<boolean> {
  const observed = await observe(engine, project.name);
  const containers = Object.values(observed.containers)
    .flat()
    .filter((c) => !services.length || services.includes(c.service));
  const b = new PlanBuilder();
  planStops(b, containers, timeout, 'stop');
  return report.block('Stopping', async () => {
    const force = new AbortController();
    const onKill = () => force.abort();
    if (kill?.aborted) force.abort();
    kill?.addEventListener('abort', onKill, { once: true });
    try {
      const stopping = execute(b.build(), engine, report.progress, { signal: force.signal, hooks: serviceHooks(project) });
      const forced = new Promise<'forced'>((resolve) => force.signal.addEventListener('abort', () => resolve('forced'), { once: true }));
      if ((await Promise.race([stopping, forced])) !== 'forced') return false;
      const killPlan = new PlanBuilder();
      for (const c of containers) {
        killPlan.add({ kind: 'KillContainer', container: { id: c.id, name: c.name }, signal: 'SIGKILL' }, `service:${c.service}:${c.number}`, 'forced', [], { optional: true });
      }
      await execute(killPlan.build(), engine, report.progress);
      return true;
    } finally {
      kill?.removeEventListener('abort', onKill);
    }
  });
}

