import { Option, type Command } from 'commander';
import { action, orphanOptions, printDryRun, type CliContext } from '../context.js';
import { collect, parseScale, parseSeconds, valueOption } from '../flags.js';
import { create, up, type UpOptions } from '../../compose/up.js';
import type { CreateOptions, Converged } from '../../compose/converge.js';
import type { Project } from '../../project/types.js';
import { formatPlan } from '../../compose/plan.js';
import { LogPrinter, printingConsumer } from '../progress/logs.js';
import { colorFor } from '../progress/select.js';
import { UserError } from '../../util/errors.js';
import { swarmUp } from '../swarm/verbs.js';
import { printWatchEvents } from '../present/watch.js';

interface UpFlags {
  detach?: boolean;
  build?: boolean;
  noBuild?: boolean;
  pull?: 'always' | 'missing' | 'never' | 'build';
  quietPull?: boolean;
  forceRecreate?: boolean;
  noRecreate?: boolean;
  alwaysRecreateDeps?: boolean;
  noStart?: boolean;
  removeOrphans?: boolean;
  scale?: string[];
  abortOnContainerExit?: boolean;
  abortOnContainerFailure?: boolean;
  exitCodeFrom?: string;
  timeout?: string;
  noDeps?: boolean;
  wait?: boolean;
  waitTimeout?: string;
  renewAnonVolumes?: boolean;
  noColor?: boolean;
  noLogPrefix?: boolean;
  timestamps?: boolean;
  attach?: string[];
  noAttach?: string[];
  attachDependencies?: boolean;
  quietBuild?: boolean;
  menu?: boolean;
  yes?: boolean;
  watch?: boolean;
}

/** The flags of up and create, the orphan switches and --all-resources as the planner's options. */
function createOptions(ctx: CliContext, project: Project, services: string[], f: UpFlags, start: boolean): CreateOptions {
  if (f.forceRecreate && f.noRecreate) throw new UserError('--force-recreate and --no-recreate are incompatible');
  if (f.build && f.noBuild) throw new UserError('--build and --no-build are incompatible');
  const timeout = parseSeconds(f.timeout, '--timeout');
  const waitTimeout = parseSeconds(f.waitTimeout, '--wait-timeout');
  return {
    services,
    noDeps: f.noDeps,
    recreate: f.forceRecreate ? 'force' : f.noRecreate ? 'never' : 'diverged',
    recreateDependencies: f.alwaysRecreateDeps ? 'force' : f.noRecreate ? 'never' : 'diverged',
    scale: parseScale(f.scale),
    start,
    timeout,
    wait: f.wait,
    waitTimeoutMs: waitTimeout !== undefined ? waitTimeout * 1000 : undefined,
    renewAnonVolumes: f.renewAnonVolumes,
    pull: f.pull,
    build: f.build,
    noBuild: f.noBuild,
    quietPull: f.quietPull,
    assumeYes: f.yes,
    ...orphanOptions(f.removeOrphans, project, { removeFromEnv: true }),
    allResources: ctx.globals.allResources,
    dryRun: ctx.dryRun,
  };
}

function commonCreateOptions(cmd: Command): Command {
  return cmd
    .option('--build', 'Build images before starting containers')
    .option('--no-build', "Don't build an image, even if it's policy")
    .addOption(new Option('--pull <policy>', 'Pull image before running').choices(['always', 'missing', 'never', 'build']))
    .option('--quiet-pull', 'Pull without printing progress information')
    .option('--force-recreate', "Recreate containers even if their configuration and image haven't changed")
    .option('--no-recreate', "If containers already exist, don't recreate them. Incompatible with --force-recreate")
    .option('--always-recreate-deps', 'Recreate dependent containers. Incompatible with --no-recreate')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('--scale <SERVICE=NUM>', 'Scale SERVICE to NUM instances. Overrides the scale setting in the Compose file if present', collect)
    .option('-V, --renew-anon-volumes', 'Recreate anonymous volumes instead of retrieving data from the previous containers')
    .option('-y, --yes', 'Assume "yes" as answer to all prompts and run non-interactively (a volume whose configuration changed is then refused, not recreated)');
}

