import { Option, type Command } from 'commander';
import { action, collect, parseScale, parseSeconds, type ComposeContext } from './compose-context.js';
import type { ConvergeOptions } from './compose-converge.js';
import { UserError } from '../../util/errors.js';

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
}

function convergeOptions(services: string[], f: UpFlags, start: boolean): ConvergeOptions {
  if (f.forceRecreate && f.noRecreate) throw new UserError('--force-recreate and --no-recreate are incompatible');
  if (f.build && f.noBuild) throw new UserError('--build and --no-build are incompatible');
  const timeout = parseSeconds(f.timeout, '--timeout');
  const waitTimeout = parseSeconds(f.waitTimeout, '--wait-timeout');
  return {
    services,
    noDeps: f.noDeps,
    recreate: f.forceRecreate ? 'force' : f.noRecreate ? 'never' : 'diverged',
    recreateDependencies: f.alwaysRecreateDeps ? 'force' : f.noRecreate ? 'never' : 'diverged',
    removeOrphans: f.removeOrphans,
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
    .option('-V, --renew-anon-volumes', 'Recreate anonymous volumes instead of retrieving data from the previous containers');
}

export function register(program: Command): void {
  const up = program
    .command('up')
    .description('Create and start containers')
    .argument('[SERVICE...]')
    .option('-d, --detach', 'Detached mode: Run containers in the background');
  commonCreateOptions(up)
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
    .action(action(runUp));

  const create = program.command('create').description('Creates containers for a service').argument('[SERVICE...]');
  commonCreateOptions(create).action(
    action(async (ctx: ComposeContext, services: string[], flags: UpFlags) => {
      const { converge } = await import('./compose-converge.js');
      await converge(ctx, await ctx.bus(), { ...convergeOptions(services, normalizeFlags(flags), false), title: 'Creating' });
    }),
  );
}

/** An option spelled `--no-x <value>` that carries values instead of negating `--x`. */
function valueOption(flags: string, description: string): Option {
  const o = new Option(flags, description).argParser(collect);
  o.negate = false;
  return o;
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

async function runUp(ctx: ComposeContext, services: string[], f: UpFlags): Promise<number> {
  const flags = normalizeFlags(f);
  const attached = !flags.detach && !flags.wait && !flags.noStart;
  if (flags.detach && (flags.abortOnContainerExit || flags.abortOnContainerFailure)) {
    throw new UserError('--abort-on-container-exit and --abort-on-container-failure are incompatible with --detach');
  }
  const { converge } = await import('./compose-converge.js');
  const interrupt = new AbortController();
  const bus = await ctx.bus();
  const startedAt = Date.now() / 1000;
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write('Gracefully Stopping... press Ctrl+C again to force\n');
      interrupt.abort();
    }
  };
  process.on('SIGINT', onSigint);
  try {
    const o = convergeOptions(services, flags, !flags.noStart);
    const done = await converge(ctx, bus, { ...o, signal: interrupt.signal });
    if (ctx.dryRun) return 0;
    if (flags.exitCodeFrom && !done.project.services[flags.exitCodeFrom]) throw new UserError(`no such service: ${flags.exitCodeFrom}`, 1, '--exit-code-from names a service of the project');
    if (!attached && !interrupt.signal.aborted) return 0;
    return await attachAndWait(ctx, done.project.name, services, flags, interrupt, startedAt, () => interrupts);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

async function attachAndWait(
  ctx: ComposeContext,
  project: string,
  services: string[],
  f: UpFlags,
  interrupt: AbortController,
  since: number,
  interrupts: () => number,
): Promise<number> {
  const [{ LogPrinter }, { colorFor }, { follow, displayName }, { Label }] = await Promise.all([
    import('../progress/logs.js'),
    import('../progress/select.js'),
    import('./compose-attach.js'),
    import('../../planner/labels.js'),
  ]);
  const engine = await ctx.engine();
  const all = await engine.containers.list({ all: true, labels: { [Label.project]: project, [Label.oneoff]: 'False' } });
  const wanted = (svc: string) =>
    (f.attach?.length ? f.attach.includes(svc) : !services.length || services.includes(svc)) && !(f.noAttach ?? []).includes(svc);
  const containers = all.filter((c) => wanted(c.labels[Label.service] ?? '')).sort((a, b) => a.name.localeCompare(b.name));
  const printer = new LogPrinter(process.stdout, f.noColor ? colorFor(process.stdout, 'never') : colorFor(process.stdout, ctx.globals.ansi), {
    prefix: !f.noLogPrefix,
    timestamps: f.timestamps,
  });
  if (!interrupt.signal.aborted) {
    process.stdout.write(`Attaching to ${containers.map((c) => displayName(c, project)).join(', ')}\n`);
  }
  const abortOn = f.abortOnContainerExit ? 'exit' : f.abortOnContainerFailure ? 'failure' : undefined;
  const result = await follow(engine, project, containers, printer, { since, abortOn, signal: interrupt.signal });
  if (result.reason === 'all-exited') return 0;

  // Stop the project: on an abort, or the first Ctrl-C; a second Ctrl-C kills.
  if (result.reason === 'abort') process.stderr.write('Aborting on container exit...\n');
  const exitCode = await stopProject(ctx, project, services, f, interrupts);
  if (result.reason === 'interrupted') return 130;
  if (f.exitCodeFrom) {
    const c = containers.find((x) => x.labels[Label.service] === f.exitCodeFrom);
    if (c) return result.exitCodes.get(c.id) ?? (await engine.containers.inspect(c.id))?.exitCode ?? 0;
  }
  return exitCode ?? result.trigger?.exitCode ?? 0;
}

async function stopProject(ctx: ComposeContext, project: string, services: string[], f: UpFlags, interrupts: () => number): Promise<number | undefined> {
  const [{ observe }, { PlanBuilder }, { planStops }, { execute }] = await Promise.all([
    import('../../planner/observe.js'),
    import('../../planner/plan.js'),
    import('../../planner/down.js'),
    import('../../planner/execute.js'),
  ]);
  const engine = await ctx.engine();
  const observed = await observe(engine, project);
  const containers = Object.values(observed.containers)
    .flat()
    .filter((c) => !services.length || services.includes(c.service));
  const b = new PlanBuilder();
  planStops(b, containers, parseSeconds(f.timeout, '--timeout'), 'stop');
  const force = new AbortController();
  const seen = interrupts();
  const watch = setInterval(() => {
    if (interrupts() > seen) force.abort();
  }, 50);
  const bus = await ctx.bus();
  bus.start('Stopping');
  try {
    const stopping = execute(b.build(), engine, bus.emit, { signal: force.signal });
    const forced = new Promise<'forced'>((resolve) => force.signal.addEventListener('abort', () => resolve('forced'), { once: true }));
    if ((await Promise.race([stopping, forced])) === 'forced') {
      const kill = new PlanBuilder();
      for (const c of containers) {
        kill.add({ kind: 'KillContainer', container: { id: c.id, name: c.name }, signal: 'SIGKILL' }, `service:${c.service}:${c.number}`, 'forced', [], { optional: true });
      }
      await execute(kill.build(), engine, bus.emit);
      return 130;
    }
    return undefined;
  } finally {
    clearInterval(watch);
    bus.stop();
  }
}
