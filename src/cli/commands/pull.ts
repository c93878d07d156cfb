import { Option, type Command } from 'commander';
import { action, type CliContext } from '../context.js';
import { pull } from '../../compose/pull.js';

/**
 * `tscompose pull [SERVICE...]`: pulls the services' images, in parallel,
 * honouring each service's pull_policy unless --policy says otherwise.
 */

interface PullFlags {
  quiet?: boolean;
  ignorePullFailures?: boolean;
  ignoreBuildable?: boolean;
  includeDeps?: boolean;
  policy?: 'missing' | 'always';
}

export function register(program: Command): void {
  program.command('pull')
    .description('Pull service images')
    .argument('[SERVICE...]')
    .option('-q, --quiet', 'Pull without printing progress information')
    .option('--ignore-pull-failures', 'Pull what it can and ignores images with pull failures')
    .option('--ignore-buildable', 'Ignore images that can be built')
    .option('--include-deps', 'Also pull services declared as dependencies')
    .addOption(new Option('--policy <policy>', 'Apply pull policy').choices(['missing', 'always']))
    .action(
      action(async (ctx: CliContext, services: string[], f: PullFlags) => {
        const o = { services, includeDeps: f.includeDeps, policy: f.policy, ignoreBuildable: f.ignoreBuildable, ignorePullFailures: f.ignorePullFailures, quiet: f.quiet, dryRun: ctx.dryRun };
        const { pulled } = await pull(await ctx.engine(), await ctx.project(), o, ctx.listener());
        if (ctx.dryRun) for (const j of pulled) process.stdout.write(`DRY-RUN MODE - pull ${j.ref} (service ${j.service})\n`);
      }),
    );
}
