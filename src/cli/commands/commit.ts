import type { Command } from 'commander';
import { collect } from './compose-context.js';
import { backendOf, openNative } from './image-remote.js';

/**
 * `tscompose commit` (and `tscompose container commit`): a container's
 * changes as a new image, with docker commit's flags.
 */

function define(c: Command): Command {
  return c
    .description("Create a new image from a container's changes")
    .argument('<container>')
    .argument('[repository]', 'REPOSITORY[:TAG] for the new image')
    .option('-a, --author <author>', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
    .option('-m, --message <message>', 'Commit message')
    .option('-c, --change <instruction>', 'Apply a Dockerfile instruction to the created image (repeatable)', collect)
    .option('-p, --pause', 'Pause the container during commit (accepted; the native runtime commits without pausing)', true)
    .option('--no-pause', 'Do not pause the container during commit')
    .action(async (container: string, repository: string | undefined, o: { author?: string; message?: string; change?: string[] }, cmd: Command) => {
      const deps = await openNative(backendOf(cmd), 'commit');
      const { commitContainer } = await import('../../build/commit.js');
      const image = await commitContainer(deps, container, {
        ...(repository ? { tag: repository } : {}),
        ...(o.author ? { author: o.author } : {}),
        ...(o.message ? { message: o.message } : {}),
        changes: o.change ?? [],
      });
      process.stdout.write(`${image.id}\n`);
    });
}

/** The top-level `tscompose commit`. */
export function register(program: Command): void {
  define(program.command('commit'));
}

/** `commit` inside the `container` group (called from its register). */
export function registerContainerCommit(container: Command): void {
  define(container.command('commit'));
}
