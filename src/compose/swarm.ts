import type { Project } from '../project/types.js';
import type { SwarmStack, SwarmTask, SwarmUpResult } from '../swarm/stack.js';
import type { SwarmLogLine, SwarmLogOptions } from '../swarm/logs.js';
import { objectKey, stackPlan, type StackPlan } from '../swarm/spec.js';
import { stackFileObjects } from '../swarm/file-objects.js';
import { UserError } from '../util/errors.js';
import { Reporter, type ComposeListener } from './progress.js';

/**
 * The verbs `--backend swarm` runs, one function each, over a SwarmStack (a
 * stack on the manager its dockerode client names): typed options and
 * results, progress as the compose layer's events (warnings, a line per
 * service created, updated or converging, a line per object removed), no
 * printing. The stack is the caller's: the CLI loads it only when a swarm verb runs.
 */

/** A stack is deployed whole: naming services would leave the others in an unknown state. */
export function wholeStackOnly(verb: string, services: readonly string[]): void {
  if (services.length) {
    throw new UserError(`with --backend swarm, ${verb} acts on the whole stack; naming services (${services.join(', ')}) is not supported`, 1, 'drop the service names');
  }
}

export interface SwarmUpOptions {
  dryRun?: boolean;
  /** Return once the manager has the specs (`up -d`). */
  detach?: boolean;
  /** How long to wait for the rollout (ms; 300 s by default). */
  waitTimeoutMs?: number;
}

/** `up`: writes the services (configs and secrets first), then waits until the swarm runs them as written, unless detached. */
export async function swarmUp(stack: SwarmStack, project: Project, o: SwarmUpOptions = {}, listener?: ComposeListener): Promise<SwarmUpResult> {
  const report = new Reporter(listener);
  const result = await stack.up(project, { dryRun: o.dryRun });
  const dry = o.dryRun ? 'DRY-RUN MODE - ' : '';
  for (const w of result.warnings) report.warning(w);
  for (const s of result.created) report.info(`${dry}Creating service ${s}`);
  for (const s of result.updated) report.info(`${dry}Updating service ${s}`);
  for (const r of result.retired) report.info(`Removed ${r} (replaced)`);
  if (!o.dryRun && !o.detach) await converge(stack, result.serviceIds, o.waitTimeoutMs, report);
  return result;
}

function converge(stack: SwarmStack, ids: readonly string[], timeoutMs: number | undefined, report: Reporter): Promise<void> {
  return stack.converge(ids, {
    timeoutMs: timeoutMs ?? 300_000,
    onProgress: (p) => report.info(`Service ${p.service}: ${p.running}/${p.desired} tasks running the current spec`),
  });
}

export function swarmPs(stack: SwarmStack, name: string): Promise<SwarmTask[]> {
  return stack.ps(name);
}

export interface SwarmDownOptions {
  volumes?: boolean;
  /** The nodes' own Docker hosts (unix:// or tcp://), for their volumes (see swarm/node-volumes.ts). */
  nodeHosts?: readonly string[];
}

/** `down`: the stack's services, networks, configs and secrets; with `volumes`, its volumes on every node reached. */
export async function swarmDown(stack: SwarmStack, name: string, o: SwarmDownOptions = {}, listener?: ComposeListener): Promise<{ removed: string[]; left: string[] }> {
  const report = new Reporter(listener);
  const r = await stack.down(name, o);
  for (const x of r.removed) report.info(`Removed ${x}`);
  for (const x of r.left) {
    report.warning(`${x} stays: no Docker host was given for that node (list the nodes' Docker hosts, comma separated, in TSCOMPOSE_SWARM_NODE_HOSTS, or run docker volume rm there)`);
  }
  return r;
}

/** `scale svc=n ...`: the replicated services at those counts; waits for the tasks unless detached. */
export async function swarmScale(stack: SwarmStack, name: string, replicas: Readonly<Record<string, number>>, o: { detach?: boolean; waitTimeoutMs?: number } = {}, listener?: ComposeListener): Promise<void> {
  const report = new Reporter(listener);
  const ids = await stack.scale(name, replicas);
  for (const [svc, n] of Object.entries(replicas)) report.info(`Scaling service ${name}_${svc} to ${n}`);
  if (!o.detach) await converge(stack, ids, o.waitTimeoutMs, report);
}

/** `logs`: every task's output across the nodes, as lines. */
export function swarmLogs(stack: SwarmStack, name: string, services: readonly string[], o: SwarmLogOptions, onLine: (l: SwarmLogLine) => void): Promise<void> {
  return stack.logs(name, services, o, onLine);
}

/**
 * `config`: what `up` will write, as the Engine API takes it: the networks, volumes and service
 * specs (images not yet pinned to digests, configs and secrets not yet created: `up` asks the cluster for those).
 */
export function swarmConfig(project: Project): StackPlan {
  const objects = new Map(stackFileObjects(project).map((obj) => [objectKey(obj.kind, obj.key), { id: '', name: obj.name }]));
  return stackPlan(project, new Map(), objects);
}
