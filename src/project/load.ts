import { UserError } from '../util/errors.js';
import { checkConsistency } from './consistency.js';
import { Diagnostics } from './diagnostics.js';
import { discover, PROJECT_NAME_RE, projectNameFromDir, type ConfigDetails } from './discovery.js';
import { resolveServiceEnvironment } from './environment.js';
import { interpolateTree } from './interpolate.js';
import { At, isObj, type Obj } from './normalize/context.js';
import { normalizeFileObject, normalizeModel, normalizeNetwork, normalizeVolume } from './normalize/resources.js';
import { normalizeService } from './normalize/service.js';
import { ModelLoader } from './pipeline.js';
import { applyProfiles, selectServices, withoutUnusedResources } from './profiles.js';
import { validateModel } from './schema.js';
import { cloneNode, SourceMap, toPlain, type Src } from './tree.js';
import type { Project } from './types.js';
import { ValidatedModels } from './validated-models.js';
import { ParsedTrees } from './parsed-trees.js';

export interface LoadOptions {
  /** `-f`: compose files in merge order (default: COMPOSE_FILE, then compose.yaml & co. found from `cwd` up). */
  configFiles?: string[];
  /** `--project-directory` (default: the first file's directory). */
  projectDirectory?: string;
  /** `-p` (default: COMPOSE_PROJECT_NAME, then `name:`, then the project directory's name). */
  projectName?: string;
  /** `--env-file` (default: `.env` in the project directory). */
  envFiles?: string[];
  /** `--profile` (default: COMPOSE_PROFILES). */
  profiles?: string[];
  /** The process environment (default: process.env). */
  environment?: Record<string, string | undefined>;
  /** Where relative -f paths start and default files are looked for (default: process.cwd()). */
  cwd?: string;
  /** Receives each warning (default: printed on stderr). */
  onWarning?: (message: string) => void;
  /** Keep only these services and what they depend on; they are enabled whatever their profiles. */
  services?: string[];
  /** Keep networks, volumes, configs and secrets that no service uses (default: dropped, as Compose does). */
  keepUnusedResources?: boolean;
  /** Interpolate `${VAR}` (default true; `config --no-interpolate` reads the model as written). */
  interpolate?: boolean;
  /** Make relative paths absolute (default true; `config --no-path-resolution`). */
  resolvePaths?: boolean;
  /** Read each service's env_file and label_file into it (default true; `config --no-env-resolution`). */
  resolveEnvFiles?: boolean;
  /** Check what services refer to exists (default true; `config --no-consistency`). */
  consistency?: boolean;
  /**
   * A directory where models that passed the schema are remembered by digest (see
   * validated-models.ts): loading the same model again skips the schema. The CLI gives
   * `<state root>/cache/validated`; without it, every load validates.
   */
  validatedModels?: string;
  /**
   * Where the trees of compose files parsed before are remembered (see parsed-trees.ts), with the
   * build of the code that parses (part of each key); without it, every load parses. The CLI gives
   * `<state root>/cache/parsed` and its bundle's build id.
   */
  parsedTrees?: { dir: string; build: string };
}

/** The merged model, its project name, and where each value was written: what normalization starts from. */
interface Merged {
  name: string;
  details: ConfigDetails;
  model: Obj;
  sourceMap: SourceMap;
  diags: Diagnostics;
}

async function loadMerged(options: LoadOptions): Promise<Merged> {
  const warn = options.onWarning ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  const diags = new Diagnostics(warn);
  const details = discover({ ...options, warn });
  const trees = options.parsedTrees && new ParsedTrees(options.parsedTrees.dir, options.parsedTrees.build);
  const loader = new ModelLoader(diags, { interpolate: options.interpolate !== false, ...(trees ? { trees } : {}) });

  const name = projectName(options, details, loader, diags);
  diags.throwIfAny();
  const env = { ...details.environment, COMPOSE_PROJECT_NAME: name };
  const tree = loader.load(details.configFiles, details.workingDir, env);
  // Interpolation, include and extends errors leave a model still worth validating: report all at once.
  if (loader.incomplete) diags.throwIfAny();

  const sourceMap = new SourceMap(tree);
  const model = (tree ? toPlain(tree) : {}) as Obj;
  delete model.name;
  // Uninterpolated, a value is a template the schema cannot judge (`cpus: ${CPUS}`).
  if (options.interpolate !== false) {
    await validateModel(model, sourceMap, diags, options.validatedModels !== undefined ? new ValidatedModels(options.validatedModels) : undefined);
  }
  diags.throwIfAny();
  return { name, details, model, sourceMap, diags };
}

/**
 * The merged model before normalization (`config --no-normalize`,
 * `--no-interpolate`): the files as written, merged, included and extended,
 * with its `name:` the project's.
 */
export async function loadModel(options: LoadOptions = {}): Promise<Obj> {
  const { name, model } = await loadMerged(options);
  return { name, ...model };
}

/**
 * Loads a compose project the way Docker Compose does, and reports every
 * problem at once with its file:line:col (a ComposeError); nothing is
 * created on the way.
 */
