import type { CliContext } from '../context.js';
import type { SwarmStack } from '../../swarm/stack.js';
import { UserError } from '../../util/errors.js';
import { parseSeconds } from '../flags.js';

/**
 * The verbs `--backend swarm` supports, drawn for the terminal: a stack on
 * the swarm manager DOCKER_HOST names. Every other verb refuses (CliContext.engine).
 */
export const SWARM_VERBS = ['up', 'ps', 'down'] as const;

/**
 * The stack client, loaded when a swarm verb runs: it pulls in dockerode, which `up`, `ps` and
 * `down` on the native engine must not pay for at every start (it made a no-op `up` execute
 * 60 % more instructions).
 */
async function stack(): Promise<SwarmStack> {
  const { SwarmStack: Stack } = await import('../../swarm/stack.js');
  return new Stack();
}

/** A stack is deployed whole: naming services would leave the others in an unknown state. */
export function wholeStackOnly(services: readonly string[]): void {
  if (services.length) {
    throw new UserError(`with --backend swarm, up, ps and down act on the whole stack; naming services (${services.join(', ')}) is not supported yet`, 1, 'drop the service names');
  }
}

/**
 * `up` writes the services, then waits until the swarm runs them as written (a rolling update
 * included), printing each service's count of tasks on the current spec as it changes;
 * `-d` returns once the manager has the specs.
 */
export async function swarmUp(ctx: CliContext, services: readonly string[], o: { detach?: boolean; waitTimeout?: string } = {}): Promise<void> {
  wholeStackOnly(services);
  const seconds = parseSeconds(o.waitTimeout, '--wait-timeout');
  const swarm = await stack();
  const result = await swarm.up(await ctx.project(), { dryRun: ctx.dryRun });
  const dry = ctx.dryRun ? 'DRY-RUN MODE - ' : '';
  for (const w of result.warnings) process.stderr.write(`WARN[0000] ${w}\n`);
  for (const s of result.created) process.stderr.write(`${dry}Creating service ${s}\n`);
  for (const s of result.updated) process.stderr.write(`${dry}Updating service ${s}\n`);
  if (ctx.dryRun || o.detach) return;
  await swarm.converge(result.serviceIds, {
    timeoutMs: (seconds ?? 300) * 1000,
    onProgress: (p) => process.stderr.write(`Service ${p.service}: ${p.running}/${p.desired} tasks running the current spec\n`),
  });
}

export async function swarmPs(ctx: CliContext, services: readonly string[]): Promise<void> {
  wholeStackOnly(services);
  const tasks = await (await stack()).ps((await ctx.projectOrName()).name);
  const rows = [['NAME', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'ERROR'],
    ...tasks.map((t) => [t.slot !== undefined ? `${t.service}.${t.slot}` : t.service, t.node, t.desired, t.state, t.error ?? ''])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('   ').trimEnd()}\n`);
}

export async function swarmDown(ctx: CliContext, services: readonly string[], o: { volumes?: boolean }): Promise<void> {
  wholeStackOnly(services);
  if (ctx.dryRun) throw new UserError('--dry-run is not supported by down with --backend swarm yet', 1, 'run `tscompose --backend swarm ps` to see what down would remove');
  for (const r of await (await stack()).down((await ctx.projectOrName()).name, o)) process.stderr.write(`Removed ${r}\n`);
}
