import type { BuildRequest, Engine } from '../engine/types.js';
import type { ProgressSink } from './progress.js';
import type { Project, ServiceConfig } from '../project/types.js';
import { UserError, errorMessage } from '../util/errors.js';
import { imageRef } from './observe.js';
import { Label } from './labels.js';

export type PullPolicyOption = 'always' | 'missing' | 'never' | 'build';

export interface ImageOptions {
  services: string[];
  /** `--pull`: over each service's pull_policy. */
  pull?: PullPolicyOption;
  /** `--build`: build every service that has a build section. */
  build?: boolean;
  /** `--no-build`: never build; a missing built image is an error. */
  noBuild?: boolean;
  quietPull?: boolean;
  dryRun?: boolean;
  signal?: AbortSignal;
}

export interface ImageAction {
  service: string;
  ref: string;
  action: 'pull' | 'build';
  reason: string;
}

/**
 * Decides which images to pull or build before reconciling (the hash needs
 * their ids): build where `--build` or pull_policy: build asks, or where a
 * service's image is missing and it has a build section (pulling first when
 * the file names the image, as Compose does); pull where pull_policy (or
 * `--pull`) says so.
 */
export async function planImages(project: Project, engine: Engine, o: ImageOptions): Promise<ImageAction[]> {
  const actions: ImageAction[] = [];
  const seen = new Set<string>();
  const present = new Map<string, boolean>();
  const exists = async (ref: string) => {
    if (!present.has(ref)) present.set(ref, (await engine.images.inspect(ref)) !== undefined);
    return present.get(ref)!;
  };
  for (const name of o.services) {
    const s = project.services[name]!;
    const ref = imageRef(project, name);
    if (seen.has(ref)) continue;
    seen.add(ref);
    const policy = o.pull ?? normalizePolicy(s.pull_policy);
    if (s.build) {
      if (o.noBuild) {
        if (!(await exists(ref))) throw new UserError(`image ${ref} of service ${name} is not built`, 1, 'run without --no-build, or build it first');
        continue;
      }
      if (o.build || policy === 'build') actions.push({ service: name, ref, action: 'build', reason: o.build ? '--build' : 'pull_policy: build' });
      else if (policy === 'always') actions.push({ service: name, ref, action: 'pull', reason: 'pull_policy: always' });
      else if (!(await exists(ref))) {
        // As Compose: an image named in the file is pulled first when missing, and built only if the pull fails
        // (the runner falls back); an image named after the project, or with pull_policy never, is only ever built.
        if (s.image && policy === 'missing') actions.push({ service: name, ref, action: 'pull', reason: 'no image (built if the pull fails)' });
        else actions.push({ service: name, ref, action: 'build', reason: 'no image' });
      }
      continue;
    }
    if (!s.image) throw new UserError(`service ${name} has neither an image nor a build section`, 1, 'give it image: or build:');
    if (policy === 'always') actions.push({ service: name, ref, action: 'pull', reason: 'pull_policy: always' });
    else if (!(await exists(ref))) {
      if (policy === 'never') throw new UserError(`image ${ref} of service ${name} is not present and its pull policy is never`, 1, 'pull it first, or change pull_policy');
      actions.push({ service: name, ref, action: 'pull', reason: 'no image' });
    }
  }
  return actions;
}

function normalizePolicy(p: ServiceConfig['pull_policy']): PullPolicyOption {
  if (p === 'always' || p === 'never' || p === 'build') return p;
  if (p === 'refresh' || p?.startsWith('every_') || p === 'daily' || p === 'weekly') return 'always';
  return 'missing';
}

/** Pulls in parallel, builds one after another (builds are CPU-heavy), reporting each image on the bus. */
export async function runImageActions(project: Project, engine: Engine, actions: ImageAction[], emit: ProgressSink, o: ImageOptions): Promise<void> {
  const pulls = actions.filter((a) => a.action === 'pull');
  const builds = actions.filter((a) => a.action === 'build');
  const failures: string[] = [];
  await Promise.all(
    pulls.map(async (a) => {
      const id = `Image ${a.ref}`;
      emit({ id, status: 'working', text: 'Pulling' });
      try {
        await engine.images.pull(a.ref, {
          signal: o.signal,
          onProgress: o.quietPull ? undefined : (p) => p.id && emit({ id: p.id, parentId: id, status: 'working', text: p.status, current: p.current, total: p.total }),
        });
        emit({ id, status: 'done', text: 'Pulled' });
      } catch (err) {
        const s = project.services[a.service]!;
        if (s.build && !o.noBuild) {
          // Compose: a service with a build section builds when its image cannot be pulled.
          emit({ id, status: 'warning', text: 'Pull failed', details: `${errorMessage(err)}; building instead` });
          builds.push({ ...a, action: 'build', reason: 'pull failed' });
          return;
        }
        emit({ id, status: 'error', text: 'Error', details: errorMessage(err) });
        failures.push(`pull ${a.ref}: ${errorMessage(err)}`);
      }
    }),
  );
  for (const a of builds) {
    const id = `Image ${a.ref}`;
    emit({ id, status: 'working', text: 'Building' });
    try {
      await engine.images.build({ ...buildRequest(project, a.service, a.ref), signal: o.signal, onProgress: (p) => emit({ id: `${id} build`, parentId: id, status: 'working', text: p.status }) });
      emit({ id, status: 'done', text: 'Built' });
    } catch (err) {
      emit({ id, status: 'error', text: 'Error', details: errorMessage(err) });
      failures.push(`build ${a.ref}: ${errorMessage(err)}`);
    }
  }
  if (failures.length) throw new UserError(failures.join('\n'));
}

/** The Engine's build request for a service's build section (args without a value come from the project environment). */
export function buildRequest(project: Project, service: string, ref: string): Omit<BuildRequest, 'onProgress' | 'signal'> {
  const b = project.services[service]!.build!;
  const args: Record<string, string> = {};
  for (const [k, v] of Object.entries(b.args)) {
    if (v !== null) args[k] = v;
    else if (project.environment[k] !== undefined) args[k] = project.environment[k]!;
  }
  return {
    context: b.context,
    dockerfile: b.dockerfile_inline === undefined ? (b.dockerfile ?? 'Dockerfile') : undefined,
    dockerfileInline: b.dockerfile_inline,
    args,
    target: b.target,
    tags: [ref, ...b.tags.filter((t) => t !== ref)],
    labels: { ...b.labels, [Label.project]: project.name, [Label.service]: service },
    network: b.network,
    noCache: b.no_cache,
    pull: b.pull,
    platform: b.platforms[0],
    extraHosts: Object.entries(b.extra_hosts).flatMap(([h, ips]) => ips.map((ip) => `${h}:${ip}`)),
    shmSize: b.shm_size,
  };
}
