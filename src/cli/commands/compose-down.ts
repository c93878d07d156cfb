import { Option, type Command } from 'commander';
import { action, printDryRun, type CliContext } from '../context.js';
import { envBool, parseSeconds } from '../flags.js';
import { down } from '../../compose/down.js';
import { swarmDown } from '../swarm/verbs.js';
import { formatPlan } from '../../compose/plan.js';

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
    .action(
      action(async (ctx: CliContext, services: string[], f: DownFlags) => {
        if (ctx.globals.backend === 'swarm') return swarmDown(ctx, services, { volumes: f.volumes });
        const options = { services, volumes: f.volumes, rmi: f.rmi, removeOrphans: f.removeOrphans ?? envBool(process.env.COMPOSE_REMOVE_ORPHANS), timeout: parseSeconds(f.timeout, '--timeout'), dryRun: ctx.dryRun };
        const { plan } = await down(await ctx.engine(), await ctx.projectOrName(), options, ctx.listener());
        if (ctx.dryRun) printDryRun(formatPlan(plan));
      }),
    );
}
