import type { Command } from 'commander';
import { UserError } from '../../util/errors.js';
import { action, collect, type ComposeContext } from './compose-context.js';
import { openBuildDeps, parseKeyValues } from './image-remote.js';

/**
 * `tscompose build [SERVICE...]`: builds the services that have a build
 * section, as Compose does (context, dockerfile, args, target, network,
 * tags, labels), with the native builder, or on the Docker Engine with
 * --backend docker. Each image is built once even when services share it.
 */

interface BuildFlags {
  cache?: boolean;
  pull?: boolean;
  buildArg?: string[];
  quiet?: boolean;
}

export function register(program: Command): void {
  program.command('build')
    .description('Build or rebuild services')
    .argument('[SERVICE...]')
    .option('--no-cache', 'Do not use cache when building the image')
    .option('--pull', 'Always attempt to pull a newer version of the image')
    .option('--build-arg <key=value>', 'Set build-time variables for services (repeatable)', collect)
    .option('-q, --quiet', "Don't print anything to STDOUT")
    .action(action(runBuild));
}

async function runBuild(ctx: ComposeContext, services: string[], f: BuildFlags): Promise<void> {
  const project = await ctx.project();
  const [{ checkServices }, { imageRef }, { buildRequest }] = await Promise.all([
    import('../../planner/reconcile.js'), import('../../planner/observe.js'), import('../../planner/images.js'),
  ]);
  checkServices(project, services);
  const names = (services.length ? services : Object.keys(project.services)).filter((n) => project.services[n]!.build);
  const extraArgs = parseKeyValues(f.buildArg, '--build-arg', true);
  const seen = new Set<string>();
  const say = (line: string) => { if (!f.quiet) process.stdout.write(`${line}\n`); };
  const native = ctx.globals.backend !== 'docker';
  const deps = native && !ctx.dryRun ? await openBuildDeps(ctx.globals.backend, 'build') : undefined;
  for (const name of names) {
    const ref = imageRef(project, name);
    if (seen.has(ref)) continue;
    seen.add(ref);
    const base = buildRequest(project, name, ref);
    const spec = { ...base, args: { ...(base.args ?? {}), ...extraArgs }, noCache: f.cache === false || base.noCache, pull: f.pull || base.pull, onProgress: (p: { status: string }) => say(p.status) };
    if (ctx.dryRun) {
      process.stdout.write(`DRY-RUN MODE - build service ${name} as ${ref}\n`);
      continue;
    }
    say(`Building ${name}`);
    if (deps) {
      const { buildFromRequest } = await import('../../build/index.js');
      await buildFromRequest(deps, spec);
    } else {
      const engine = await ctx.engine();
      await engine.images.build(spec);
    }
  }
  if (!names.length && services.length) throw new UserError(`none of the services ${services.join(', ')} has a build section`, 1, 'Add build: to the service, or pull its image');
}
