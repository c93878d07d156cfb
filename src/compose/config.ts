import { Scalar, stringify } from 'yaml';
import { imageName, projectToPlain } from '../project/serialize.js';
import type { Project } from '../project/types.js';

export interface ConfigOptions {
  /** The canonical document's format (default yaml). */
  format?: 'yaml' | 'json';
  /** One list instead of the document, one name a line. */
  list?: 'services' | 'volumes' | 'networks' | 'profiles' | 'images' | 'environment' | 'models';
  /** Show each service's env_file: it was not read into the environment (`--no-env-resolution`). */
  envFiles?: boolean;
}

/**
 * `config`: the project as the loader understood it, in Compose's canonical
 * form (what Docker Compose prints), or one of its lists: the text.
 */
export function config(project: Project, opts: ConfigOptions = {}): string {
  const lines = (xs: Iterable<string>) => [...xs].map((x) => `${x}\n`).join('');
  switch (opts.list) {
    case 'services':
      return lines(dependencyOrder(project));
    case 'volumes':
      return lines(Object.keys(project.volumes).sort());
    case 'networks':
      return lines(Object.keys(project.networks).sort());
    case 'profiles':
      return lines(allProfiles(project));
    case 'images':
      return lines(dependencyOrder(project).map((n) => imageName(project, project.services[n]!)));
    case 'environment':
      return lines(Object.keys(project.environment).sort().map((k) => `${k}=${project.environment[k]}`));
    case 'models':
      return lines(Object.keys(project.models).sort());
    default:
      break;
  }
  return documentText(projectToPlain(project, { format: opts.format ?? 'yaml', ...(opts.envFiles ? { envFiles: true } : {}) }), opts.format);
}

/** A plain document (the project's canonical form, a model as written, an override) as `config` prints it. */
export function documentText(plain: unknown, format: 'yaml' | 'json' = 'yaml'): string {
  if (format === 'json') return JSON.stringify(plain, null, 2) + '\n';
  return stringify(quoteForYaml11(plain), { indent: 2, lineWidth: 0, aliasDuplicateObjects: false, nullStr: 'null' });
}

/**
 * Strings that a YAML 1.1 reader (PyYAML, docker-compose v1, older tools)
 * would take for a boolean or a base-60 number are quoted, as Go's YAML
 * encoder quotes them for Docker Compose: `yes`, `off`, `12:30`.
 */
const YAML11_NOT_STRINGS = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?)$/;

function quoteForYaml11(v: unknown): unknown {
  if (typeof v === 'string' && YAML11_NOT_STRINGS.test(v)) {
    const s = new Scalar(v);
    s.type = Scalar.QUOTE_DOUBLE;
    return s;
  }
  if (Array.isArray(v)) return v.map(quoteForYaml11);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, quoteForYaml11(x)]));
  return v;
}

/** Services with what they depend on first, otherwise by name: the order Compose lists them. */
function dependencyOrder(project: Project): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (n: string) => {
    if (seen.has(n) || !project.services[n]) return;
    seen.add(n);
    for (const d of Object.keys(project.services[n]!.depends_on).sort()) visit(d);
    out.push(n);
  };
  for (const n of Object.keys(project.services).sort()) visit(n);
  return out;
}

function allProfiles(project: Project): string[] {
  const set = new Set<string>();
  for (const s of [...Object.values(project.services), ...Object.values(project.disabledServices)]) for (const p of s.profiles) set.add(p);
  return [...set].sort();
}
