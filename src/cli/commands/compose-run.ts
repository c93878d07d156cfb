import { Option, type Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { action, collect, type ComposeContext } from './compose-context.js';
import type { ContainerCreateRequest, MountRequest, PortMapping } from '../../engine/types.js';
import { UserError } from '../../util/errors.js';

interface RunFlags {
  detach?: boolean;
  name?: string;
  entrypoint?: string;
  env?: string[];
  label?: string[];
  user?: string;
  workdir?: string;
  deps?: boolean;
  rm?: boolean;
  publish?: string[];
  servicePorts?: boolean;
  useAliases?: boolean;
  volume?: string[];
  TTY?: boolean;
  interactive?: boolean;
  build?: boolean;
  pull?: 'always' | 'missing' | 'never';
  quietPull?: boolean;
  removeOrphans?: boolean;
  capAdd?: string[];
  capDrop?: string[];
}

export function register(program: Command): void {
  program
    .command('run')
    .description('Run a one-off command on a service')
    .argument('<SERVICE>')
    .argument('[COMMAND]')
    .argument('[ARGS...]')
    .option('-d, --detach', 'Run container in background and print container ID')
    .option('--name <name>', 'Assign a name to the container')
    .option('--entrypoint <cmd>', 'Override the entrypoint of the image')
    .option('-e, --env <KEY=VAL>', 'Set environment variables', collect)
    .option('-l, --label <KEY=VAL>', 'Add or override a label', collect)
    .option('-u, --user <user>', 'Run as specified username or uid')
    .option('-w, --workdir <dir>', 'Working directory inside the container')
    .option('--no-deps', "Don't start linked services")
    .option('--rm', 'Automatically remove the container when it exits')
    .option('-p, --publish <[ip:]host:container>', "Publish a container's port(s) to the host", collect)
    .option('-P, --service-ports', "Run command with all service's ports enabled and mapped to the host")
    .option('--use-aliases', "Use the service's network aliases in the network(s) the container connects to")
    .option('-v, --volume <src:dst[:ro]>', 'Bind mount a volume', collect)
    .option('-T, --no-TTY', 'Disable pseudo-TTY allocation (default: auto-detected)')
    .option('-i, --interactive', 'Keep STDIN open even if not attached', true)
    .option('--build', 'Build image before starting container')
    .addOption(new Option('--pull <policy>', 'Pull image before running').choices(['always', 'missing', 'never']))
    .option('-q, --quiet-pull', 'Pull without printing progress information')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('--cap-add <cap>', 'Add Linux capabilities', collect)
    .option('--cap-drop <cap>', 'Drop Linux capabilities', collect)
    .passThroughOptions()
    .action(action(runRun));
}

async function runRun(ctx: ComposeContext, service: string, command: string | undefined, args: string[], f: RunFlags): Promise<number> {
  const [{ converge, enableTargeted }, { containerRequest }, { observe, imageRef }, { Label, oneoffContainerName }, { parseEnvFlags, withStdio }, { withDependencies }, { serviceDeps, checkServices }] =
    await Promise.all([
      import('./compose-converge.js'),
      import('../../planner/container-request.js'),
      import('../../planner/observe.js'),
      import('../../planner/labels.js'),
      import('./compose-stdio.js'),
      import('../../planner/order.js'),
      import('../../planner/reconcile.js'),
    ]);
  const project = enableTargeted(await ctx.project(), [service]);
  checkServices(project, [service]);
  const deps = f.deps === false ? [] : [...withDependencies([service], serviceDeps(project))].filter((s) => s !== service);
  const bus = await ctx.bus();
  await converge(ctx, bus, {
    services: deps,
    infraOnly: [service],
    noDeps: true,
    start: true,
    removeOrphans: f.removeOrphans,
    build: f.build,
    pull: f.pull,
    quietPull: f.quietPull,
    title: 'Running',
  });
  const engine = await ctx.engine();
  const observed = await observe(engine, project.name, project);
  const s = project.services[service]!;
  const slug = randomBytes(16).toString('hex');
  const name = f.name ?? oneoffContainerName(project.name, service, slug);
  const image = observed.images[imageRef(project, service)];
  const tty = f.TTY !== false && !f.detach && !!process.stdin.isTTY;
  const interactive = f.interactive !== false && !f.detach;
  const base = containerRequest(project, s, observed, {
    number: 1,
    name,
    configHash: '',
    fieldDigests: '',
    imageId: image?.id ?? '',
    oneoff: true,
    labels: { [Label.slug]: slug, ...labelFlags(f.label) },
  });
  const spec: ContainerCreateRequest = {
    ...base,
    cmd: command !== undefined ? [command, ...args] : base.cmd,
    entrypoint: f.entrypoint !== undefined ? splitCommand(f.entrypoint) : base.entrypoint,
    env: { ...base.env, ...parseEnvFlags(f.env) },
    user: f.user ?? base.user,
    workingDir: f.workdir ?? base.workingDir,
    ports: [...(f.servicePorts ? (base.ports ?? []) : []), ...(f.publish ?? []).map(parsePublish)],
    mounts: [...(base.mounts ?? []), ...(f.volume ?? []).map((v) => parseVolume(v, project.workingDir))],
    networks: f.useAliases ? base.networks : base.networks?.map((n) => ({ ...n, aliases: [name] })),
    restart: undefined,
    tty,
    openStdin: interactive,
    stdinOnce: interactive,
    capAdd: [...(base.capAdd ?? []), ...(f.capAdd ?? [])],
    capDrop: [...(base.capDrop ?? []), ...(f.capDrop ?? [])],
    autoRemove: f.rm && f.detach,
  };
  if (ctx.dryRun) {
    process.stdout.write(`DRY-RUN MODE - container:${name} CreateContainer (run)\nDRY-RUN MODE - container:${name} StartContainer (run)\n`);
    return 0;
  }
  const { id } = await engine.containers.create(spec);
  if (f.detach) {
    await engine.containers.start(id);
    process.stdout.write(`${name}\n`);
    return 0;
  }
  try {
    return await withStdio({ tty, stdin: interactive }, async (io, onResize) => {
      const session = await engine.containers.attach(id, io);
      // Without a tty, Ctrl-C and TERM are the container's to handle, as `docker run` forwards them.
      const forward = (sig: NodeJS.Signals) => void engine.containers.kill(id, sig).catch(() => undefined);
      process.on('SIGINT', forward);
      process.on('SIGTERM', forward);
      try {
        const exited = engine.containers.wait(id, 'next-exit');
        await engine.containers.start(id);
        if (tty && io.size) await session.resize(io.size.rows, io.size.cols).catch(() => undefined);
        onResize((rows, cols) => void session.resize(rows, cols).catch(() => undefined));
        const { exitCode } = await exited;
        // Output can trail the exit by a moment; the stream ends when the daemon has sent it all.
        await Promise.race([session.done, new Promise((r) => setTimeout(r, 2000))]);
        session.close();
        return exitCode;
      } finally {
        process.off('SIGINT', forward);
        process.off('SIGTERM', forward);
      }
    });
  } finally {
    if (f.rm) await engine.containers.remove(id, { force: true, volumes: true }).catch(() => undefined);
  }
}

function labelFlags(values: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    out[eq >= 0 ? v.slice(0, eq) : v] = eq >= 0 ? v.slice(eq + 1) : '';
  }
  return out;
}

