import { Readable } from 'node:stream';
import { down, exec, port, ps, restart, start, stop, up as composeUp, type PsOptions } from '../compose/index.js';
import { logs as composeLogs } from '../compose/logs.js';
import { events as composeEvents, type ProjectEvent } from '../compose/events.js';
import type { ComposeListener } from '../compose/progress.js';
import { openEngine, defaultBackend } from '../engine/index.js';
import type { BackendName, ContainerSummary, Engine, PortProtocol } from '../engine/types.js';
import { loadProject, type LoadOptions } from '../project/load.js';
import type { Project } from '../project/types.js';
import { UserError } from '../util/errors.js';
import { Capture, pushIterable } from './iterables.js';

/**
 * Where the project comes from: the CLI's global flags, as options (those of
 * loadProject: projectDirectory `--project-directory`, projectName `-p`,
 * envFiles `--env-file`, profiles `--profile`, environment, cwd, onWarning).
 */
export interface ProjectOptions extends Pick<LoadOptions, 'projectDirectory' | 'projectName' | 'envFiles' | 'profiles' | 'environment' | 'cwd' | 'onWarning'> {
  /** Compose files in merge order (`-f`; default: COMPOSE_FILE, then compose.yaml & co. found from `cwd` up). */
  files?: string[];
  /** The engine: tscompose's own ('native', the default, or TSCOMPOSE_BACKEND) or a Docker Engine ('docker'). */
  backend?: BackendName;
  /** What the stack's disposal does with its named volumes: removed, unless this is true. */
  keepVolumes?: boolean;
}

export interface UpOptions extends ProjectOptions {
  /** Only these services (and what they depend on); default: all. */
  services?: string[];
  /** Resolve only when every container runs, and is healthy where it has a healthcheck (`up --wait`). */
  wait?: boolean;
  /** How long `wait` may take, in milliseconds. */
  waitTimeout?: number;
  /** Build images before starting (`--build`). */
  build?: boolean;
  /** `--pull`. */
  pull?: 'always' | 'missing' | 'never' | 'build';
  /** `--force-recreate` ('force'), `--no-recreate` ('never'); default: recreate what changed. */
  recreate?: 'diverged' | 'force' | 'never';
  removeOrphans?: boolean;
  /** Stops `up` between operations (those running finish); the stack is then taken down. */
  signal?: AbortSignal;
  /** Progress as the CLI draws it: blocks, resources, warnings. */
  onProgress?: ComposeListener;
}

/** A line a container printed. */
export interface LogEntry {
  service: string;
  /** The container's name (`<project>-<service>-1`). */
  container: string;
  stream: 'stdout' | 'stderr';
  text: string;
  /** RFC 3339 with nanoseconds, with `timestamps: true`. */
  timestamp?: string;
}

export interface StackLogsOptions {
  services?: string[];
  /** Go on with new lines until the loop ends or `signal` aborts. */
  follow?: boolean;
  /** The last N lines of each container. */
  tail?: number;
  since?: Date;
  timestamps?: boolean;
  signal?: AbortSignal;
}

export interface StackExecOptions {
  env?: Record<string, string>;
  user?: string;
  workingDir?: string;
  privileged?: boolean;
  /** The replica, from 1. */
  index?: number;
  /** What the process reads on stdin. */
  input?: string | Uint8Array;
  /** false: resolve with a non-zero exit code instead of rejecting with an ExecError. */
  reject?: boolean;
}

export interface ExecOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A command run by `stack.exec` exited non-zero; its output is kept. */
export class ExecError extends UserError {
  constructor(
    readonly service: string,
    readonly cmd: readonly string[],
    override readonly exitCode: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    const why = stderr.trim().split('\n').pop();
    super(`${cmd.join(' ')} in service ${service} exited with code ${exitCode}${why ? `: ${why}` : ''}`, exitCode || 1);
    this.name = 'ExecError';
  }
}

// Node 20.4+ defines it (as Node's own Symbol.for); an older Node 20 gets the same symbol here.
(Symbol as { asyncDispose?: symbol }).asyncDispose ??= Symbol.for('nodejs.asyncDispose');

/**
 * A compose project as a test suite holds it: what `up` made, its ports,
 * commands in its containers, its output and events, and `down`. Disposing
 * of it (`await using`, or `down()`) takes it down with its volumes, unless
 * `keepVolumes`. One engine connection per stack, closed by `down`.
 */
export class Stack {
  private closed?: Promise<void>;

  constructor(
    readonly engine: Engine,
    readonly project: Project,
    private readonly options: { keepVolumes?: boolean } = {},
  ) {}

  /** The project's name: the prefix of its containers, networks and volumes. */
  get name(): string {
    return this.project.name;
  }

  /** The host port a container port of a service is published on (the first replica unless `index`). */
  async port(service: string, containerPort: number, o: { protocol?: PortProtocol; index?: number } = {}): Promise<number> {
    return (await this.address(service, containerPort, o)).port;
  }

  /** Where to reach a published container port from this machine: 127.0.0.1 for a port published on every address. */
  async address(service: string, containerPort: number, o: { protocol?: PortProtocol; index?: number } = {}): Promise<{ host: string; port: number }> {
    const bound = await port(this.live(), this.project, { service, port: containerPort, ...o });
    const host = bound.hostIp === '0.0.0.0' || bound.hostIp === '' ? '127.0.0.1' : bound.hostIp === '::' ? '::1' : bound.hostIp;
    return { host, port: bound.hostPort };
  }

