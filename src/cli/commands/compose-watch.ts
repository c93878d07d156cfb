import type { Command } from 'commander';
import { action, type CliContext } from '../context.js';
import { watch } from '../../compose/watch.js';
import { printWatchEvents } from '../present/watch.js';
import { UserError } from '../../util/errors.js';

interface WatchFlags {
  up?: boolean;
  prune?: boolean;
  quiet?: boolean;
}

/** watch: the services' develop.watch rules applied until Ctrl-C (src/compose/watch.ts). */
export function register(program: Command): void {
  program
    .command('watch')
    .description('Watch build context for service and rebuild/refresh containers when files are updated')
    .argument('[SERVICE...]')
    .option('--no-up', 'Do not build & start services before watching')
    .option('--prune', 'Prune dangling images on rebuild')
    .option('--quiet', 'hide build output')
    .action(
      action(async (ctx: CliContext, services: string[], f: WatchFlags) => {
        if (ctx.dryRun) throw new UserError('watch has no dry run: it changes containers as files change', 1, 'drop --dry-run');
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          const options = { services, noUp: f.up === false, prune: f.prune, quiet: f.quiet, signal: stop.signal, onEvent: printWatchEvents(process.stderr) };
          await watch(await ctx.engine(), await ctx.project(), options, ctx.listener({ output: !f.quiet }));
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      }),
    );
}
