import type { Command } from 'commander';
import { action, type CliContext } from '../context.js';
import { cp } from '../../compose/copy.js';

interface CpFlags {
  index?: string;
  all?: boolean;
  archive?: boolean;
  followLink?: boolean;
}

/**
 * cp between a service container and the host: `cp web:/etc/hosts ./hosts`,
 * `cp ./app.conf web:/etc/app.conf` (`-` for a tar on stdin/stdout).
 */
export function register(program: Command): void {
  program
    .command('cp')
    .description('Copy files/folders between a service container and the local filesystem')
    .argument('<SRC>', 'SERVICE:SRC_PATH, or a local path (- for a tar on stdin)')
    .argument('<DEST>', 'SERVICE:DEST_PATH, or a local path (- for a tar on stdout)')
    .option('--index <n>', 'Index of the container if service has multiple replicas')
    .option('--all', 'Include containers created by the run command')
    .option('-a, --archive', 'Archive mode (copy all uid/gid information)')
    .option('-L, --follow-link', 'Always follow symbol link in SRC_PATH')
    .action(
      action(async (ctx: CliContext, src: string, dest: string, f: CpFlags) => {
        const r = await cp(await ctx.engine(), await ctx.projectOrName(), {
          source: src,
          destination: dest,
          index: Number(f.index ?? '1'),
          archive: f.archive,
          followLink: f.followLink,
          stdin: process.stdin,
          stdout: process.stdout,
          dryRun: ctx.dryRun,
        });
        if (ctx.dryRun) process.stdout.write(`DRY-RUN MODE - copy ${src} to ${dest}\n`);
        else process.stderr.write(`${r.from} → ${r.to}\n`);
      }),
    );
}