  /** Runs a command in a running container of the service and collects its output; a non-zero exit rejects with an ExecError unless `reject: false`. */
  async exec(service: string, cmd: readonly string[], o: StackExecOptions = {}): Promise<ExecOutput> {
    const stdout = new Capture();
    const stderr = new Capture();
    const stdin = o.input === undefined ? undefined : Readable.from([Buffer.from(o.input)]);
    const { exitCode } = await exec(this.live(), this.project, {
      service, cmd: [...cmd], env: o.env, user: o.user, workingDir: o.workingDir, privileged: o.privileged, index: o.index,
      io: { stdout, stderr, ...(stdin ? { stdin } : {}) },
    });
    const out = { exitCode, stdout: stdout.text(), stderr: stderr.text() };
    if (exitCode !== 0 && o.reject !== false) throw new ExecError(service, cmd, exitCode, out.stdout, out.stderr);
    return out;
  }

  /** The containers' output, line by line; with `follow`, until the loop ends or `signal` aborts. */
  logs(o: StackLogsOptions = {}): AsyncIterable<LogEntry> {
    const engine = this.live();
    return pushIterable<LogEntry>(
      (push, signal) =>
        composeLogs(engine, this.project, {
          services: o.services, follow: o.follow, tail: o.tail, timestamps: o.timestamps, signal,
          ...(o.since ? { since: o.since.getTime() / 1000 } : {}),
        }, {
          line: (source, l) => push({ service: source.service, container: source.container, stream: l.stream, text: l.text, ...(l.timestamp ? { timestamp: l.timestamp } : {}) }),
        }),
      o.signal,
    );
  }

  /** The project's container events from now on (create, start, die, health_status...), until the loop ends or `signal` aborts. */
  events(o: { services?: string[]; signal?: AbortSignal } = {}): AsyncIterable<ProjectEvent> {
    const engine = this.live();
    return pushIterable<ProjectEvent>(async (push, signal) => {
      for await (const e of composeEvents(engine, this.project, { services: o.services, signal })) push(e);
    }, o.signal);
  }

  /** The project's containers (running ones, unless `all`). */
  ps(o: PsOptions = {}): Promise<ContainerSummary[]> {
    return ps(this.live(), this.project, o);
  }

  async start(services: string[] = []): Promise<void> {
    await start(this.live(), this.project, { services });
  }

  /** Stops the services' containers (all when none is named); `timeout` in seconds before SIGKILL. */
  async stop(services: string[] = [], o: { timeout?: number } = {}): Promise<void> {
    await stop(this.live(), this.project, { services, timeout: o.timeout });
  }

  async restart(services: string[] = [], o: { timeout?: number } = {}): Promise<void> {
    await restart(this.live(), this.project, { services, timeout: o.timeout });
  }

  /**
   * Takes the stack down: containers and networks, and named volumes unless
   * `volumes: false` (default: the stack's `keepVolumes`). Once: later calls
   * wait for the first, and the stack's other methods refuse.
   */
  down(o: { volumes?: boolean; timeout?: number } = {}): Promise<void> {
    this.closed ??= (async () => {
      try {
        await down(this.engine, this.project, { volumes: o.volumes ?? !this.options.keepVolumes, removeOrphans: true, timeout: o.timeout });
      } finally {
        await this.engine.close();
      }
    })();
    return this.closed;
  }

  /** `await using stack = await up(...)`: `down()` when the scope ends, however it ends. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.down();
  }

  private live(): Engine {
    if (this.closed) throw new UserError(`the stack ${this.name} is down`, 1, 'bring it up again with up()');
    return this.engine;
  }
}

/** Loads the project and opens its engine: a handle on a stack that may already be running (nothing is started). */
export async function openStack(options: ProjectOptions = {}): Promise<Stack> {
  const project = await loadProject({
    configFiles: options.files, projectDirectory: options.projectDirectory, projectName: options.projectName, envFiles: options.envFiles,
    profiles: options.profiles, environment: options.environment, cwd: options.cwd, onWarning: options.onWarning, keepUnusedResources: true,
  });
  const engine = await openEngine(options.backend ?? defaultBackend());
  return new Stack(engine, project, { keepVolumes: options.keepVolumes });
}

/**
 * `up -d` (with `wait: true`, `up --wait`) as a handle. When it fails, what it
 * made is taken down again (volumes too, unless `keepVolumes`) before the
 * error reaches the caller: a test that could not start its stack leaves
 * nothing behind.
 */
export async function up(options: UpOptions = {}): Promise<Stack> {
  const stack = await openStack(options);
  try {
    await composeUp(stack.engine, stack.project, {
      services: options.services, wait: options.wait, waitTimeoutMs: options.waitTimeout, build: options.build, pull: options.pull,
      recreate: options.recreate ?? 'diverged', recreateDependencies: options.recreate === 'never' ? 'never' : 'diverged',
      removeOrphans: options.removeOrphans, signal: options.signal,
    }, options.onProgress);
    if (options.signal?.aborted) throw options.signal.reason ?? new UserError('up was aborted');
  } catch (err) {
    await stack.down().catch(() => undefined);
    throw err;
  }
  return stack;
}
