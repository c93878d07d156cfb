import type { Command } from 'commander';
import { action, printDryRun, type CliContext } from '../context.js';
import { scale } from '../../compose/scale.js';
import { formatPlan } from '../../compose/plan.js';
import { UserError } from '../../util/errors.js';
import { swarmScale } from '../swarm/verbs.js';

/** scale: services at a number of replicas; publish and bridge: refused, each in one sentence with what to do instead. */
export function register(program: Command): void {
  program
    .command('scale')
    .description('Scale services')
    .argument('[SERVICE=REPLICAS...]')
    .option('--no-deps', "Don't start linked services")
    .action(
      action(async (ctx: CliContext, pairs: string[], f: { deps?: boolean }) => {
        const replicas: Record<string, number> = {};
        for (const p of pairs) {
          const m = /^([^=]+)=(\d+)$/.exec(p);
          if (!m) throw new UserError(`invalid scale argument "${p}"`, 1, 'write it as SERVICE=REPLICAS, e.g. tscompose scale web=3');
          replicas[m[1]!] = Number(m[2]);
        }
        if (ctx.globals.backend === 'swarm') return swarmScale(ctx, replicas);
        const done = await scale(await ctx.engine(), await ctx.project(), { replicas, noDeps: f.deps === false, dryRun: ctx.dryRun }, ctx.listener());
        if (ctx.dryRun) printDryRun(formatPlan(done.plan));
      }),
    );
  program
    .command('publish')
    .description('Publish compose application (refused: tscompose has no OCI artifact support)')
    .argument('[REPOSITORY[:TAG]]')
    .option('--app', 'Published compose application (includes referenced images)')
    .option('--oci-version <version>', 'OCI image/artifact specification version')
    .option('--resolve-image-digests', 'Pin image tags to digests')
    .option('--with-env', 'Include environment variables in the published OCI artifact')
    .option('-y, --yes', 'Assume "yes" as answer to all prompts')
    .action(
      action(async () => {
        throw new UserError(
          'publish is not supported: tscompose cannot store a Compose application as an OCI artifact in a registry',
          1,
          'push the images with `tscompose push` and share the compose file itself',
        );
      }),
    );
  program
    .command('bridge')
    .description('Convert compose files into another model (refused: Compose Bridge runs transformer images from Docker Hub)')
    .usage('convert|transformations [OPTIONS]')
    .argument('[ARGS...]')
    .allowUnknownOption()
    .action(
      action(async () => {
        throw new UserError(
          'bridge is not supported: tscompose does not run the transformer images Compose Bridge converts a project with',
          1,
          'convert the compose file with a tool of your own, e.g. Kompose for Kubernetes manifests',
        );
      }),
    );
}
