import type { Command } from 'commander';
import type { CommitOptions } from '../../engine/types.js';
import { collect } from '../flags.js';
import { objectEngine } from '../objects.js';

export interface CommitFlags { author?: string; message?: string; change?: string[] }

/** docker commit's flags, which Compose's commit shares. */
export function withCommitFlags(c: Command): Command {
  return c
    .description("Create a new image from a container's changes")
    .option('-a, --author <author>', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
    .option('-m, --message <message>', 'Commit message')
    .option('-c, --change <instruction>', 'Apply a Dockerfile instruction to the created image (repeatable)', collect)
    .option('-p, --pause', 'Pause the container during commit (accepted; the native runtime commits without pausing)', true)
    .option('--no-pause', 'Do not pause the container during commit');
}

export function commitOptions(repository: string | undefined, o: CommitFlags): CommitOptions {
  return {
    ...(repository ? { tag: repository } : {}),
    ...(o.author ? { author: o.author } : {}),
    ...(o.message ? { message: o.message } : {}),
    changes: o.change ?? [],
  };
}

/** `container commit`: a container's changes as a new image, with docker commit's flags. */
export function defineCommit(c: Command): Command {
  return withCommitFlags(c)
    .argument('<container>')
    .argument('[repository]', 'REPOSITORY[:TAG] for the new image')
    .action(async (container: string, repository: string | undefined, o: CommitFlags, cmd: Command) => {
      const engine = await objectEngine(cmd, 'commit');
      const id = await engine.containers.commit(container, commitOptions(repository, o));
      process.stdout.write(`${id}\n`);
    });
}
