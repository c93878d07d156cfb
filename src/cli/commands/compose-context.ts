import type { Command } from 'commander';
import type { GlobalOptions } from '../program.js';
import type { Engine } from '../../engine/types.js';
import type { Project } from '../../project/types.js';
import type { ProgressBus } from '../progress/bus.js';
import { UserError } from '../../util/errors.js';

/**
 * What every compose verb needs, loaded lazily so that a command pays only
 * for what it uses: the project (spec loader), the engine (dockerode for the
 * docker backend), the progress bus. Nothing heavy is imported at startup.
 */
export class ComposeContext {
  private enginePromise?: Promise<Engine>;
  private projectPromise?: Promise<Project>;

  constructor(readonly globals: GlobalOptions) {}

  static of(cmd: Command): ComposeContext {
    return new ComposeContext(cmd.optsWithGlobals() as GlobalOptions);
  }

  get dryRun(): boolean {
    return !!this.globals.dryRun;
  }

  /** The compose project, loaded once (all services: selection is the planner's job). */
  project(): Promise<Project> {
    this.projectPromise ??= (async () => {
      const { loadProject } = await import('../../project/load.js');
      return loadProject({
        configFiles: this.globals.file,
        projectDirectory: this.globals.projectDirectory,
        projectName: this.globals.projectName,
        envFiles: this.globals.envFile,
        profiles: this.globals.profile,
        // The planner creates only what the services it runs use; keeping the rest lets a
        // service enabled by naming it (whatever its profiles) find its networks and volumes.
        keepUnusedResources: true,
      });
    })();
    return this.projectPromise;
  }

  /**
   * The project when there is a compose file, or just its name when there is
   * none and -p (or COMPOSE_PROJECT_NAME) names it: `down`, `ps`, `logs`,
   * `stop`... work from labels alone, as in Compose.
   */
  async projectOrName(): Promise<{ project?: Project; name: string }> {
    try {
      const project = await this.project();
      return { project, name: project.name };
    } catch (err) {
      const name = this.globals.projectName ?? process.env.COMPOSE_PROJECT_NAME;
      if (err instanceof UserError && name && !this.globals.file?.length && /no configuration file|not found|cannot find/i.test(err.message)) {
        return { name };
      }
      throw err;
    }
  }

  engine(): Promise<Engine> {
    this.enginePromise ??= (async () => {
      const { openEngine } = await import('../../engine/index.js');
      return openEngine(this.globals.backend);
    })();
    return this.enginePromise;
  }

  async bus(): Promise<ProgressBus> {
    const { progressBus } = await import('../progress/select.js');
    return progressBus({ progress: this.globals.progress, ansi: this.globals.ansi });
  }

  async close(): Promise<void> {
    if (this.enginePromise) await (await this.enginePromise).close();
  }
}

/** Runs a verb with its context, closing the engine however it ends. */
export function action<A extends unknown[]>(fn: (ctx: ComposeContext, ...args: A) => Promise<number | void>) {
  return async (...args: A): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    const ctx = ComposeContext.of(cmd);
    try {
      const code = await fn(ctx, ...args);
      if (typeof code === 'number' && code !== 0) process.exitCode = code;
    } finally {
      await ctx.close();
    }
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--scale web=3` (repeatable) → {web: 3}. */
export function parseScale(values: string[] | undefined): Record<string, number> | undefined {
  if (!values?.length) return undefined;
  const out: Record<string, number> = {};
  for (const v of values) {
    const m = /^([^=]+)=(\d+)$/.exec(v);
    if (!m) throw new UserError(`invalid --scale value "${v}"`, 1, 'write it as SERVICE=NUMBER, e.g. --scale web=3');
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

export function parseSeconds(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UserError(`invalid ${flag} value "${v}"`, 1, `give a number of seconds, e.g. ${flag} 10`);
  return n;
}
