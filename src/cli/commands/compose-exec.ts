import type { Command } from 'commander';
import { action, type CliContext } from '../context.js';
import { collect, parseEnvFlags } from '../flags.js';
import { withStdio } from '../terminal.js';
import { exec, type ExecOptions } from '../../compose/exec.js';
import { UserError } from '../../util/errors.js';

interface ExecFlags {
  detach?: boolean;
  privileged?: boolean;
  user?: string;
  tty?: boolean;
  index?: string;
  env?: string[];
  workdir?: string;
}

export function register(program: Command): void {
  program
    .command('exec')
    .description('Execute a command in a running container')
    .argument('<SERVICE>')
    .argument('<COMMAND>')
    .argument('[ARGS...]')
    .option('-d, --detach', 'Detached mode: Run command in the background')
    .option('--privileged', 'Give extended privileges to the process')
    .option('-u, --user <user>', 'Run the command as this user')
    .option('-T, --no-tty', 'Disable pseudo-TTY allocation. By default `exec` allocates a TTY when stdin is a terminal')
    .option('--index <n>', 'Index of the container if service has multiple replicas', '1')
    .option('-e, --env <KEY=VAL>', 'Set environment variables', collect)
    .option('-w, --workdir <dir>', 'Path to workdir directory for this command')
    .passThroughOptions()
    .action(action(runExec));
}

async function runExec(ctx: CliContext, service: string, command: string, args: string[], f: ExecFlags): Promise<number> {
  const index = Number(f.index ?? '1');
  if (!Number.isInteger(index) || index < 1) throw new UserError(`invalid --index "${f.index}"`, 1, 'give a replica number, starting at 1');
  const tty = f.tty !== false && !f.detach && !!process.stdin.isTTY;
  const o: ExecOptions = {
    service,
    index,
    cmd: [command, ...args],
    env: parseEnvFlags(f.env),
    user: f.user,
    workingDir: f.workdir,
    privileged: f.privileged,
    tty,
    detach: f.detach,
    dryRun: ctx.dryRun,
  };
  const engine = await ctx.engine();
  const project = await ctx.projectOrName();
  if (ctx.dryRun || f.detach) {
    const r = await exec(engine, project, o);
    if (ctx.dryRun) process.stdout.write(`DRY-RUN MODE - container:${r.container.name} Exec ${JSON.stringify(o.cmd)}\n`);
    return 0;
  }
  const r = await withStdio({ tty, stdin: true }, (io) => exec(engine, project, { ...o, io }));
  return r.exitCode;
}
