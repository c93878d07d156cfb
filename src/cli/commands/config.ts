import { writeFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { GlobalOptions } from '../global-options.js';
import { loadOptionsFromGlobals, refuseCompatibility } from '../project-options.js';
import { loadProject } from '../../project/load.js';
import { config, type ConfigOptions } from '../../compose/config.js';

/**
 * `tscompose config`: the project as the loader understood it, in Compose's
 * canonical form, or one list (services, volumes, networks, profiles,
 * images), or nothing (`-q`: validate only).
 */
interface ConfigFlags {
  format?: 'yaml' | 'json';
  quiet?: boolean;
  services?: boolean;
  volumes?: boolean;
  networks?: boolean;
  profiles?: boolean;
  images?: boolean;
  environment?: boolean;
  output?: string;
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
    .option('--environment', 'Print environment used for interpolation.')
    .option('-o, --output <string>', 'Save to file (default to stdout)')
    .action(async (services: string[], _opts: ConfigFlags, cmd: Command) => {
      const f = cmd.optsWithGlobals() as GlobalOptions & ConfigFlags;
      const project = await loadProject(loadOptionsFromGlobals(f, services.length ? { services } : {}));
      refuseCompatibility(f, project.environment);
      if (f.quiet) return;
      const list = (['services', 'volumes', 'networks', 'profiles', 'images', 'environment'] as const).find((k) => f[k]);
      const text = config(project, { ...(f.format ? { format: f.format } : {}), ...(list ? { list } : {}) } satisfies ConfigOptions);
      if (f.output) writeFileSync(f.output, text);
      else process.stdout.write(text);
    });
}

function formatArg(value: string): 'yaml' | 'json' {
  if (value !== 'yaml' && value !== 'json') throw new InvalidArgumentError('use yaml or json.');
  return value;
}
