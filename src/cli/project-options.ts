import type { GlobalOptions } from './global-options.js';
import type { LoadOptions } from '../project/load.js';
import { UserError } from '../util/errors.js';
import { envBool } from './flags.js';

/**
 * The global options a user gives any command (-f, -p, --project-directory,
 * --env-file, --profile) plus the process environment, as the loader's
 * options. Every command that loads the project goes through this, so they
 * all find the same files, name and profiles.
 */
export function loadOptionsFromGlobals(globals: GlobalOptions, extra: Partial<LoadOptions> = {}): LoadOptions {
  const opts: LoadOptions = {
    environment: process.env,
    onWarning: printWarning,
    ...extra,
  };
  if (globals.file?.length) opts.configFiles = globals.file;
  if (globals.projectDirectory !== undefined) opts.projectDirectory = globals.projectDirectory;
  if (globals.projectName !== undefined) opts.projectName = globals.projectName;
  if (globals.envFile?.length) opts.envFiles = globals.envFile;
  if (globals.profile?.length) opts.profiles = globals.profile;
  if (globals.allResources) opts.keepUnusedResources = true;
  return opts;
}

/** Warnings go to stderr, so that stdout stays a clean document (`config > out.yaml`). */
export function printWarning(message: string): void {
  process.stderr.write(`WARN ${message}\n`);
}

/**
 * `--compatibility` / COMPOSE_COMPATIBILITY (from the project's environment,
 * `.env` included, as Compose reads it) asks for docker-compose v1's names
 * (project_service_1). tscompose names containers as Compose v2 does, and
 * finds them again by those names: refused rather than half-honoured.
 */
export function refuseCompatibility(globals: GlobalOptions, environment: Record<string, string | undefined>): void {
  if (!globals.compatibility && !envBool(environment.COMPOSE_COMPATIBILITY)) return;
  const what = globals.compatibility ? '--compatibility' : 'COMPOSE_COMPATIBILITY';
  throw new UserError(`${what} is not supported: tscompose names containers <project>-<service>-<n> as Compose v2 does, not docker-compose v1's <project>_<service>_<n>`, 1, `drop ${what}`);
}
