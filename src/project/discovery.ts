import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { ComposeError } from './diagnostics.js';
import { DotEnvError, parseDotEnv } from './dotenv.js';

/**
 * Phase 0: which files, which directory, which environment. Compose's order
 * (compose-go `cli/options.go`), so that `.env` can set COMPOSE_FILE,
 * COMPOSE_PROJECT_NAME and COMPOSE_PROFILES:
 *   1. the process environment;
 *   2. `--env-file` files (else COMPOSE_ENV_FILES), or `.env` in the project directory, add to it
 *      (the process environment wins over them);
 *   3. the files: `-f` (repeatable), else COMPOSE_FILE (split on
 *      COMPOSE_PATH_SEPARATOR, default `:`), else compose.yaml, compose.yml,
 *      docker-compose.yaml or docker-compose.yml in the current directory or
 *      the nearest parent that has one, plus its `compose.override.yaml`;
 *   4. the project directory: `--project-directory`, else the first file's.
 */

/** `-f -`: the compose file is read from standard input (its directory is the current one). */
export const STDIN = '-';

export const DEFAULT_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];
export const DEFAULT_OVERRIDE_FILE_NAMES = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yaml', 'docker-compose.override.yml'];

export interface DiscoveryOptions {
  configFiles?: string[];
  projectDirectory?: string;
  envFiles?: string[];
  profiles?: string[];
  environment?: Record<string, string | undefined>;
  cwd?: string;
  warn: (message: string) => void;
}

export interface ConfigDetails {
  /** Absolute paths, in merge order. */
  configFiles: string[];
  workingDir: string;
  /** Interpolation environment: the process environment over the env files. */
  environment: Record<string, string>;
  envFiles: string[];
  profiles: string[];
}

export function discover(opts: DiscoveryOptions): ConfigDetails {
  const cwd = opts.cwd ?? process.cwd();
  const osEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.environment ?? process.env)) if (v !== undefined) osEnv[k] = v;

  const explicitFiles = opts.configFiles?.length ? opts.configFiles.map((f) => (f === STDIN ? f : resolve(cwd, f))) : undefined;
  const dirOf = (f: string) => (f === STDIN ? cwd : dirname(f));
  const projectDirectory = opts.projectDirectory !== undefined ? resolve(cwd, opts.projectDirectory) : undefined;
  if (projectDirectory !== undefined && !isDirectory(projectDirectory)) {
    throw new UserError(`project directory ${opts.projectDirectory} does not exist or is not a directory`);
  }
  // --env-file, else COMPOSE_ENV_FILES (comma-separated, as compose-go reads it), else .env.
  const envFileNames = opts.envFiles?.length ? opts.envFiles : osEnv.COMPOSE_ENV_FILES ? splitList(osEnv.COMPOSE_ENV_FILES, ',') : [];
  const explicitEnvFiles = envFileNames.length ? envFileNames.map((f) => resolve(cwd, f)) : undefined;

  // Before the files are known, .env is looked for where the project directory will most likely be.
  const guessedDir = projectDirectory ?? (explicitFiles ? dirOf(explicitFiles[0]!) : cwd);
  let envFiles = explicitEnvFiles ?? defaultDotEnv(guessedDir, osEnv);
  let environment = withEnvFiles(osEnv, envFiles);

  const configFiles = explicitFiles ?? composeFileVariable(environment, cwd) ?? findDefaultFiles(projectDirectory ?? cwd, opts.warn);
  for (const f of configFiles) {
    if (f === STDIN) continue;
    if (!existsSync(f)) throw new UserError(`compose file ${f} does not exist`, 1, 'check the -f option or COMPOSE_FILE');
    if (isDirectory(f)) throw new UserError(`compose file ${f} is a directory`, 1, 'give the path of a compose file, not of its directory');
  }
  const workingDir = projectDirectory ?? dirOf(configFiles[0]!);
  if (!explicitEnvFiles && workingDir !== guessedDir) {
    // As Compose: the project directory's .env adds what the first one did not set.
    const more = defaultDotEnv(workingDir, osEnv);
    environment = { ...withEnvFiles(environment, more), ...environment };
    envFiles = [...envFiles, ...more];
  }

  const profiles = opts.profiles?.length ? opts.profiles : splitList(environment.COMPOSE_PROFILES ?? '', ',');
  return { configFiles, workingDir, environment, envFiles, profiles };
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function defaultDotEnv(dir: string, env: Record<string, string>): string[] {
  const disabled = env.COMPOSE_DISABLE_ENV_FILE;
  if (disabled !== undefined && ['1', 'true', 't', 'yes'].includes(disabled.toLowerCase())) return [];
  const f = resolve(dir, '.env');
  return existsSync(f) && !isDirectory(f) ? [f] : [];
}

/** Reads env files in order; each may refer to the process environment and to what earlier files set. */
export function withEnvFiles(osEnv: Record<string, string>, files: string[]): Record<string, string> {
  const fromFiles: Record<string, string> = {};
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UserError(code === 'ENOENT' ? `env file ${f} not found` : `cannot read env file ${f}: ${(err as Error).message}`);
    }
    Object.assign(fromFiles, readDotEnv(text, f, (k) => osEnv[k] ?? fromFiles[k]));
  }
  return { ...fromFiles, ...osEnv };
}

/** Parses an env file, turning its errors into file:line:col diagnostics. */
export function readDotEnv(text: string, file: string, lookup: (k: string) => string | undefined, format?: string): Record<string, string> {
  try {
    return parseDotEnv(text, { lookup, ...(format !== undefined ? { format } : {}) });
  } catch (err) {
    if (err instanceof DotEnvError) throw new ComposeError([{ file, line: err.line, col: err.col, message: err.message }]);
    throw err;
  }
}

function composeFileVariable(env: Record<string, string>, cwd: string): string[] | undefined {
  const value = env.COMPOSE_FILE;
  if (!value) return undefined;
  const sep = env.COMPOSE_PATH_SEPARATOR || ':';
  const files = splitList(value, sep).map((f) => resolve(cwd, f));
  return files.length ? files : undefined;
}

function findDefaultFiles(start: string, warn: (m: string) => void): string[] {
  for (let dir = start; ; dir = dirname(dir)) {
    const found = DEFAULT_FILE_NAMES.map((n) => resolve(dir, n)).filter((f) => existsSync(f) && !isDirectory(f));
    if (found.length > 0) {
      if (found.length > 1) warn(`Found multiple config files with supported names: ${found.join(', ')}\nUsing ${found[0]}`);
      const overrides = DEFAULT_OVERRIDE_FILE_NAMES.map((n) => resolve(dir, n)).filter((f) => existsSync(f) && !isDirectory(f));
      if (overrides.length > 1) warn(`Found multiple override files with supported names: ${overrides.join(', ')}\nUsing ${overrides[0]}`);
      return overrides.length ? [found[0]!, overrides[0]!] : [found[0]!];
    }
    if (dirname(dir) === dir) break;
  }
  throw new UserError(
    `no configuration file provided: no ${DEFAULT_FILE_NAMES.join(', ')} in ${start} or its parents`,
    1,
    'run from a directory with a compose.yaml, or name the file with -f',
  );
}

function splitList(value: string, sep: string): string[] {
  return value
    .split(sep)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** A directory's base name made into a valid project name (lowercase, only [a-z0-9_-], no leading _ or -). */
export function normalizeProjectName(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[_-]+/, '');
}

export const PROJECT_NAME_RE = /^[a-z0-9][a-z0-9_-]*$/;

export function projectNameFromDir(dir: string): string {
  return normalizeProjectName(basename(dir));
}
