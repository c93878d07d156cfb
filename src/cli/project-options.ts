import type { GlobalOptions } from './global-options.js';
import type { LoadOptions } from '../project/load.js';

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
  return opts;
}

/** Warnings go to stderr, so that stdout stays a clean document (`config > out.yaml`). */
export function printWarning(message: string): void {
  process.stderr.write(`WARN ${message}\n`);
}
