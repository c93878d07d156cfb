import type { Command } from 'commander';
import { action, printDryRun, type CliContext } from '../context.js';
import { envBool, parseSeconds } from '../flags.js';
import { confirm } from '../terminal.js';
import { kill, pause, restart, rm, start, stop, unpause } from '../../compose/lifecycle.js';
import type { PlanResult } from '../../compose/down.js';
import { formatPlan } from '../../compose/plan.js';
import { UserError } from '../../util/errors.js';

/** start, stop, restart, kill, rm, pause, unpause: the project's existing containers. */
export function register(program: Command): void {
  program
    .command('start')
    .description('Start services')
    .argument('[SERVICE...]')
    .option('--wait', 'Wait for services to be running|healthy')
    .option('--wait-timeout <seconds>', 'Maximum duration in seconds to wait for the project to be running|healthy')
    .action(
      action(async (ctx: CliContext, services: string[], f: { wait?: boolean; waitTimeout?: string }) => {
        const waitTimeout = parseSeconds(f.waitTimeout, '--wait-timeout');
        const o = { services, wait: f.wait, waitTimeoutMs: waitTimeout !== undefined ? waitTimeout * 1000 : undefined, dryRun: ctx.dryRun };
        show(ctx, await start(await ctx.engine(), await ctx.projectOrName(), o, ctx.listener()));
      }),
    );
  program
    .command('stop')
    .description('Stop services')
    .argument('[SERVICE...]')
    .option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds')
    .action(
      action(async (ctx: CliContext, services: string[], f: { timeout?: string }) => {
        const o = { services, timeout: parseSeconds(f.timeout, '--timeout'), dryRun: ctx.dryRun };
        show(ctx, await stop(await ctx.engine(), await ctx.projectOrName(), o, ctx.listener()));
      }),
    );
  program
    .command('restart')
    .description('Restart service containers')
    .argument('[SERVICE...]')
    .option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds')
    .option('--no-deps', "Don't restart dependent services")
    .action(
      action(async (ctx: CliContext, services: string[], f: { timeout?: string; deps?: boolean }) => {
        const o = { services, timeout: parseSeconds(f.timeout, '--timeout'), noDeps: f.deps === false, dryRun: ctx.dryRun };
        show(ctx, await restart(await ctx.engine(), await ctx.projectOrName(), o, ctx.listener()));
      }),
    );
  program
    .command('kill')
    .description('Force stop service containers')
    .argument('[SERVICE...]')
    .option('-s, --signal <signal>', 'SIGNAL to send to the container', 'SIGKILL')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .action(
      action(async (ctx: CliContext, services: string[], f: { signal: string; removeOrphans?: boolean }) => {
        const o = { services, signal: f.signal, removeOrphans: f.removeOrphans ?? envBool(process.env.COMPOSE_REMOVE_ORPHANS), dryRun: ctx.dryRun };
        show(ctx, await kill(await ctx.engine(), await ctx.projectOrName(), o, ctx.listener()));
      }),
    );
  program
    .command('rm')
    .description('Removes stopped service containers')
    .argument('[SERVICE...]')
    .option('-f, --force', "Don't ask to confirm removal")
    .option('-s, --stop', 'Stop the containers, if required, before removing')
    .option('-v, --volumes', 'Remove any anonymous volumes attached to containers')
    .action(
      action(async (ctx: CliContext, services: string[], f: { force?: boolean; stop?: boolean; volumes?: boolean }) => {
        const o = { services, stop: f.stop, volumes: f.volumes, dryRun: ctx.dryRun, ...(f.force ? {} : { confirm: confirmRemoval }) };
        const r = await rm(await ctx.engine(), await ctx.projectOrName(), o, ctx.listener());
        if (!r.removed.length && !r.cancelled) process.stderr.write('No stopped containers\n');
        if (r.plan) show(ctx, { plan: r.plan });
      }),
    );
  for (const [verb, paused] of [['pause', true], ['unpause', false]] as const) {
    program
      .command(verb)
      .description(paused ? 'Pause services' : 'Unpause services')
      .argument('[SERVICE...]')
      .action(
        action(async (ctx: CliContext, services: string[]) => {
          const o = { services, dryRun: ctx.dryRun };
          show(ctx, await (paused ? pause : unpause)(await ctx.engine(), await ctx.projectOrName(), o, ctx.listener()));
        }),
      );
  }
}

/** What a dry run prints: the plan. (A real run has drawn its progress already.) */
function show(ctx: CliContext, r: PlanResult): void {
  if (ctx.dryRun) printDryRun(formatPlan(r.plan));
}

async function confirmRemoval(names: string[]): Promise<boolean> {
  if (!process.stdin.isTTY) throw new UserError(`would remove ${names.join(', ')}`, 1, 'add -f to remove without confirmation');
  process.stderr.write(`Going to remove ${names.join(', ')}\n`);
  return confirm('Are you sure? [yN] ');
}
