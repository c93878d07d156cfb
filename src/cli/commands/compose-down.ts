import { Option, type Command } from 'commander';
import { action, parseSeconds, type ComposeContext } from './compose-context.js';

interface DownFlags {
  volumes?: boolean;
  rmi?: 'local' | 'all';
  removeOrphans?: boolean;
  timeout?: string;
}

export function register(program: Command): void {
  program
    .command('down')
    .description('Stop and remove containers, networks')
    .argument('[SERVICE...]')
    .option('-v, --volumes', 'Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers')
    .addOption(new Option('--rmi <type>', 'Remove images used by services. "local" remove only images that don\'t have a custom tag').choices(['local', 'all']))
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds')
    .action(action(runDown));
}

async function runDown(ctx: ComposeContext, services: string[], f: DownFlags): Promise<void> {
  const [{ observe }, { planDown }, { execute, throwIfFailed }, { formatPlan }] = await Promise.all([
    import('../../planner/observe.js'),
    import('../../planner/down.js'),
    import('../../planner/execute.js'),
    import('../../planner/plan.js'),
  ]);
  const { project, name } = await ctx.projectOrName();
  const engine = await ctx.engine();
  const observed = await observe(engine, name, project);
  const plan = planDown(observed, { project, services, volumes: f.volumes, rmi: f.rmi, removeOrphans: f.removeOrphans, timeout: parseSeconds(f.timeout, '--timeout') });
  if (ctx.dryRun) {
    const text = formatPlan(plan);
    process.stdout.write(text ? text.replace(/^(?=.)/gm, 'DRY-RUN MODE - ') : 'DRY-RUN MODE - nothing to do\n');
    return;
  }
  const bus = await ctx.bus();
  bus.start('Running');
  try {
    for (const w of plan.warnings) bus.info(`WARN[0000] ${w}`);
    throwIfFailed(await execute(plan, engine, bus.emit));
  } finally {
    bus.stop();
  }
}
