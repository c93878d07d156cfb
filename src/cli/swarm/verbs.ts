import type { CliContext } from '../context.js';
import { SwarmStack } from '../../swarm/stack.js';

/**
 * The verbs `--backend swarm` supports, drawn for the terminal: a stack on
 * the swarm manager DOCKER_HOST names. Every other verb refuses (CliContext.engine).
 */
export const SWARM_VERBS = ['up', 'ps', 'down'] as const;

export async function swarmUp(ctx: CliContext): Promise<void> {
  const result = await new SwarmStack().up(await ctx.project());
  for (const w of result.warnings) process.stderr.write(`WARN[0000] ${w}\n`);
  for (const s of result.created) process.stderr.write(`Creating service ${s}\n`);
  for (const s of result.updated) process.stderr.write(`Updating service ${s}\n`);
}

export async function swarmPs(ctx: CliContext): Promise<void> {
  const tasks = await new SwarmStack().ps((await ctx.projectOrName()).name);
  const rows = [['NAME', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'ERROR'],
    ...tasks.map((t) => [t.slot !== undefined ? `${t.service}.${t.slot}` : t.service, t.node, t.desired, t.state, t.error ?? ''])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('   ').trimEnd()}\n`);
}

export async function swarmDown(ctx: CliContext, o: { volumes?: boolean }): Promise<void> {
  for (const r of await new SwarmStack().down((await ctx.projectOrName()).name, o)) process.stderr.write(`Removed ${r}\n`);
}
