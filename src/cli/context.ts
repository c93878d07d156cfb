import type { Command } from 'commander';
import type { GlobalOptions } from './global-options.js';
import { openEngine, type Engine } from '../compose/engine.js';
import { loadProject } from '../project/load.js';
import type { Project } from '../project/types.js';
import type { ComposeListener } from '../compose/progress.js';
import type { ProjectRef } from '../compose/project.js';
import { progressBus } from './progress/select.js';
import { UserError } from '../util/errors.js';
import { limitParallelism } from '../compose/parallel.js';
import { envBool } from './flags.js';
import { refuseCompatibility } from './project-options.js';
import { statePath } from '../util/paths.js';

/**
 * What a compose command turns its global flags into: the project (loaded
 * once), the engine (opened once, closed when the command ends) and a
 * listener that draws the compose layer's progress events on stderr.
 */
export class CliContext {
  private enginePromise?: Promise<Engine>;
  private projectPromise?: Promise<Project>;

  constructor(readonly globals: GlobalOptions) {}

  static of(cmd: Command): CliContext {
    return new CliContext(cmd.optsWithGlobals() as GlobalOptions);
  }

  get dryRun(): boolean {
    return !!this.globals.dryRun;
  }

  /** The compose project, loaded once (all services: selection is the planner's job). */
  project(): Promise<Project> {
    this.projectPromise ??= loadProject({
      configFiles: this.globals.file,
      projectDirectory: this.globals.projectDirectory,
      projectName: this.globals.projectName,
      envFiles: this.globals.envFile,
      profiles: this.globals.profile,
      // The planner creates only what the services it runs use; keeping the rest lets a
      // service enabled by naming it (whatever its profiles) find its networks and volumes.
      keepUnusedResources: true,
      // A command run again on the same model skips the schema (project/validated-models.ts).
      validatedModels: statePath('cache', 'validated'),
      // And on the same files, their YAML parse (project/parsed-trees.ts); only a bundle knows its build.
      ...parsedTrees(),
    }).then((p) => {
      refuseCompatibility(this.globals, p.environment);
      return p;
    });
    return this.projectPromise;
  }

  /**
   * The project when there is a compose file, or just its name when there is
   * none and -p (or COMPOSE_PROJECT_NAME) names it: `down`, `ps`, `logs`,
   * `stop`... work from labels alone, as in Compose.
   */
  async projectOrName(): Promise<ProjectRef> {
    try {
      return await this.project();
    } catch (err) {
      const name = this.globals.projectName ?? process.env.COMPOSE_PROJECT_NAME;
      if (err instanceof UserError && name && !this.globals.file?.length && /no configuration file|not found|cannot find/i.test(err.message)) {
        return { name };
      }
      throw err;
    }
  }

  engine(): Promise<Engine> {
    if (this.globals.backend === 'swarm') {
      // A swarm runs services, not containers: only the verbs of src/cli/swarm deploy there.
      return Promise.reject(new UserError(`this command does not run on a swarm; with --backend swarm, tscompose runs up, ps, logs, scale, config and down`, 1, 'drop --backend swarm (or TSCOMPOSE_BACKEND=swarm) for this command'));
    }
    this.enginePromise ??= openEngine(this.globals.backend).then((e) => limitParallelism(e, this.globals.parallel ?? -1));
    return this.enginePromise;
  }

  /**
   * The compose layer's events drawn as Compose does (tty, plain, json or
   * quiet, on stderr, or stdout with COMPOSE_STATUS_STDOUT); a build's output lines go to stdout.
   */
  listener(o: { output?: boolean } = {}): ComposeListener {
    // COMPOSE_STATUS_STDOUT: the status goes to stdout (Compose reads it once, from the process environment).
    const status = envBool(process.env.COMPOSE_STATUS_STDOUT) ? process.stdout : process.stderr;
    const bus = progressBus({ progress: this.globals.progress, ansi: this.globals.ansi }, status);
    return (e) => {
      switch (e.type) {
        case 'begin':
          return bus.start(e.title);
        case 'progress':
          return bus.emit(e.event);
        case 'warning':
          return bus.info(`WARN[0000] ${e.message}`);
        case 'info':
          return void status.write(`${e.message}\n`);
        case 'output':
          if (o.output !== false) process.stdout.write(`${e.text}\n`);
          return;
        case 'end':
          return bus.stop();
      }
    };
  }

  async close(): Promise<void> {
    if (this.enginePromise) await (await this.enginePromise).close();
  }
}

/** Runs a command with its context, closing the engine however it ends; a number it returns is the exit code. */
export function action<A extends unknown[]>(fn: (ctx: CliContext, ...args: A) => Promise<number | void>) {
  return async (...args: A): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    const ctx = CliContext.of(cmd);
    try {
      const code = await fn(ctx, ...args);
      if (typeof code === 'number' && code !== 0) process.exitCode = code;
    } finally {
      await ctx.close();
    }
  };
}

/** Prints a plan as a dry run does: every line prefixed, or that there is nothing to do. */
export function printDryRun(text: string): void {
  process.stdout.write(text ? text.replace(/^(?=.)/gm, 'DRY-RUN MODE - ') : 'DRY-RUN MODE - nothing to do\n');
}

/**
 * Compose's orphan switches: `--remove-orphans`, else COMPOSE_REMOVE_ORPHANS
 * (the process environment; `run` does not read it); COMPOSE_IGNORE_ORPHANS
 * (the project's environment, `.env` included): orphans neither warned about
 * nor removed, which `--remove-orphans` contradicts.
 */
export function orphanOptions(removeFlag: boolean | undefined, project: Project | undefined, o: { removeFromEnv: boolean }): { removeOrphans: boolean; ignoreOrphans: boolean } {
  const removeOrphans = removeFlag ?? (o.removeFromEnv && envBool(process.env.COMPOSE_REMOVE_ORPHANS));
  const ignoreOrphans = envBool(project?.environment.COMPOSE_IGNORE_ORPHANS);
  if (ignoreOrphans && removeOrphans) throw new UserError('cannot combine COMPOSE_IGNORE_ORPHANS and --remove-orphans', 1, 'unset one of COMPOSE_IGNORE_ORPHANS and --remove-orphans (or COMPOSE_REMOVE_ORPHANS)');
  return { removeOrphans, ignoreOrphans };
}

/** Where parsed compose files are remembered, keyed by the bundle's build id (scripts/compile-cache.cjs); none outside a bundle. */
function parsedTrees(): { parsedTrees?: { dir: string; build: string } } {
  const build = ((globalThis as Record<symbol, unknown>)[Symbol.for('tscompose.codeCache')] as { build?: unknown } | undefined)?.build;
  return typeof build === 'string' && build !== '' ? { parsedTrees: { dir: statePath('cache', 'parsed'), build } } : {};
}
