import { writeFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { GlobalOptions } from '../global-options.js';
import { CliContext } from '../context.js';
import { swarmConfigText } from '../swarm/verbs.js';
import { loadOptionsFromGlobals, refuseCompatibility } from '../project-options.js';
import { loadModel, loadProject, type LoadOptions } from '../../project/load.js';
import { config, documentText, type ConfigOptions } from '../../compose/config.js';
import { modelVariables, variablesText } from '../../compose/config-variables.js';
import { pinnedImages, serviceConfigHashes, withImages } from '../../compose/config-images.js';

/**
 * `tscompose config`: the project as the loader understood it, in Compose's
 * canonical form, or one list (services, volumes, networks, profiles,
 * images, models), the services' config hashes, the variables the files
 * use, or nothing (`-q`: validate only). The --no-* flags turn loader
 * phases off; the digest flags pin images to what the image store recorded.
 */
interface ConfigFlags {
  format?: 'yaml' | 'json';
  quiet?: boolean;
  services?: boolean;
  volumes?: boolean;
  networks?: boolean;
  profiles?: boolean;
  images?: boolean;
  models?: boolean;
  environment?: boolean;
  variables?: boolean;
  hash?: string;
  output?: string;
  interpolate?: boolean;
  normalize?: boolean;
  pathResolution?: boolean;
  envResolution?: boolean;
  consistency?: boolean;
  resolveImageDigests?: boolean;
  lockImageDigests?: boolean;
}

export function register(program: Command): void {
  program
    .command('config')
    .alias('convert')
    .usage('[OPTIONS] [SERVICE...]')
    .description('Parse, resolve and render compose file in canonical format')
    .argument('[SERVICE...]')
    .addOption(new Option('--format <string>', 'Format the output. Values: [yaml | json]').argParser(formatArg))
    .option('-q, --quiet', "Only validate the configuration, don't print anything")
    .option('--services', 'Print the service names, one per line.')
    .option('--volumes', 'Print the volume names, one per line.')
    .option('--networks', 'Print the network names, one per line.')
    .option('--profiles', 'Print the profile names, one per line.')
    .option('--images', 'Print the image names, one per line.')
    .option('--models', 'Print the model names, one per line.')
    .option('--environment', 'Print environment used for interpolation.')
    .option('--variables', 'Print model variables and default values.')
    .option('--hash <services>', 'Print the service config hash, one per line ("*" for all, or SERVICE,SERVICE)')
    .option('--no-interpolate', "Don't interpolate environment variables (prints the merged model as written)")
    .option('--no-normalize', "Don't normalize compose model (prints the merged model)")
    .option('--no-path-resolution', "Don't resolve file paths")
    .option('--no-env-resolution', "Don't resolve service env files")
    .option('--no-consistency', "Don't check model consistency - warning: may produce invalid Compose output")
    .option('--resolve-image-digests', 'Pin image tags to digests (those the image store recorded at pull or push)')
    .option('--lock-image-digests', 'Produces an override file with image digests')
    .option('-o, --output <string>', 'Save to file (default to stdout)')
    .action(async (services: string[], _opts: ConfigFlags, cmd: Command) => {
      const f = cmd.optsWithGlobals() as GlobalOptions & ConfigFlags;
      const text = await configText(cmd, f, services);
      if (text === undefined) return;
      if (f.output) writeFileSync(f.output, text);
      else process.stdout.write(text);
    });
}

async function configText(cmd: Command, f: GlobalOptions & ConfigFlags, services: string[]): Promise<string | undefined> {
  const options: LoadOptions = loadOptionsFromGlobals(f, {
    ...(services.length ? { services } : {}),
    ...(f.pathResolution === false ? { resolvePaths: false } : {}),
    ...(f.envResolution === false ? { resolveEnvFiles: false } : {}),
    ...(f.consistency === false ? { consistency: false } : {}),
  });
  if (f.variables) return variablesText(modelVariables(await loadModel({ ...options, interpolate: false })), f.format === 'json' ? 'json' : 'table');
  if (f.interpolate === false || f.normalize === false) {
    const model = await loadModel({ ...options, interpolate: f.interpolate !== false });
    return f.quiet ? undefined : documentText(model, f.format);
  }
  const project = await loadProject(options);
  refuseCompatibility(f, project.environment);
  if (f.quiet) return undefined;
  const list = (['services', 'volumes', 'networks', 'profiles', 'images', 'models', 'environment'] as const).find((k) => f[k]);
  // On a swarm, the document is the stack as `up` will write it; the lists are the project's, as anywhere.
  if (f.backend === 'swarm' && !list && !f.hash && !f.resolveImageDigests && !f.lockImageDigests) return swarmConfigText(project, f.format);
  const opts: ConfigOptions = { ...(f.format ? { format: f.format } : {}), ...(list ? { list } : {}), ...(f.envResolution === false ? { envFiles: true } : {}) };
  if (!f.hash && !f.resolveImageDigests && !f.lockImageDigests) return config(project, opts);

  const ctx = CliContext.of(cmd);
  try {
    const engine = await ctx.engine();
    if (f.hash) return (await serviceConfigHashes(engine, project, f.hash.split(',').map((s) => s.trim()).filter(Boolean))).map((h) => `${h.service} ${h.hash}\n`).join('');
    const pinned = await pinnedImages(engine, project);
    if (f.lockImageDigests) return documentText({ services: Object.fromEntries(Object.entries(pinned).map(([n, image]) => [n, { image }])) }, f.format);
    return config(withImages(project, pinned), opts);
  } finally {
    await ctx.close();
  }
}

function formatArg(value: string): 'yaml' | 'json' {
  if (value !== 'yaml' && value !== 'json') throw new InvalidArgumentError('use yaml or json.');
  return value;
}