export async function loadProject(options: LoadOptions = {}): Promise<Project> {
  const { name, details, model, sourceMap, diags } = await loadMerged(options);
  const root = new At(sourceMap, diags, undefined, undefined, options.resolvePaths === false);
  let project = normalize(model, root, {
    name,
    workingDir: details.workingDir,
    configFiles: details.configFiles,
    environment: { ...details.environment, COMPOSE_PROJECT_NAME: name },
  });
  project = applyProfiles(project, details.profiles);
  if (options.services?.length) project = selectServices(project, options.services, diags, root);
  if (options.consistency !== false) checkConsistency(project, model, root);
  diags.throwIfAny();
  if (options.resolveEnvFiles !== false) resolveServiceEnvironment(project, (s) => root.child('services', s), diags);
  diags.throwIfAny();
  return options.keepUnusedResources ? project : withoutUnusedResources(project);
}

/** -p, then COMPOSE_PROJECT_NAME, then `name:` (interpolated), then the project directory's name, normalized. */
function projectName(options: LoadOptions, details: ConfigDetails, loader: ModelLoader, diags: Diagnostics): string {
  const explicit = options.projectName ?? details.environment.COMPOSE_PROJECT_NAME;
  if (explicit !== undefined && explicit !== '') {
    const source = options.projectName !== undefined ? 'the project name (-p)' : 'COMPOSE_PROJECT_NAME';
    if (!PROJECT_NAME_RE.test(explicit)) throw new UserError(invalidName(explicit, source));
    if (explicit.length > MAX_PROJECT_NAME) throw new UserError(tooLong(explicit, source));
    return explicit;
  }
  let fromFile: { value: string; at: Src } | undefined;
  for (const file of details.configFiles) {
    for (const doc of loader.peek(file, details.workingDir)) {
      const entry = doc.entries.get('name');
      if (!entry) continue;
      // Interpolated on its own first: the name goes into the environment the whole file is interpolated with.
      const v = cloneNode(entry.value);
      interpolateTree(v, { lookup: (k) => details.environment[k], diags: new Diagnostics(), warnedUnset: new Set() });
      if (v.kind === 'scalar' && typeof v.value === 'string') fromFile = { value: v.value, at: v.src };
    }
  }
  if (fromFile && fromFile.value !== '') {
    if (!PROJECT_NAME_RE.test(fromFile.value)) diags.error(fromFile.at, invalidName(fromFile.value, '`name`'));
    else if (fromFile.value.length > MAX_PROJECT_NAME) diags.error(fromFile.at, tooLong(fromFile.value, '`name`'));
    return fromFile.value;
  }
  const fromDir = projectNameFromDir(details.workingDir);
  if (fromDir.length > MAX_PROJECT_NAME) throw new UserError(tooLong(fromDir, `the name of the directory ${details.workingDir}`), 1, 'give a shorter one with -p NAME or `name:` in the compose file');
  if (fromDir === '') {
    throw new UserError(`cannot make a project name from the directory ${details.workingDir}`, 1, 'give one with -p NAME or `name:` in the compose file');
  }
  return fromDir;
}

/**
 * Every name made from the project's (containers "<project>-<service>-<n>",
 * networks and volumes "<project>_<name>") becomes a file name somewhere: a
 * limit well under the kernel's 255 bytes leaves room for the rest.
 */
export const MAX_PROJECT_NAME = 128;

function tooLong(name: string, source: string): string {
  return `the project name "${name.slice(0, 20)}…" in ${source} is ${name.length} characters long; a project name may have at most ${MAX_PROJECT_NAME}`;
}

function invalidName(name: string, source: string): string {
  return `invalid project name "${name}" in ${source}: it must contain only lowercase letters, digits, '-' and '_', and start with a letter or digit`;
}

interface ProjectBase {
  name: string;
  workingDir: string;
  configFiles: string[];
  environment: Record<string, string>;
}

function normalize(model: Obj, root: At, base: ProjectBase): Project {
  const project: Project = {
    ...base,
    services: {},
    disabledServices: {},
    profiles: [],
    networks: {},
    volumes: {},
    configs: {},
    secrets: {},
    models: {},
    extensions: {},
  };
  const section = (k: string): Obj => (isObj(model[k]) ? (model[k] as Obj) : {});
  for (const [n, s] of Object.entries(section('services'))) project.services[n] = normalizeService(n, s as Obj, root.child('services', n));
  for (const [n, v] of Object.entries(section('networks'))) project.networks[n] = normalizeNetwork(n, v, base.name, root.child('networks', n));
  const usesDefault = Object.values(project.services).some((s) => 'default' in s.networks);
  if (usesDefault && !project.networks.default) project.networks.default = normalizeNetwork('default', null, base.name, root);
  for (const [n, v] of Object.entries(section('volumes'))) project.volumes[n] = normalizeVolume(n, v, base.name, root.child('volumes', n));
  for (const [n, v] of Object.entries(section('configs'))) project.configs[n] = normalizeFileObject('config', n, v, base.name, root.child('configs', n));
  for (const [n, v] of Object.entries(section('secrets'))) project.secrets[n] = normalizeFileObject('secret', n, v, base.name, root.child('secrets', n));
  for (const [n, v] of Object.entries(section('models'))) project.models[n] = normalizeModel(v);
  for (const [k, v] of Object.entries(model)) if (k.startsWith('x-')) project.extensions[k] = v;
  return project;
}
