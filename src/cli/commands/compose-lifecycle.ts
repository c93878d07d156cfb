import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { action, parseSeconds, type ComposeContext } from './compose-context.js';
import type { Plan } from '../../planner/plan.js';
import type { ObservedState } from '../../planner/observed.js';
import { UserError } from '../../util/errors.js';

/**
 * start, stop, restart, kill, rm, pause, unpause: each plans single
 * operations on the project's existing containers and runs them through the
 * executor, so `--dry-run` shows them and progress reads like `up`'s.
 */
export function register(program: Command): void {
  program
    .command('start')
    .description('Start services')
    .argument('[SERVICE...]')
    .option('--wait', 'Wait for services to be running|healthy')
    .option('--wait-timeout <seconds>', 'Maximum duration in seconds to wait for the project to be running|healthy')
    .action(action(runStart));
  program
    .command('stop')
    .description('Stop services')
    .argument('[SERVICE...]')
    .option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds')
    .action(
      action(async (ctx: ComposeContext, services: string[], f: { timeout?: string }) => {
        const { selectContainers, planStop } = await import('../../planner/lifecycle.js');
        const observed = await observed_(ctx);
        await run(ctx, planStop(selectContainers(observed, services), parseSeconds(f.timeout, '--timeout')), 'Stopping');
      }),
    );
  program
    .command('restart')
    .description('Restart service containers')
    .argument('[SERVICE...]')
    .option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds')
    .option('--no-deps', "Don't restart dependent services")
    .action(
      action(async (ctx: ComposeContext, services: string[], f: { timeout?: string; deps?: boolean }) => {
        const { planRestart } = await import('../../planner/lifecycle.js');
        const observed = await observed_(ctx);
        await run(ctx, planRestart(observed, services, parseSeconds(f.timeout, '--timeout'), f.deps === false), 'Restarting');
      }),
    );
  program
    .command('kill')
    .description('Force stop service containers')
    .argument('[SERVICE...]')
    .option('-s, --signal <signal>', 'SIGNAL to send to the container', 'SIGKILL')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .action(
      action(async (ctx: ComposeContext, services: string[], f: { signal: string; removeOrphans?: boolean }) => {
        const { selectContainers, planKill } = await import('../../planner/lifecycle.js');
        const observed = await observed_(ctx);
        const targets = selectContainers(observed, services);
        if (f.removeOrphans) targets.push(...observed.orphans);
        await run(ctx, planKill(targets, f.signal), 'Killing');
      }),
    );
  program
    .command('rm')
    .description('Removes stopped service containers')
    .argument('[SERVICE...]')
    .option('-f, --force', "Don't ask to confirm removal")
    .option('-s, --stop', 'Stop the containers, if required, before removing')
    .option('-v, --volumes', 'Remove any anonymous volumes attached to containers')
    .action(action(runRm));
  for (const [verb, pause] of [['pause', true], ['unpause', false]] as const) {
    program
      .command(verb)
      .description(pause ? 'Pause services' : 'Unpause services')
      .argument('[SERVICE...]')
      .action(
        action(async (ctx: ComposeContext, services: string[]) => {
          const { selectContainers, planPause } = await import('../../planner/lifecycle.js');
          await run(ctx, planPause(selectContainers(await observed_(ctx), services), pause), pause ? 'Pausing' : 'Unpausing');
        }),
      );
  }
}

async function observed_(ctx: ComposeContext): Promise<ObservedState> {
  const { observe } = await import('../../planner/observe.js');
  const { project, name } = await ctx.projectOrName();
  return observe(await ctx.engine(), name, project);
}

/** Prints the plan under --dry-run, or executes it with progress. */
export async function run(ctx: ComposeContext, plan: Plan, title: string): Promise<void> {
  const [{ execute, throwIfFailed }, { formatPlan }] = await Promise.all([import('../../planner/execute.js'), import('../../planner/plan.js')]);
  if (ctx.dryRun) {
    const text = formatPlan(plan);
    process.stdout.write(text ? text.replace(/^(?=.)/gm, 'DRY-RUN MODE - ') : 'DRY-RUN MODE - nothing to do\n');
    return;
  }
  const bus = await ctx.bus();
  bus.start(title);
  try {
    for (const w of plan.warnings) bus.info(`WARN[0000] ${w}`);
    throwIfFailed(await execute(plan, await ctx.engine(), bus.emit));
  } finally {
    bus.stop();
  }
}

async function runStart(ctx: ComposeContext, services: string[], f: { wait?: boolean; waitTimeout?: string }): Promise<void> {
  const { selectContainers, planStartFromLabels } = await import('../../planner/lifecycle.js');
  const { project, name } = await ctx.projectOrName();
  const { observe } = await import('../../planner/observe.js');
  const engine = await ctx.engine();
  const observed = await observe(engine, name, project);
  const containers = selectContainers(observed, services);
  if (!containers.length) throw new UserError('no containers to start', 1, 'create them with `up` or `create` first');
  if (!project) return run(ctx, planStartFromLabels(containers), 'Starting');
  const { reconcile } = await import('../../planner/reconcile.js');
  const waitTimeout = parseSeconds(f.waitTimeout, '--wait-timeout');
  const plan = reconcile(project, observed, {
    services,
    onlyExisting: true,
    wait: f.wait,
    waitTimeoutMs: waitTimeout !== undefined ? waitTimeout * 1000 : undefined,
  });
  await run(ctx, plan, 'Starting');
}

async function runRm(ctx: ComposeContext, services: string[], f: { force?: boolean; stop?: boolean; volumes?: boolean }): Promise<void> {
  const { selectContainers, planRemove } = await import('../../planner/lifecycle.js');
  const observed = await observed_(ctx);
  const plan = planRemove(selectContainers(observed, services), { stop: f.stop, volumes: f.volumes }, observed);
  const names = plan.nodes.filter((n) => n.op.kind === 'RemoveContainer').map((n) => ('container' in n.op ? n.op.container.name : ''));
  if (!names.length) {
    process.stderr.write('No stopped containers\n');
    return;
  }
  if (!f.force && !ctx.dryRun) {
    if (!process.stdin.isTTY) throw new UserError(`would remove ${names.join(', ')}`, 1, 'add -f to remove without confirmation');
    process.stderr.write(`Going to remove ${names.join(', ')}\n`);
    if (!(await confirm('Are you sure? [yN] '))) return;
  }
  await run(ctx, plan, 'Removing');
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
