import { Writable } from 'node:stream';
import { Option, type Command } from 'commander';
import { action, orphanOptions, printDryRun, type CliContext } from '../context.js';
import { collect, runEnvironment } from '../flags.js';
import { withStdio } from '../terminal.js';
import { run, type RunOptions } from '../../compose/run.js';
import { formatPlan } from '../../compose/plan.js';
import type { MountRequest } from '../../engine/types.js';
import { parsePortMappings } from '../../engine/port-mapping.js';
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
  envFromFile?: string[];
  quiet?: boolean;
  quietBuild?: boolean;
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
    .option('--env-from-file <file>', 'Set environment variables from file (repeatable; -e wins over them, the first file over later ones)', collect)
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
    .option('--quiet-pull', 'Pull without printing progress information')
    .option('-q, --quiet', "Don't print anything to STDOUT (the progress is quiet too, the container's output dropped)")
    .option('--quiet-build', 'Suppress progress output from the build process')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('--cap-add <cap>', 'Add Linux capabilities', collect)
    .option('--cap-drop <cap>', 'Drop Linux capabilities', collect)
    .passThroughOptions()
    .action(action(runRun));
}

async function runRun(ctx: CliContext, service: string, command: string | undefined, args: string[], f: RunFlags): Promise<number> {
  const project = await ctx.project();
  const tty = f.TTY !== false && !f.detach && !!process.stdin.isTTY;
  const interactive = f.interactive !== false && !f.detach;
  const o: RunOptions = {
    service,
    ...(command !== undefined ? { command: [command, ...args] } : {}),
    ...(f.entrypoint !== undefined ? { entrypoint: splitCommand(f.entrypoint) } : {}),
    ...(f.name !== undefined ? { name: f.name } : {}),
    env: runEnvironment(f.env, f.envFromFile),
    labels: labelFlags(f.label),
    ...(f.user !== undefined ? { user: f.user } : {}),
    ...(f.workdir !== undefined ? { workingDir: f.workdir } : {}),
    deps: f.deps !== false,
    rm: f.rm,
    publish: (f.publish ?? []).flatMap(parsePortMappings),
    servicePorts: f.servicePorts,
    useAliases: f.useAliases,
    volumes: (f.volume ?? []).map((v) => parseVolume(v, project.workingDir)),
    capAdd: f.capAdd ?? [],
    capDrop: f.capDrop ?? [],
    tty,
    interactive,
    detach: f.detach,
    build: f.build,
    pull: f.pull,
    quietPull: f.quietPull,
    ...orphanOptions(f.removeOrphans, project, { removeFromEnv: false }),
    dryRun: ctx.dryRun,
  };
  const engine = await ctx.engine();
  // -q: nothing on stdout (Compose points its stdout at /dev/null), and no progress.
  if (f.quiet) ctx.globals.progress = 'quiet';
  const listener = ctx.listener({ output: !f.quiet && !f.quietBuild });
  const stdout = (text: string) => void (f.quiet ? undefined : process.stdout.write(text));
  if (ctx.dryRun || f.detach) {
    const r = await run(engine, project, o, listener);
    if (ctx.dryRun) {
      printDryRun(formatPlan(r.dependencies.plan));
      process.stdout.write(`DRY-RUN MODE - container:${r.container.name} CreateContainer (run)\nDRY-RUN MODE - container:${r.container.name} StartContainer (run)\n`);
    } else stdout(`${r.container.name}\n`);
    return 0;
  }
  // The terminal is the container's (raw mode, its size) only while it runs, not while dependencies come up.
  let onResize: ((cb: (rows: number, cols: number) => void) => void) | undefined;
  let stopForwarding = (): void => undefined;
  o.io = (use) => withStdio({ tty, stdin: interactive }, (io, resize) => {
    onResize = resize;
    return use(f.quiet ? { ...io, stdout: new Writable({ write: (_chunk, _enc, done) => done() }) } : io);
  });
  o.onStart = (c) => {
    // Without a tty, Ctrl-C and TERM are the container's to handle, as `docker run` forwards them.
    const forward = (sig: NodeJS.Signals) => void c.kill(sig).catch(() => undefined);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    stopForwarding = () => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
    };
    onResize?.((rows, cols) => void c.resize(rows, cols).catch(() => undefined));
  };
  try {
    return (await run(engine, project, o, listener)).exitCode;
  } finally {
    stopForwarding();
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
