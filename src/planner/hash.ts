import { createHash } from 'node:crypto';
import type { NetworkConfig, Project, ServiceConfig, VolumeConfig } from '../project/types.js';

/**
 * The configuration hash that decides recreation. Compose v2 hashes the
 * service config as JSON, minus what does not change the container (build,
 * pull_policy, scale, deploy.replicas, depends_on, profiles). Two of Compose's
 * recurring complaints come from what that misses or over-counts, so this hash
 * differs on purpose:
 * - it is canonical: keys sorted at every level, undefined dropped, so field
 *   order or an absent-vs-empty collection never recreates a container;
 * - it hashes the *resolved* environment (env_file already merged by the
 *   loader; `FOO` without a value taken from the project environment), not
 *   the env_file paths, so moving an env file with the same content is a no-op;
 * - it hashes the content of every config and secret the service uses and
 *   the image id, so changed content or a rebuilt image recreates.
 */

/** What the hash sees besides the service itself: resolved once per `up`. */
export interface HashInputs {
  /** The image id the service's image reference resolves to. */
  imageId: string;
  /** sha256 of each config's and secret's content, keyed `config:<name>` / `secret:<name>`. */
  contentDigests: Record<string, string>;
}

const EXCLUDED: (keyof ServiceConfig)[] = ['build', 'pull_policy', 'pull_refresh_after', 'scale', 'depends_on', 'profiles', 'env_file', 'label_file', 'develop'];

export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalize(value));
}

function canonicalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : canonicalize(v)));
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = canonicalize(v);
    }
    return out;
  }
  return value;
}

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `FOO` with no value takes the project environment's value, or is left out, as Docker does. */
export function resolveEnvironment(service: ServiceConfig, projectEnv: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(service.environment)) {
    if (v !== null) out[k] = v;
    else if (projectEnv[k] !== undefined) out[k] = projectEnv[k]!;
  }
  return out;
}

/** The object the service hash is computed over (exported for tests and `config --hash`). */
export function serviceHashInput(project: Project, service: ServiceConfig, inputs: HashInputs): Record<string, unknown> {
  const s: Record<string, unknown> = { ...service };
  for (const k of EXCLUDED) delete s[k];
  if (service.deploy) s.deploy = { ...service.deploy, replicas: undefined };
  s.environment = resolveEnvironment(service, project.environment);
  const content: Record<string, string> = {};
  for (const ref of service.configs) content[`config ${ref.source}`] = inputs.contentDigests[`config:${ref.source}`] ?? '';
  for (const ref of service.secrets) content[`secret ${ref.source}`] = inputs.contentDigests[`secret:${ref.source}`] ?? '';
  // Not compose keys (no compose key has a space), so they never collide with one.
  s['resolved image'] = inputs.imageId;
  if (Object.keys(content).length) s['resolved content'] = content;
  return s;
}

export function serviceHash(project: Project, service: ServiceConfig, inputs: HashInputs): string {
  return sha256(canonicalJson(serviceHashInput(project, service, inputs)));
}

/**
 * A short digest per field (maps one level deeper: `environment.FOO`), for
 * the reason a recreate gives. Order-independent and compact enough for a label.
 */
export function fieldDigests(input: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(input).sort()) {
    const v = input[key];
    // Unset and empty say the same thing; leaving them out keeps the label short.
    if (v === undefined || v === null || v === false || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    if (v && typeof v === 'object' && !Array.isArray(v) && key !== 'healthcheck') {
      // A map is compared key by key (an empty map contributes nothing): `environment.FOO`, not `environment`.
      for (const sub of Object.keys(v).sort()) {
        const sv = (v as Record<string, unknown>)[sub];
        if (sv !== undefined) out[`${key}.${sub}`] = sha256(canonicalJson(sv)).slice(0, 8);
      }
    } else {
      out[key] = sha256(canonicalJson(v)).slice(0, 8);
    }
  }
  return out;
}

export function encodeFieldDigests(d: Record<string, string>): string {
  return Object.entries(d)
    .map(([k, v]) => `${k}=${v}`)
    .join(';');
}

export function decodeFieldDigests(label: string | undefined): Record<string, string> | undefined {
  if (!label) return undefined;
  const out: Record<string, string> = {};
  for (const part of label.split(';')) {
    const eq = part.lastIndexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** The fields whose digests differ, in a stable order; empty when the old digests are unknown. */
export function changedFields(before: Record<string, string> | undefined, after: Record<string, string>): string[] {
  if (!before) return [];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => before[k] !== after[k]).sort();
}

/** Networks and volumes carry their own hash label, as in Compose; `name` is part of it (a rename recreates). */
export function networkHash(n: NetworkConfig): string {
  return sha256(canonicalJson({ ...n, labels: n.labels, external: undefined }));
}

export function volumeHash(v: VolumeConfig): string {
  return sha256(canonicalJson({ ...v, driver: v.driver ?? 'local', external: undefined }));
}
