import { realpathSync } from 'node:fs';
import type { Command } from 'commander';
import { UserError, errorMessage } from '../../util/errors.js';
import { table } from '../../engine/native/image/present.js';
import type { ContainerRuntime } from '../../engine/native/runtime/index.js';
import { addCreateOptions, specFromFlags, type CreateFlags } from '../container/create-flags.js';
import { parsePsFilters, psRows, renderPs } from '../container/present.js';
import { parseEnv, parseInteger, parseTime } from '../container/flags.js';
import { renderTemplate } from '../../engine/native/image/present.js';
import { registerContainerCommit } from './commit.js';

/**
 * `tscompose container ...`: the native engine's containers with the docker
 * CLI's verbs, flags, output and exit codes. The runtime is imported on use,
 * so other commands do not pay for it.
 */

const collect = (value: string, previous: string[] = []) => [...previous, value];

const network = () => import('../../network/runtime-bridge.js');

async function openRuntime(cmd: Command): Promise<ContainerRuntime> {
  const opts = cmd.optsWithGlobals() as { backend?: string };
  if (opts.backend === 'docker') {
    throw new UserError('tscompose container manages the native engine\'s containers; with --backend docker, use `docker container`', 1,
      'Drop --backend docker (or TSCOMPOSE_BACKEND=docker) for this command');
  }
  if (process.getuid?.() !== 0) throw new UserError('tscompose container needs root: containers are made of namespaces, cgroups and mounts');
  const { ContainerRuntime } = await import('../../engine/native/runtime/index.js');
  const rt = await ContainerRuntime.open();
  // Whatever removes a container (rm, or ls finding an exited --rm one) takes its network endpoints away too.
  rt.onRemoved(async (id) => (await network()).containerRemoved(id));
  return rt;
}

/** Runs `fn` for each argument as docker does: errors are printed, the others still run, exit 1 if any failed. */
async function forEach(refs: string[], fn: (ref: string) => Promise<void>): Promise<void> {
  let failed = false;
  for (const ref of refs) {
    try {
      await fn(ref);
    } catch (err) {
      failed = true;
      process.stderr.write(`Error response from daemon: ${errorMessage(err)}\n`);
    }
  }
  if (failed) process.exitCode = 1;
}

/** Creates the container and wires its network (src/network); one whose network cannot be made is removed again. */
async function createWired(rt: ContainerRuntime, image: string, command: string[], f: CreateFlags): Promise<string> {
  const id = await rt.create(await specFromFlags(image, command, f));
  try {
    await (await network()).wireContainerNetwork(rt, id, f);
  } catch (err) {
    await rt.remove(id, { force: true, volumes: true }).catch(() => undefined);
    throw err;
  }
  return id;
}

