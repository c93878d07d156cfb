import { stringify } from 'yaml';
import type { CliContext } from '../context.js';
import type { SwarmStack } from '../../swarm/stack.js';
import type { Project } from '../../project/types.js';
import { UserError } from '../../util/errors.js';
import { parseSeconds } from '../flags.js';

/**
 * The verbs `--backend swarm` supports, drawn for the terminal: a stack on
 * the swarm manager DOCKER_HOST names, through src/compose/swarm.ts. Every
 * other verb refuses (CliContext.engine).
 */
export const SWARM_VERBS = ['up', 'ps', 'logs', 'scale', 'config', 'down'] as const;

/**
 * The stack client and the swarm verbs, loaded when a swarm verb runs: they pull in dockerode,
 * which `up`, `ps` and `down` on the native engine must not pay for at every start (it made a
 * no-op `up` execute 60 % more instructions).
 */
async function load(): Promise<{ stack: SwarmStack; verbs: typeof import('../../compose/swarm.js') }> {
  const [{ SwarmStack: Stack }, verbs] = await Promise.all([import('../../swarm/stack.js'), import('../../compose/swarm.js')]);
  return { stack: new Stack(), verbs };
}

const timeoutMs = (waitTimeout: string | undefined) => {
  const seconds = parseSeconds(waitTimeout, '--wait-timeout');
  return seconds === undefined ? undefined : seconds * 1000;
};

/**
 * `up` writes the services, then waits until the swarm runs them as written (a rolling update
 * included), printing each service's count of tasks on the current spec as it changes;
 * `-d` returns once the manager has the specs.
 */
export async function swarmUp(ctx: CliContext, services: readonly string[], o: { detach?: boolean; waitTimeout?: string } = {}): Promise<void> {
  const { stack, verbs } = await load();
  verbs.wholeStackOnly('up', services);
  const waitTimeoutMs = timeoutMs(o.waitTimeout);
  await verbs.swarmUp(stack, await ctx.project(), {
    dryRun: ctx.dryRun, detach: o.detach, ...(waitTimeoutMs !== undefined ? { waitTimeoutMs } : {}),
  }, ctx.listener());
}

export async function swarmPs(ctx: CliContext, services: readonly string[]): Promise<void> {
  const { stack, verbs } = await load();
  verbs.wholeStackOnly('ps', services);
  const tasks = await verbs.swarmPs(stack, (await ctx.projectOrName()).name);
  const rows = [['NAME', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'ERROR'],
    ...tasks.map((t) => [t.slot !== undefined ? `${t.service}.${t.slot}` : t.service, t.node, t.desired, t.state, t.error ?? ''])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('   ').trimEnd()}\n`);
}

/** `down`; with -v, the volumes on the manager and on the nodes TSCOMPOSE_SWARM_NODE_HOSTS names. */
export async function swarmDown(ctx: CliContext, services: readonly string[], o: { volumes?: boolean }): Promise<void> {
  const { stack, verbs } = await load();
  verbs.wholeStackOnly('down', services);
  if (ctx.dryRun) throw new UserError('--dry-run is not supported by down with --backend swarm yet', 1, 'run `tscompose --backend swarm ps` to see what down would remove');
  const { nodeHostsFrom } = await import('../../swarm/node-volumes.js');
  await verbs.swarmDown(stack, (await ctx.projectOrName()).name, { volumes: o.volumes, nodeHosts: nodeHostsFrom(process.env) }, ctx.listener());
}

/** `scale svc=n ...`, waiting for the tasks as `up` does unless -d. */
export async function swarmScale(ctx: CliContext, replicas: Record<string, number>, o: { detach?: boolean; waitTimeout?: string } = {}): Promise<void> {
  const { stack, verbs } = await load();
  if (ctx.dryRun) throw new UserError('--dry-run is not supported by scale with --backend swarm', 1, 'run `tscompose --backend swarm ps` to see the tasks');
  const waitTimeoutMs = timeoutMs(o.waitTimeout);
  await verbs.swarmScale(stack, (await ctx.projectOrName()).name, replicas, { detach: o.detach, ...(waitTimeoutMs !== undefined ? { waitTimeoutMs } : {}) }, ctx.listener());
}

/** `logs`: `<service>.<slot>@<node> | line`, across the nodes; -f until Ctrl-C or the services go. */
export async function swarmLogs(ctx: CliContext, services: readonly string[], o: { follow?: boolean; tail?: number; timestamps?: boolean; since?: number; prefix?: boolean }): Promise<void> {
  const { stack, verbs } = await load();
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  process.once('SIGINT', onSigint);
  try {
    await verbs.swarmLogs(stack, (await ctx.projectOrName()).name, services, {
      follow: o.follow, timestamps: o.timestamps, signal: stop.signal,
      ...(o.tail !== undefined ? { tail: o.tail } : {}), ...(o.since !== undefined ? { since: o.since } : {}),
    }, (l) => {
      const out = l.stream === 'stderr' ? process.stderr : process.stdout;
      out.write(`${o.prefix === false ? '' : `${l.source} | `}${l.time ? `${l.time} ` : ''}${l.text}\n`);
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** `config`: the stack as `up` will write it (YAML, or JSON with --format json). */
export async function swarmConfigText(project: Project, format: 'yaml' | 'json' | undefined): Promise<string> {
  const { swarmConfig: plan } = await import('../../compose/swarm.js');
  const stackPlan = plan(project);
  return format === 'json' ? `${JSON.stringify(stackPlan, null, 2)}\n` : stringify(stackPlan);
}