export function register(program: Command): void {
  const upCmd = program
    .command('up')
    .description('Create and start containers')
    .argument('[SERVICE...]')
    .option('-d, --detach', 'Detached mode: Run containers in the background');
  commonCreateOptions(upCmd)
    .option('--no-start', "Don't start the services after creating them")
    .option('--abort-on-container-exit', 'Stops all containers if any container was stopped. Incompatible with -d')
    .option('--abort-on-container-failure', 'Stops all containers if any container exited with failure. Incompatible with -d')
    .option('--exit-code-from <SERVICE>', 'Return the exit code of the selected service container. Implies --abort-on-container-exit')
    .option('-t, --timeout <seconds>', 'Use this timeout in seconds for container shutdown when attached or when containers are already running')
    .option('--no-deps', "Don't start linked services")
    .option('--wait', 'Wait for services to be running|healthy. Implies detached mode')
    .option('--wait-timeout <seconds>', 'Maximum duration in seconds to wait for the project to be running|healthy')
    .option('--no-color', 'Produce monochrome output')
    .option('--no-log-prefix', "Don't print prefix in logs")
    .option('--timestamps', 'Show timestamps')
    .option('--attach <SERVICE>', 'Restrict attaching to the specified services', collect)
    .addOption(valueOption('--no-attach <SERVICE>', 'Do not attach (stream logs) to the specified services'))
    .option('--quiet-build', 'Suppress the build output')
    .option('--attach-dependencies', 'Automatically attach to log output of dependent services')
    .option('-w, --watch', 'Watch source code and rebuild/refresh containers when files are updated')
    .option('--menu', 'Enable interactive shortcuts when running attached (refused: tscompose has no menu; COMPOSE_MENU is accepted and draws none)')
    .action(action((ctx: CliContext, services: string[], flags: UpFlags) => (ctx.globals.backend === 'swarm' ? swarmUp(ctx, services, flags) : runUp(ctx, services, flags))));

  const createCmd = program.command('create').description('Creates containers for a service').argument('[SERVICE...]');
  commonCreateOptions(createCmd).action(
    action(async (ctx: CliContext, services: string[], flags: UpFlags) => {
      const project = await ctx.project();
      const o = createOptions(ctx, project, services, normalizeFlags(flags), false);
      printConverged(await create(await ctx.engine(), project, o, ctx.listener()), ctx.dryRun);
    }),
  );
}

/** commander turns `--no-x` into `x: false`; read them back as the flags Compose documents. */
function normalizeFlags(f: UpFlags): UpFlags {
  const raw = f as UpFlags & { build?: boolean; start?: boolean; recreate?: boolean; deps?: boolean; color?: boolean; logPrefix?: boolean };
  const flags: UpFlags = { ...f };
  flags.noBuild = raw.build === false;
  if (flags.noBuild) flags.build = undefined;
  flags.noStart = raw.start === false;
  flags.noRecreate = raw.recreate === false;
  flags.noDeps = raw.deps === false;
  flags.noColor = raw.color === false;
  flags.noLogPrefix = raw.logPrefix === false;
  if (flags.exitCodeFrom) flags.abortOnContainerExit = true;
  return flags;
}

/** A dry run's images and plan, each line marked. */
function printConverged(done: Converged, dryRun: boolean): void {
  if (!dryRun) return;
  for (const a of done.images) process.stdout.write(`DRY-RUN MODE - image:${a.ref} ${a.action === 'pull' ? 'PullImage' : 'BuildImage'} (${a.reason})\n`);
  printDryRun(formatPlan(done.plan));
}

async function runUp(ctx: CliContext, services: string[], f: UpFlags): Promise<number> {
  const flags = normalizeFlags(f);
  if (flags.menu) throw new UserError('--menu is not supported: tscompose has no interactive shortcuts while attached', 1, 'drop --menu (use tscompose logs, stop, ... from another terminal)');
  const attached = !flags.detach && !flags.wait && !flags.noStart;
  if (flags.watch && !attached) throw new UserError('--watch follows the services: it cannot be combined with --detach, --wait or --no-start', 1, 'drop -d (or run `tscompose watch` after `up -d`)');
  if (flags.detach && (flags.abortOnContainerExit || flags.abortOnContainerFailure)) {
    throw new UserError('--abort-on-container-exit and --abort-on-container-failure are incompatible with --detach');
  }
  // The first Ctrl-C stops the project gracefully; the second kills it.
  const interrupt = new AbortController();
  const kill = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write('Gracefully Stopping... press Ctrl+C again to force\n');
      interrupt.abort();
    } else kill.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const project = await ctx.project();
    const o: UpOptions = { ...createOptions(ctx, project, services, flags, !flags.noStart), signal: interrupt.signal };
    if (attached) {
      const color = flags.noColor ? colorFor(process.stdout, 'never') : colorFor(process.stdout, ctx.globals.ansi);
      const printer = new LogPrinter(process.stdout, color, { prefix: !flags.noLogPrefix, timestamps: flags.timestamps });
      o.attach = {
        consumer: printingConsumer(printer, { attaching: process.stdout }),
        ...(flags.attach ? { services: flags.attach } : {}),
        ...(flags.noAttach ? { exclude: flags.noAttach } : {}),
        ...(flags.attachDependencies ? { dependencies: true } : {}),
        ...(flags.abortOnContainerExit ? { abortOn: 'exit' as const } : flags.abortOnContainerFailure ? { abortOn: 'failure' as const } : {}),
        ...(flags.exitCodeFrom ? { exitCodeFrom: flags.exitCodeFrom } : {}),
        kill: kill.signal,
      };
      if (flags.watch) o.watch = { quiet: flags.quietBuild, onEvent: printWatchEvents(process.stderr) };
    }
    const done = await up(await ctx.engine(), project, o, ctx.listener({ output: !flags.quietBuild }));
    printConverged(done, ctx.dryRun);
    return done.exitCode;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