/** `logs | head` closes the pipe early: that ends the command, quietly, as it does for docker. */
function endOnClosedStdout(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

interface StopFlags { signal?: string; time?: string }

function stopFlags(cmd: Command): Command {
  return cmd
    .option('-s, --signal <string>', 'Signal to send to the container')
    .option('-t, --time <int>', 'Seconds to wait before killing the container');
}

function stopOptions(o: StopFlags): { timeout?: number; signal?: string } {
  return { ...(o.time !== undefined ? { timeout: parseInteger(o.time, '--time') } : {}), ...(o.signal ? { signal: o.signal } : {}) };
}

/** Docker's run/create exit 125 when the engine refuses; 126/127 when the command cannot be run. */
function runError(err: unknown): never {
  if (err instanceof UserError && err.exitCode === 1) throw new UserError(err.message, 125, err.hint);
  throw err;
}

/** While a foreground container runs, ^C and kill signals are the helper's to pass on, not ours to die of. */
function holdSignals(): () => void {
  const ignore = () => undefined;
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
  for (const s of sigs) process.on(s, ignore);
  return () => { for (const s of sigs) process.off(s, ignore); };
}

async function runContainer(rt: ContainerRuntime, image: string, command: string[], f: CreateFlags & { detach?: boolean }): Promise<void> {
  if (f.tty && f.interactive && !process.stdin.isTTY && !f.detach) {
    throw new UserError('the input device is not a TTY', 1, 'drop -t, or run from a terminal');
  }
  let id: string;
  try {
    id = await createWired(rt, image, command, f);
  } catch (err) {
    runError(err);
  }
  const net = await network();
  if (f.detach) {
    try {
      await rt.start(id);
      await net.containerStarted(rt, id);
    } catch (err) {
      if (f.rm) await rt.remove(id, { force: true, volumes: true }).catch(() => undefined);
      if (f.rm) await net.containerRemoved(id).catch(() => undefined);
      runError(err);
    }
    process.stdout.write(`${id}\n`);
    return;
  }
  const release = holdSignals();
  try {
    let attached;
    try {
      attached = await rt.start(id, { attach: { stdio: 'inherit', stdin: f.interactive ?? false } });
      await net.containerStarted(rt, id);
    } catch (err) {
      if (f.rm) await rt.remove(id, { force: true, volumes: true }).catch(() => undefined);
      if (f.rm) await net.containerRemoved(id).catch(() => undefined);
      runError(err);
    }
    const code = await attached!.exit;
    process.exitCode = code;
    if (f.rm) {
      await rt.waitExit(id);
      await rt.remove(id, { volumes: true }).catch(() => undefined);
      await net.containerRemoved(id);
    }
  } finally {
    release();
  }
}

export function register(program: Command): void {
  const container = program.command('container').description('Manage containers of the native engine').enablePositionalOptions();
  registerContainerCommit(container);

  addCreateOptions(container.command('run'))
    .description('Create and run a new container from an image')
    .argument('<image>')
    .argument('[command...]')
    .option('-d, --detach', 'Run container in background and print container ID')
    .passThroughOptions()
    .action(async (image: string, command: string[], f: CreateFlags & { detach?: boolean }, cmd: Command) => {
      await runContainer(await openRuntime(cmd), image, command, f);
    });

  addCreateOptions(container.command('create'))
    .description('Create a new container')
    .argument('<image>')
    .argument('[command...]')
    .passThroughOptions()
    .action(async (image: string, command: string[], f: CreateFlags, cmd: Command) => {
      const rt = await openRuntime(cmd);
      try {
        process.stdout.write(`${await createWired(rt, image, command, f)}\n`);
      } catch (err) {
        runError(err);
      }
    });

  container.command('start')
    .description('Start one or more stopped containers')
    .argument('<container...>')
    .option('-a, --attach', "Attach STDOUT/STDERR and forward signals")
    .option('-i, --interactive', "Attach container's STDIN")
    .action(async (refs: string[], o: { attach?: boolean; interactive?: boolean }, cmd: Command) => {
      const rt = await openRuntime(cmd);
      if (o.attach || o.interactive) {
        if (refs.length > 1) throw new UserError('you cannot start and attach multiple containers at once');
        const release = holdSignals();
        try {
          const id = rt.resolve(refs[0]!);
          await (await network()).containerStarting(rt, id);
          const a = await rt.start(id, { attach: { stdio: 'inherit', stdin: o.interactive ?? false } });
          await (await network()).containerStarted(rt, id);
          process.exitCode = a ? await a.exit : 0;
        } finally {
          release();
        }
        return;
      }
      await forEach(refs, async (ref) => {
        const id = rt.resolve(ref);
        await (await network()).containerStarting(rt, id);
        await rt.start(id);
        await (await network()).containerStarted(rt, id);
        process.stdout.write(`${ref}\n`);
      });
    });

  stopFlags(container.command('stop'))
    .description('Stop one or more running containers')
    .argument('<container...>')
    .action(async (refs: string[], o: StopFlags, cmd: Command) => {
      const rt = await openRuntime(cmd);
      const opts = stopOptions(o);
      await forEach(refs, async (ref) => {
        await rt.stop(ref, opts);
        await (await network()).containerStopped(rt.resolve(ref));
        process.stdout.write(`${ref}\n`);
      });
    });

  stopFlags(container.command('restart'))
    .description('Restart one or more containers')
    .argument('<container...>')
    .action(async (refs: string[], o: StopFlags, cmd: Command) => {
      const rt = await openRuntime(cmd);
      const opts = stopOptions(o);
      await forEach(refs, async (ref) => {
        const id = rt.resolve(ref);
        await (await network()).containerStarting(rt, id);
        await rt.restart(id, opts);
        await (await network()).containerStarted(rt, id);
        process.stdout.write(`${ref}\n`);
      });
    });

  container.command('kill')
    .description('Kill one or more running containers')
    .argument('<container...>')
    .option('-s, --signal <string>', 'Signal to send to the container', 'KILL')
    .action(async (refs: string[], o: { signal: string }, cmd: Command) => {
      const rt = await openRuntime(cmd);
      await forEach(refs, async (ref) => {
        await rt.kill(ref, o.signal);
        process.stdout.write(`${ref}\n`);
      });
    });

  container.command('rm').alias('remove')
    .description('Remove one or more containers')
    .argument('<container...>')
    .option('-f, --force', 'Force the removal of a running container (uses SIGKILL)')
    .option('-v, --volumes', 'Remove anonymous volumes associated with the container')
    .action(async (refs: string[], o: { force?: boolean; volumes?: boolean }, cmd: Command) => {
      const rt = await openRuntime(cmd);
      await forEach(refs, async (ref) => {
        const id = rt.resolve(ref);
        await rt.remove(id, { force: o.force ?? false, volumes: o.volumes ?? false });
        await (await network()).containerRemoved(id);
        process.stdout.write(`${ref}\n`);
      });
    });

  container.command('ls').aliases(['ps', 'list'])
    .description('List containers')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('-q, --quiet', 'Only display container IDs')
    .option('--no-trunc', "Don't truncate output")
    .option('-f, --filter <filter>', 'Filter output based on conditions provided (repeatable)', collect)
    .option('--format <string>', "Format output using a template ('table', 'json' or a Go-like template)")
    .option('-n, --last <int>', 'Show n last created containers (includes all states)')
    .option('-l, --latest', 'Show the latest created container (includes all states)')
    .action(async (o: { all?: boolean; quiet?: boolean; trunc?: boolean; filter?: string[]; format?: string; last?: string; latest?: boolean }, cmd: Command) => {
      const rt = await openRuntime(cmd);
      const filter = parsePsFilters(o.filter);
      const last = o.latest ? 1 : o.last !== undefined ? parseInteger(o.last, '--last') : undefined;
      let list = await rt.list({
        all: o.all || last !== undefined || filter.status !== undefined,
        ...(filter.labels ? { labels: filter.labels } : {}),
        ...(filter.name ? { name: filter.name } : {}),
        ...(filter.status ? { status: filter.status } : {}),
      });
      if (filter.id) list = list.filter((c) => c.Id.startsWith(filter.id!));
      if (last !== undefined && last >= 0) list = list.slice(0, last);
      process.stdout.write(renderPs(psRows(list, { noTrunc: o.trunc === false }), { quiet: o.quiet, format: o.format }));
    });

  container.command('inspect')
    .description('Display detailed information on one or more containers')
    .argument('<container...>')
    .option('-f, --format <string>', 'Format output using a Go-like template')
    .action(async (refs: string[], o: { format?: string }, cmd: Command) => {
      const rt = await openRuntime(cmd);
      const found: unknown[] = [];
      let missing = false;
      for (const ref of refs) {
        try {
          found.push(await rt.inspect(ref));
        } catch (err) {
          missing = true;
          process.stderr.write(`Error: ${errorMessage(err)}\n`);
        }
      }
      if (o.format) process.stdout.write(found.map((c) => `${renderTemplate(o.format!, c)}\n`).join(''));
      else process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
      if (missing) process.exitCode = 1;
    });

  container.command('logs')
    .description('Fetch the logs of a container')
    .argument('<container>')
    .option('-f, --follow', 'Follow log output')
    .option('-t, --timestamps', 'Show timestamps')
    .option('-n, --tail <string>', 'Number of lines to show from the end of the logs', 'all')
    .option('--since <string>', 'Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)')
    .option('--until <string>', 'Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)')
    .action(async (ref: string, o: { follow?: boolean; timestamps?: boolean; tail: string; since?: string; until?: string }, cmd: Command) => {
      const rt = await openRuntime(cmd);
      endOnClosedStdout();
      const tail = o.tail === 'all' ? undefined : parseInteger(o.tail, '--tail');
      const entries = rt.logs(ref, {
        follow: o.follow ?? false,
        ...(tail !== undefined ? { tail } : {}),
        ...(o.since ? { since: parseTime(o.since, '--since') } : {}),
        ...(o.until ? { until: parseTime(o.until, '--until') } : {}),
      });
      for await (const e of entries) {
        const text = `${o.timestamps ? `${e.time} ` : ''}${e.line}${e.partial ? '' : '\n'}`;
        (e.stream === 'stdout' ? process.stdout : process.stderr).write(text);
      }
    });

  container.command('exec')
    .description('Execute a command in a running container')
    .argument('<container>')
    .argument('<command...>')
    .option('-d, --detach', 'Detached mode: run command in the background')
    .option('-e, --env <list>', 'Set environment variables (repeatable)', collect)
    .option('--env-file <file>', 'Read in a file of environment variables (repeatable)', collect)
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('-u, --user <string>', 'Username or UID (format: "<name|uid>[:<group|gid>]")')
    .option('-w, --workdir <string>', 'Working directory inside the container')
    .option('--privileged', 'Give extended privileges to the command')
    .passThroughOptions()
    .action(async (ref: string, command: string[], o: {
      detach?: boolean; env?: string[]; envFile?: string[]; interactive?: boolean; tty?: boolean; user?: string; workdir?: string; privileged?: boolean;
    }, cmd: Command) => {
      const rt = await openRuntime(cmd);
      if (o.tty && o.interactive && !process.stdin.isTTY) throw new UserError('the input device is not a TTY', 1, 'drop -t, or run from a terminal');
      const release = holdSignals();
      try {
        const env = parseEnv(o.env, o.envFile);
        process.exitCode = await rt.exec(ref, {
          cmd: command,
          ...(env.length ? { env } : {}),
          ...(o.user !== undefined ? { user: o.user } : {}),
          ...(o.workdir !== undefined ? { workingDir: o.workdir } : {}),
          tty: o.tty ?? false,
          stdin: o.interactive ?? false,
          detach: o.detach ?? false,
          privileged: o.privileged ?? false,
        });
      } catch (err) {
        if (err instanceof UserError && err.exitCode === 1 && !/not running|No such/.test(err.message)) throw new UserError(err.message, 126, err.hint);
        throw err;
      } finally {
        release();
      }
    });

  container.command('cp')
    .description("Copy files/folders between a container and the local filesystem (use '-' for a tar on stdin or stdout)")
    .argument('<src>', 'CONTAINER:SRC_PATH, LOCAL_PATH or -')
    .argument('<dest>', 'CONTAINER:DEST_PATH, LOCAL_PATH or -')
    .option('-a, --archive', 'Archive mode (copy all uid/gid information)')
    .option('-L, --follow-link', 'Always follow symbol link in SRC_PATH')
    .action(async (src: string, dest: string, o: { archive?: boolean; followLink?: boolean }, cmd: Command) => {
      const rt = await openRuntime(cmd);
      const split = (arg: string) => {
        const m = /^([^/.:][^:/]*):(.*)$/.exec(arg);
        return m ? { container: m[1]!, path: m[2]! || '/' } : undefined;
      };
      const from = split(src);
      const to = split(dest);
      if (from && to) throw new UserError('copying between containers is not supported', 1, 'copy to the host first');
      if (!from && !to) throw new UserError('must specify at least one container source', 1, 'use CONTAINER:PATH on one side');
      const opts = { archive: o.archive ?? false };
      if (dest === '-') endOnClosedStdout();
      if (from) await rt.copyFrom(from.container, from.path, dest, opts);
      else await rt.copyTo(to!.container, o.followLink && src !== '-' ? realpathSync(src) : src, to!.path, opts);
    });

  container.command('top')
    .description('Display the running processes of a container')
    .argument('<container>')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const rt = await openRuntime(cmd);
      const top = await rt.top(ref);
      process.stdout.write(table([top.Titles, ...top.Processes]));
    });

  container.command('wait')
    .description('Block until one or more containers stop, then print their exit codes')
    .argument('<container...>')
    .action(async (refs: string[], _o: unknown, cmd: Command) => {
      const rt = await openRuntime(cmd);
      await forEach(refs, async (ref) => {
        process.stdout.write(`${await rt.wait(ref)}\n`);
      });
    });
}
