import type { Command } from 'commander';
import { action, collect, type ComposeContext } from './compose-context.js';
import { UserError } from '../../util/errors.js';

interface ExecFlags {
  detach?: boolean;
  privileged?: boolean;
  user?: string;
  TTY?: boolean;
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
    .option('-T, --no-TTY', 'Disable pseudo-TTY allocation. By default `exec` allocates a TTY when stdin is a terminal')
    .option('--index <n>', 'Index of the container if service has multiple replicas', '1')
    .option('-e, --env <KEY=VAL>', 'Set environment variables', collect)
    .option('-w, --workdir <dir>', 'Path to workdir directory for this command')
    .passThroughOptions()
    .action(action(runExec));
}

/** The running container of a service replica, by number, or a UserError that says what is there. */
export async function serviceContainer(ctx: ComposeContext, service: string, index: number, running = true): Promise<{ id: string; name: string }> {
  const { Label } = await import('../../planner/labels.js');
  const { name } = await ctx.projectOrName();
  const engine = await ctx.engine();
  const list = await engine.containers.list({
    all: true,
    labels: { [Label.project]: name, [Label.service]: service, [Label.oneoff]: 'False' },
  });
  const c = list.find((x) => x.labels[Label.containerNumber] === String(index));
  if (!c) {
    if (!list.length) throw new UserError(`service "${service}" is not running`, 1, `start it with \`up -d ${service}\``);
    throw new UserError(`service "${service}" has no container with index ${index}`, 1, `indexes: ${list.map((x) => x.labels[Label.containerNumber]).sort().join(', ')}`);
  }
  if (running && c.state !== 'running') throw new UserError(`container ${c.name} is not running (${c.status})`, 1, `start it with \`start ${service}\``);
  return { id: c.id, name: c.name };
}

async function runExec(ctx: ComposeContext, service: string, command: string, args: string[], f: ExecFlags): Promise<number> {
  const index = Number(f.index ?? '1');
  if (!Number.isInteger(index) || index < 1) throw new UserError(`invalid --index "${f.index}"`, 1, 'give a replica number, starting at 1');
  const { parseEnvFlags, withStdio } = await import('./compose-stdio.js');
  const c = await serviceContainer(ctx, service, index);
  const engine = await ctx.engine();
  const spec = {
    cmd: [command, ...args],
    env: parseEnvFlags(f.env),
    user: f.user,
    workingDir: f.workdir,
    privileged: f.privileged,
    tty: f.TTY !== false && !f.detach && !!process.stdin.isTTY,
  };
  if (ctx.dryRun) {
    process.stdout.write(`DRY-RUN MODE - container:${c.name} Exec ${JSON.stringify(spec.cmd)}\n`);
    return 0;
  }
  if (f.detach) {
    await engine.containers.execDetached(c.id, spec);
    return 0;
  }
  const { exitCode } = await withStdio({ tty: spec.tty, stdin: true }, (io) => engine.containers.exec(c.id, spec, io));
  return exitCode;
}
