import type { Command } from 'commander';
import { action, type CliContext } from '../context.js';
import { replicaIndex } from '../flags.js';
import { commitOptions, withCommitFlags, type CommitFlags } from '../container/commit.js';
import { commitService } from '../../compose/commit.js';

/** `tscompose commit SERVICE [REPOSITORY[:TAG]]`, as Compose's (`container commit` takes a container, as docker commit). */
export function register(program: Command): void {
  withCommitFlags(program.command('commit'))
    .description("Create a new image from a service container's changes")
    .argument('<SERVICE>')
    .argument('[REPOSITORY[:TAG]]', 'name for the new image')
    .option('--index <n>', 'index of the container if service has multiple replicas', replicaIndex, 1)
    .action(
      action(async (ctx: CliContext, service: string, repository: string | undefined, f: CommitFlags & { index: number }) => {
        const { image } = await commitService(await ctx.engine(), await ctx.projectOrName(), { service, index: f.index, ...commitOptions(repository, f) });
        process.stdout.write(`${image}\n`);
      }),
    );
}
