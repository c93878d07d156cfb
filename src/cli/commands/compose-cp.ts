import type { Command } from 'commander';
import { action, type ComposeContext } from './compose-context.js';
import { UserError } from '../../util/errors.js';

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
    .action(action(runCp));
}

function splitRef(s: string): { service?: string; path: string } {
  const m = /^([a-zA-Z0-9][a-zA-Z0-9_.-]*):(.*)$/.exec(s);
  return m && !s.startsWith('/') && !s.startsWith('.') ? { service: m[1]!, path: m[2]! } : { path: s };
}

async function runCp(ctx: ComposeContext, src: string, dest: string, f: CpFlags): Promise<void> {
  const from = splitRef(src);
  const to = splitRef(dest);
  if (!!from.service === !!to.service) {
    throw new UserError('cp copies between a container and the host', 1, 'write one side as SERVICE:PATH and the other as a local path');
  }
  const { serviceContainer } = await import('./compose-exec.js');
  const { copyFromContainer, copyToContainer } = await import('./compose-cp-tar.js');
  const engine = await ctx.engine();
  const c = await serviceContainer(ctx, (from.service ?? to.service)!, Number(f.index ?? '1'), false);
  if (ctx.dryRun) {
    process.stdout.write(`DRY-RUN MODE - copy ${src} to ${dest}\n`);
    return;
  }
  if (from.service) await copyFromContainer(engine, c.id, from.path, to.path);
  else await copyToContainer(engine, c.id, from.path, to.path, { archive: f.archive, followLink: f.followLink });
  process.stderr.write(`${from.service ? `${c.name}:${from.path}` : from.path} → ${to.service ? `${c.name}:${to.path}` : to.path}\n`);
}
