import type { Command } from 'commander';
import { UserError } from '../../util/errors.js';
import type { Engine, ProcessIO } from '../../engine/types.js';
import { runContainer, startAttached } from '../../compose/run-container.js';
import { copyFromContainer, copyToContainer } from '../../compose/copy-tar.js';
import { addCreateOptions, requestFromFlags, type CreateFlags } from '../container/create-flags.js';
import { parseEnv, parseInteger, parseTime } from '../container/flags.js';
import { defineCommit } from '../container/commit.js';
import { defineStats } from '../container/stats.js';
import { filterContainers, parsePsFilters, psRows, renderPs } from '../present/containers.js';
import { renderTemplate, table } from '../present/docker.js';
import { collect } from '../flags.js';
import { holdSignals } from '../terminal.js';
import { forEach, objectEngine } from '../objects.js';

/**
 * `tscompose container ...`: the native engine's containers with the docker
 * CLI's verbs, flags, output and exit codes, driven through the Engine (the
 * same route as the compose verbs).
 */

const engineOf = (cmd: Command) => objectEngine(cmd, 'container');

interface StopFlags { signal?: string; time?: string }

function stopFlags(cmd: Command): Command {
  return cmd
    .option('-s, --signal <string>', 'Signal to send to the container')
    .option('-t, --time <int>', 'Seconds to wait before killing the container');
}

/** The engine's warnings about a create, on stderr as the docker CLI prints them. */
function printWarning(warning: string): void {
  process.stderr.write(`WARNING: ${warning}\n`);
}

/** Docker's run/create exit 125 when the engine refuses; 126/127 when the command cannot be run. */
function runError(err: unknown): never {
  if (err instanceof UserError && err.exitCode === 1) throw new UserError(err.message, 125, err.hint);
  throw err;
}

/** This process's streams for a foreground container; ^C and kill signals are the container's, passed on. */
function stdio(engine: Engine, o: { tty?: boolean; interactive?: boolean }): { io: ProcessIO; forward(id: string): void; release(): void } {
  const release = holdSignals();
  const handlers: Array<[NodeJS.Signals, () => void]> = [];
  return {
    io: { stdout: process.stdout, stderr: process.stderr, ...(o.interactive ? { stdin: process.stdin } : {}), tty: o.tty ?? false },
    forward(id) {
      // A terminal's signals reach a tty container through the helper; without one, they are sent on as `docker run` does.
      if (o.tty) return;
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) {
        const h = () => void engine.containers.kill(id, sig).catch(() => undefined);
        process.on(sig, h);
        handlers.push([sig, h]);
      }
    },
    release() {
      for (const [sig, h] of handlers) process.off(sig, h);
      release();
      if (o.interactive) {
        process.stdin.pause();
        process.stdin.unref?.();
      }
    },
  };
}

async function runCmd(engine: Engine, image: string, command: string[], f: CreateFlags & { detach?: boolean }): Promise<void> {
  if (f.tty && f.interactive && !process.stdin.isTTY && !f.detach) {
    throw new UserError('the input device is not a TTY', 1, 'drop -t, or run from a terminal');
  }
  let request;
  try {
    request = requestFromFlags(image, command, f);
  } catch (err) {
    runError(err);
  }
  if (f.detach) {
    const { id } = await runContainer(engine, request!, { detach: true, onWarning: printWarning }).catch(runError);
    process.stdout.write(`${id}\n`);
    return;
  }
  const s = stdio(engine, f);
  try {
    // In the foreground this process removes it once it has its exit code (the engine would race it).
    const { exitCode } = await runContainer(engine, { ...request!, autoRemove: false }, { io: s.io, rm: f.rm, onStart: (c) => s.forward(c.id), onWarning: printWarning }).catch(runError);
    process.exitCode = exitCode;
  } finally {
    s.release();
  }
}

