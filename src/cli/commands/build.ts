import type { Command } from 'commander';
import { action, type CliContext } from '../context.js';
import { collect, parseKeyValues } from '../flags.js';
import { build, buildDefinition, type BuildOptions } from '../../compose/build.js';
import { parseBytes } from '../container/flags.js';

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
  print?: boolean;
  check?: boolean;
  ssh?: string;
  builder?: string;
  memory?: string;
  provenance?: string;
  sbom?: string;
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
    .option('--print', 'Print equivalent bake file (JSON) instead of building')
    .option('-m, --memory <bytes>', 'Set memory limit for the build container (each RUN step)')
    .option('--provenance <string>', 'Add a provenance attestation (accepted; no attestation is made)')
    .option('--sbom <string>', 'Add a SBOM attestation (accepted; no attestation is made)')
    .option('--check', 'Check build configuration (refused: the builder has no build checks)')
    .option('--ssh <string>', 'Set SSH authentications used when building service images (refused: not forwarded)')
    .option('--builder <string>', 'Set builder to use (refused: tscompose has its own, or the Docker Engine\'s)')
    .action(
      action(async (ctx: CliContext, services: string[], f: BuildFlags) => {
        const o: BuildOptions = {
          services,
          noCache: f.cache === false,
          pull: f.pull,
          args: parseKeyValues(f.buildArg, '--build-arg', true),
          withDependencies: f.withDependencies,
          push: f.push,
          dryRun: ctx.dryRun,
          check: f.check,
          ...(f.memory !== undefined ? { memory: parseBytes(f.memory, '--memory') } : {}),
          ...(f.ssh !== undefined ? { ssh: f.ssh } : {}),
          ...(f.builder !== undefined ? { builder: f.builder } : {}),
          ...(f.provenance !== undefined ? { provenance: f.provenance } : {}),
          ...(f.sbom !== undefined ? { sbom: f.sbom } : {}),
        };
        const project = await ctx.project();
        if (f.print) {
          process.stdout.write(JSON.stringify(buildDefinition(project, o), null, 2) + '\n');
          return;
        }
        const { built } = await build(await ctx.engine(), project, o, ctx.listener({ output: !f.quiet }));
        if (ctx.dryRun) for (const b of built) process.stdout.write(`DRY-RUN MODE - build service ${b.service} as ${b.ref}\n`);
      }),
    );
}
