import type { Command } from 'commander';
import { action, type CliContext } from '../context.js';
import { push } from '../../compose/push.js';

/**
 * `tscompose push [SERVICE...]`: pushes the images of the services that
 * build them (the image a build section makes, under its `image:` name), as
 * Compose does.
 */

interface PushFlags {
  quiet?: boolean;
  ignorePushFailures?: boolean;
  includeDeps?: boolean;
}

export function register(program: Command): void {
  program.command('push')
    .description('Push service images')
    .argument('[SERVICE...]')
    .option('-q, --quiet', 'Push without printing progress information')
    .option('--ignore-push-failures', 'Push what it can and ignores images with push failures')
    .option('--include-deps', 'Also push images of services declared as dependencies')
    .action(
      action(async (ctx: CliContext, services: string[], f: PushFlags) => {
        const o = { services, includeDeps: f.includeDeps, ignorePushFailures: f.ignorePushFailures, quiet: f.quiet, dryRun: ctx.dryRun };
        const { pushed } = await push(await ctx.engine(), await ctx.project(), o, ctx.listener());
        if (ctx.dryRun) for (const p of pushed) process.stdout.write(`DRY-RUN MODE - push ${p.ref} (service ${p.service})\n`);
      }),
    );
}