export function register(program: Command): void {
  const container = program.command('container').description('Manage containers of the native engine').enablePositionalOptions();
  defineCommit(container.command('commit'));
  defineStats(container.command('stats'));

  addCreateOptions(container.command('run'))
    .description('Create and run a new container from an image')
    .argument('<image>')
    .argument('[command...]')
    .option('-d, --detach', 'Run container in background and print container ID')
    .passThroughOptions()
    .action(async (image: string, command: string[], f: CreateFlags & { detach?: boolean }, cmd: Command) => {
      await runCmd(await engineOf(cmd), image, command, f);
    });

  addCreateOptions(container.command('create'))
    .description('Create a new container')
    .argument('<image>')
    .argument('[command...]')
    .passThroughOptions()
    .action(async (image: string, command: string[], f: CreateFlags, cmd: Command) => {
      const engine = await engineOf(cmd);
      let request;
      try {
        request = requestFromFlags(image, command, f);
      } catch (err) {
        runError(err);
      }
      const { id, warnings } = await engine.containers.create(request).catch(runError);
      warnings.forEach(printWarning);
      process.stdout.write(`${id}\n`);
    });

  container.command('start')
    .description('Start one or more stopped containers')
    .argument('<container...>')
    .option('-a, --attach', 'Attach STDOUT/STDERR and forward signals')
    .option('-i, --interactive', "Attach container's STDIN")
    .action(async (refs: string[], o: { attach?: boolean; interactive?: boolean }, cmd: Command) => {
      const engine = await engineOf(cmd);
      if (o.attach || o.interactive) {
        if (refs.length > 1) throw new UserError('you cannot start and attach multiple containers at once');
        const c = await engine.containers.inspect(refs[0]!);
        if (!c) throw new UserError(`No such container: ${refs[0]}`);
        const s = stdio(engine, { tty: c.tty, interactive: o.interactive });
        try {
          process.exitCode = (await startAttached(engine, c.id, s.io, { onStart: (r) => s.forward(r.id) })).exitCode;
        } finally {
          s.release();
        }
        return;
      }
      await forEach(refs, async (ref) => {
        await engine.containers.start(ref);
        process.stdout.write(`${ref}\n`);
      });
    });

  stopFlags(container.command('stop'))
    .description('Stop one or more running containers')
    .argument('<container...>')
    .action(async (refs: string[], o: StopFlags, cmd: Command) => {
      const engine = await engineOf(cmd);
      const time = o.time !== undefined ? parseInteger(o.time, '--time') : undefined;
      await forEach(refs, async (ref) => {
        await engine.containers.stop(ref, time, o.signal);
        process.stdout.write(`${ref}\n`);
      });
    });

  stopFlags(container.command('restart'))
    .description('Restart one or more containers')
    .argument('<container...>')
    .action(async (refs: string[], o: StopFlags, cmd: Command) => {
      const engine = await engineOf(cmd);
      const time = o.time !== undefined ? parseInteger(o.time, '--time') : undefined;
      await forEach(refs, async (ref) => {
        await engine.containers.restart(ref, time, o.signal);
        process.stdout.write(`${ref}\n`);
      });
    });

  container.command('kill')
    .description('Kill one or more running containers')
    .argument('<container...>')
    .option('-s, --signal <string>', 'Signal to send to the container', 'KILL')
    .action(async (refs: string[], o: { signal: string }, cmd: Command) => {
      const engine = await engineOf(cmd);
      await forEach(refs, async (ref) => {
        await engine.containers.kill(ref, o.signal);
        process.stdout.write(`${ref}\n`);
      });
    });

  container.command('rm').alias('remove')
    .description('Remove one or more containers')
    .argument('<container...>')
    .option('-f, --force', 'Force the removal of a running container (uses SIGKILL)')
    .option('-v, --volumes', 'Remove anonymous volumes associated with the container')
    .action(async (refs: string[], o: { force?: boolean; volumes?: boolean }, cmd: Command) => {
      const engine = await engineOf(cmd);
      await forEach(refs, async (ref) => {
        await engine.containers.remove(ref, { force: o.force ?? false, volumes: o.volumes ?? false });
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
      const engine = await engineOf(cmd);
      const filter = parsePsFilters(o.filter);
      const last = o.latest ? 1 : o.last !== undefined ? parseInteger(o.last, '--last') : undefined;
      const all = o.all || last !== undefined || filter.status !== undefined;
      let list = filterContainers(await engine.containers.list({ all, ...(filter.labels ? { labels: filter.labels } : {}) }), filter);
      if (last !== undefined && last >= 0) list = list.slice(0, last);
      process.stdout.write(renderPs(psRows(list, { noTrunc: o.trunc === false }), { quiet: o.quiet, format: o.format }));
    });

  container.command('inspect')
    .description('Display detailed information on one or more containers')
    .argument('<container...>')
    .option('-f, --format <string>', 'Format output using a Go-like template')
    .action(async (refs: string[], o: { format?: string }, cmd: Command) => {
      const engine = await engineOf(cmd);
      const found: unknown[] = [];
      for (const ref of refs) {
        const c = await engine.containers.inspectRaw(ref);
        if (c) found.push(c);
        else {
          process.stderr.write(`Error: No such container: ${ref}\n`);
          process.exitCode = 1;
        }
      }
      if (o.format) process.stdout.write(found.map((c) => `${renderTemplate(o.format!, c)}\n`).join(''));
      else process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
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
      const engine = await engineOf(cmd);
      const tail = o.tail === 'all' ? undefined : parseInteger(o.tail, '--tail');
      const lines = engine.containers.logs(ref, {
        follow: o.follow ?? false,
        timestamps: o.timestamps ?? false,
        ...(tail !== undefined ? { tail } : {}),
        ...(o.since ? { since: parseTime(o.since, '--since') / 1000 } : {}),
        ...(o.until ? { until: parseTime(o.until, '--until') / 1000 } : {}),
      });
      for await (const l of lines) {
        const text = `${l.timestamp ? `${l.timestamp} ` : ''}${l.text}${l.partial ? '' : '\n'}`;
        (l.stream === 'stdout' ? process.stdout : process.stderr).write(text);
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
      const engine = await engineOf(cmd);
      if (o.tty && o.interactive && !process.stdin.isTTY) throw new UserError('the input device is not a TTY', 1, 'drop -t, or run from a terminal');
      const env = Object.fromEntries(parseEnv(o.env, o.envFile).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
      const request = {
        cmd: command,
        ...(Object.keys(env).length ? { env } : {}),
        ...(o.user !== undefined ? { user: o.user } : {}),
        ...(o.workdir !== undefined ? { workingDir: o.workdir } : {}),
        tty: o.tty ?? false,
        privileged: o.privileged ?? false,
      };
      const s = stdio(engine, { tty: o.tty, interactive: o.interactive });
      try {
        if (o.detach) await engine.containers.execDetached(ref, request);
        else process.exitCode = (await engine.containers.exec(ref, request, s.io)).exitCode;
      } catch (err) {
        if (err instanceof UserError && err.exitCode === 1 && !/not running|No such/.test(err.message)) throw new UserError(err.message, 126, err.hint);
        throw err;
      } finally {
        s.release();
      }
    });

  container.command('cp')
    .description("Copy files/folders between a container and the local filesystem (use '-' for a tar on stdin or stdout)")
    .argument('<src>', 'CONTAINER:SRC_PATH, LOCAL_PATH or -')
    .argument('<dest>', 'CONTAINER:DEST_PATH, LOCAL_PATH or -')
    .option('-a, --archive', 'Archive mode (copy all uid/gid information)')
    .option('-L, --follow-link', 'Always follow symbol link in SRC_PATH')
    .action(async (src: string, dest: string, o: { archive?: boolean; followLink?: boolean }, cmd: Command) => {
      const engine = await engineOf(cmd);
      const split = (arg: string) => {
        const m = /^([^/.:][^:/]*):(.*)$/.exec(arg);
        return m ? { container: m[1]!, path: m[2]! || '/' } : undefined;
      };
      const from = split(src);
      const to = split(dest);
      if (from && to) throw new UserError('copying between containers is not supported', 1, 'copy to the host first');
      if (!from && !to) throw new UserError('must specify at least one container source', 1, 'use CONTAINER:PATH on one side');
      if (from) await copyFromContainer(engine, from.container, from.path, dest, process.stdout, { archive: o.archive });
      else await copyToContainer(engine, to!.container, src, to!.path, { archive: o.archive, followLink: o.followLink, stdin: process.stdin });
    });

  container.command('top')
    .description('Display the running processes of a container')
    .argument('<container>')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const top = await (await engineOf(cmd)).containers.top(ref);
      process.stdout.write(table([top.titles, ...top.processes]));
    });

  container.command('wait')
    .description('Block until one or more containers stop, then print their exit codes')
    .argument('<container...>')
    .action(async (refs: string[], _o: unknown, cmd: Command) => {
      const engine = await engineOf(cmd);
      await forEach(refs, async (ref) => {
        process.stdout.write(`${(await engine.containers.wait(ref)).exitCode}\n`);
      });
    });
}
