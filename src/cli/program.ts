import { Command, InvalidArgumentError, Option } from 'commander';
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
    .addOption(new Option('--progress <type>', 'Set type of progress output').choices(PROGRESS_MODES))
    .addOption(new Option('--ansi <when>', 'Control when to print ANSI control characters').choices(['never', 'always', 'auto']).default('auto').env('COMPOSE_ANSI'))
    .addOption(new Option('--parallel <int>', 'Control max parallelism of engine operations, -1 for unlimited').argParser(parallelArg).default(-1).env('COMPOSE_PARALLEL_LIMIT'))
    .option('--compatibility', 'Run compose in backward compatibility mode (refused: tscompose names containers as Compose v2 does)')
    .option('--all-resources', 'Include all resources, even those not used by services')
    .option('--dry-run', 'Execute command in dry run mode: print the plan, change nothing')
    .addOption(
      new Option('--backend <engine>', 'Container engine to drive (swarm: deploy as a stack to the Docker Swarm manager DOCKER_HOST names; up, which waits for the rollout unless -d, ps, logs, scale, config and down)').choices(['native', 'docker', 'swarm']).env('TSCOMPOSE_BACKEND').default('native'),
    )
    // Global options go before the command, as with docker compose; this lets `container run IMAGE CMD -x`
    // and `run SERVICE CMD -x` pass the command's own options through untouched.
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true });
  await registerCommands(program, args);
  acceptProgressAfterVerb(program);
  return program;
}

/** `--parallel N` (or COMPOSE_PARALLEL_LIMIT): an integer; -1 (or 0) is no limit. */
function parallelArg(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError('give an integer (-1 for unlimited).');
  return Number(value);
}

export const PROGRESS_MODES = ['auto', 'tty', 'plain', 'json', 'quiet'] as const;

/**
 * Compose's global flags are cobra persistent flags, so `docker compose up
 * --progress plain` works as well as `docker compose --progress plain up`.
 * Ours go before the verb (positional options keep `run SERVICE CMD -x` whole);
 * `--progress` is also taken after it, hidden from the verb's help as
 * Compose's help lists it with the global flags. A verb that has its own
 * `--progress` (`image build`) keeps it.
 */
function acceptProgressAfterVerb(program: Command): void {
  for (const cmd of program.commands) {
    if (cmd.commands.length || cmd.options.some((o) => o.long === '--progress')) continue;
    cmd.addOption(new Option('--progress <type>', 'Set type of progress output').choices(PROGRESS_MODES).hideHelp());
  }
}