/** `--entrypoint "sh -c"` → ["sh", "-c"]; an empty string clears the image's entrypoint. */
function splitCommand(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(s); m; m = re.exec(s)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/** `-p [ip:][host:]container[/proto]`. */
function parsePublish(v: string): PortMapping {
  const m = /^(?:(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:]+\]):)?(?:(\d+(?:-\d+)?):)?(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(v);
  if (!m) throw new UserError(`invalid --publish value "${v}"`, 1, 'write it as [IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], e.g. 127.0.0.1:8080:80');
  return { hostIp: m[1]?.replace(/^\[|\]$/g, ''), published: m[2], target: Number(m[3]), protocol: (m[4]?.toLowerCase() ?? 'tcp') as PortMapping['protocol'] };
}

/** `-v SRC:DST[:ro]`: a host path (relative to the project directory) or a volume name. */
function parseVolume(v: string, workingDir: string): MountRequest {
  const parts = v.split(':');
  if (parts.length < 2 || parts.length > 3) throw new UserError(`invalid --volume value "${v}"`, 1, 'write it as SOURCE:TARGET[:ro]');
  const [src, target, mode] = parts as [string, string, string | undefined];
  const readOnly = mode === 'ro';
  if (src.startsWith('/') || src.startsWith('.') || src.startsWith('~')) {
    const path = src.startsWith('/') ? src : `${workingDir}/${src}`;
    return { type: 'bind', source: path, target, readOnly, createHostPath: true };
  }
  return { type: 'volume', source: src, target, readOnly };
}
