import type { Engine } from '../engine/types.js';
import type { Project } from '../project/types.js';
import { buildRequest } from '../planner/images.js';
import { imageRef } from '../planner/observe.js';
import { dependencyOrder, withDependencies } from '../planner/order.js';
import { checkServices, serviceDeps } from '../planner/reconcile.js';
import { push } from './push.js';
import { UserError } from '../util/errors.js';
import { Reporter, type ComposeListener } from './progress.js';

export interface BuildOptions {
  /** The services to build (all that have a build section when empty). */
  services?: string[];
  noCache?: boolean;
  /** Always pull newer base images. */
  pull?: boolean;
  /** Build arguments over each build section's. */
  args?: Record<string, string>;
  /** `--with-dependencies`: the named services' dependencies are built too. */
  withDependencies?: boolean;
  /** `--push`: the built images that have an `image:` name are pushed after the builds. */
  push?: boolean;
  /** `--memory`: the memory limit of each RUN step, bytes. */
  memory?: number;
  /** `--provenance`, `--sbom`: accepted, but no attestation is made (a warning says so). */
  provenance?: string;
  sbom?: string;
  /** `--check`, `--ssh`, `--builder`: refused before anything is built. */
  check?: boolean;
  ssh?: string;
  builder?: string;
  dryRun?: boolean;
  signal?: AbortSignal;
}

/** Build flags of Compose that this builder cannot honour: each refused in one sentence, before anything is built. */
function refuseUnsupported(o: BuildOptions): void {
  if (o.check) throw new UserError('build --check is not supported: the builder has no build checks to run', 1, 'build without --check');
  if (o.ssh !== undefined) throw new UserError('build --ssh is not supported: the builder does not forward SSH agents or keys into RUN steps', 1, 'put what the build fetches over SSH into its context instead');
  if (o.builder !== undefined) throw new UserError('build --builder is not supported: tscompose builds with its own builder, or with the Docker Engine\'s (--backend docker)', 1, 'drop --builder');
}

/** The images `build` builds, in order, each once even when services share it. */
function imagesToBuild(project: Project, names: readonly string[]): Array<{ service: string; ref: string }> {
  const seen = new Set<string>();
  return names.map((service) => ({ service, ref: imageRef(project, service) })).filter(({ ref }) => !seen.has(ref) && !!seen.add(ref));
}

/** The services `build` builds, in order: with --with-dependencies, dependencies first. */
function servicesToBuild(project: Project, o: BuildOptions): string[] {
  const services = o.services ?? [];
  checkServices(project, services);
  const named = services.length ? services : Object.keys(project.services);
  // With dependencies, dependencies first: an image a dependent's Dockerfile starts FROM is there when it builds.
  const deps = serviceDeps(project);
  const selected = o.withDependencies ? ((set) => dependencyOrder(deps).filter((n) => set.has(n)))(withDependencies(named, deps)) : named;
  const names = selected.filter((n) => project.services[n]!.build);
  if (!names.length && services.length) throw new UserError(`none of the services ${services.join(', ')} has a build section`, 1, 'Add build: to the service, or pull its image');
  return names;
}

/** One target of `build --print`, in Docker Bake's JSON (what Compose prints): the build as it would run. */
export interface BakeTarget {
  context: string;
  dockerfile?: string;
  'dockerfile-inline'?: string;
  args: Record<string, string>;
  labels: Record<string, string>;
  tags: string[];
  target?: string;
  network?: string;
  'no-cache'?: boolean;
  pull?: boolean;
  platforms?: string[];
  'extra-hosts'?: string[];
  'shm-size'?: string;
  output: string[];
}

/**
 * `build --print`: what `build` would build, as Compose prints it (a Bake
 * definition: a default group of targets, one per image), without building.
 */
export function buildDefinition(project: Project, o: BuildOptions = {}): { group: { default: { targets: string[] } }; target: Record<string, BakeTarget> } {
  refuseUnsupported(o);
  const target: Record<string, BakeTarget> = {};
  for (const { service: name, ref } of imagesToBuild(project, servicesToBuild(project, o))) {
    const b = buildRequest(project, name, ref);
    target[name] = {
      context: b.context,
      ...(b.dockerfile !== undefined ? { dockerfile: b.dockerfile } : {}),
      ...(b.dockerfileInline !== undefined ? { 'dockerfile-inline': b.dockerfileInline } : {}),
      args: { ...(b.args ?? {}), ...(o.args ?? {}) },
      labels: b.labels ?? {},
      tags: b.tags,
      ...(b.target ? { target: b.target } : {}),
      ...(b.network ? { network: b.network } : {}),
      ...(o.noCache || b.noCache ? { 'no-cache': true } : {}),
      ...(o.pull || b.pull ? { pull: true } : {}),
      ...(b.platform ? { platforms: [b.platform] } : {}),
      ...(b.extraHosts?.length ? { 'extra-hosts': b.extraHosts } : {}),
      ...(b.shmSize ? { 'shm-size': String(b.shmSize) } : {}),
      output: ['type=docker'],
    };
  }
  return { group: { default: { targets: Object.keys(target) } }, target };
}

/**
 * `build`: the images of the services that have a build section, as Compose
 * does (context, dockerfile, args, target, network, tags, labels), each
 * once even when services share it. A build's output lines are reported as
 * `output` events, each preceded by `Building <service>`.
 */
export async function build(engine: Engine, project: Project, o: BuildOptions = {}, listener?: ComposeListener): Promise<{ built: Array<{ service: string; ref: string; id?: string }> }> {
  const report = new Reporter(listener);
  refuseUnsupported(o);
  const names = servicesToBuild(project, o);
  if (o.provenance !== undefined) report.warning('build --provenance is not applied: no attestations are made');
  if (o.sbom !== undefined) report.warning('build --sbom is not applied: no attestations are made');
  const built: Array<{ service: string; ref: string; id?: string }> = [];
  for (const { service: name, ref } of imagesToBuild(project, names)) {
    if (o.dryRun) {
      built.push({ service: name, ref });
      continue;
    }
    const base = buildRequest(project, name, ref);
    report.output(`Building ${name}`);
    const id = await engine.images.build({
      ...base,
      args: { ...(base.args ?? {}), ...(o.args ?? {}) },
      noCache: o.noCache || base.noCache,
      pull: o.pull || base.pull,
      ...(o.memory ? { memory: o.memory } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      onProgress: (p) => report.output(p.status),
    });
    built.push({ service: name, ref, id });
  }
  // Compose's `build --push`: what was just built, under its image: name (push's own selection).
  if (o.push) await push(engine, project, { services: names, ...(o.dryRun ? { dryRun: true } : {}) }, listener);
  return { built };
}
