import type { Command } from 'commander';
import { action, type CliContext } from '../context.js';
import { collect, parseKeyValues } from '../flags.js';
import { build } from '../../compose/build.js';

/**
 * `tscompose build [SERVICE...]`: builds the services that have a build
 * section, as Compose does, with the native builder, or on the Docker
 * Engine with --backend docker. Each image is built once even when services
 * share it.
 */

interface BuildFlags {
  cache?: boolean;
  pull?: boolean;
  buildArg?: string[];
  quiet?: boolean;
  withDependencies?: boolean;
  push?: boolean;
}

export function register(program: Command): void {
  program.command('build')
    .description('Build or rebuild services')
    .argument('[SERVICE...]')
    .option('--no-cache', 'Do not use cache when building the image')
    .option('--pull', 'Always attempt to pull a newer version of the image')
    .option('--build-arg <key=value>', 'Set build-time variables for services (repeatable)', collect)
    .option('-q, --quiet', "Don't print anything to STDOUT")
    .option('--with-dependencies', 'Also build dependencies (transitively)')
    .option('--push', 'Push service images')
    .action(
      action(async (ctx: CliContext, services: string[], f: BuildFlags) => {
        const o = { services, noCache: f.cache === false, pull: f.pull, args: parseKeyValues(f.buildArg, '--build-arg', true), withDependencies: f.withDependencies, push: f.push, dryRun: ctx.dryRun };
        const project = await ctx.project();
        const { built } = await build(await ctx.engine(), project, o, ctx.listener({ output: !f.quiet }));
        if (ctx.dryRun) for (const b of built) process.stdout.write(`DRY-RUN MODE - build service ${b.service} as ${b.ref}\n`);
      }),
    );
}
