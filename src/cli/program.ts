import { Command, Option } from 'commander';
import { registerCommands } from './commands/index.js';
import { VERSION } from '../util/version.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The program with the commands `args` (argv after node and the script) needs; all of them when `args` is omitted. */
export async function buildProgram(args?: readonly string[]): Promise<Command> {
  const program = new Command('tscompose')
    .description('Define and run multi-container applications, on tscompose\'s own container engine or on Docker')
    .usage('[OPTIONS] COMMAND')
    .version(VERSION, '-v, --version', 'Show the tscompose version information')
    .option('-f, --file <file>', 'Compose configuration files (repeatable)', collect)
    .option('-p, --project-name <name>', 'Project name')
    .option('--project-directory <dir>', 'Specify an alternate working directory (default: the path of the first Compose file)')
    .option('--env-file <path>', 'Specify an alternate environment file (repeatable)', collect)
    .option('--profile <profile>', 'Specify a profile to enable (repeatable)', collect)
    .addOption(new Option('--progress <type>', 'Set type of progress output').choices(['auto', 'tty', 'plain', 'json', 'quiet']))
    .addOption(new Option('--ansi <when>', 'Control when to print ANSI control characters').choices(['never', 'always', 'auto']).default('auto'))
    .option('--dry-run', 'Execute command in dry run mode: print the plan, change nothing')
    .addOption(
      new Option('--backend <engine>', 'Container engine to drive (swarm: deploy as a stack to the Docker Swarm manager DOCKER_HOST names; up, ps and down)').choices(['native', 'docker', 'swarm']).env('TSCOMPOSE_BACKEND').default('native'),
    )
    // Global options go before the command, as with docker compose; this lets `container run IMAGE CMD -x`
    // and `run SERVICE CMD -x` pass the command's own options through untouched.
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true });
  await registerCommands(program, args);
  return program;
}
