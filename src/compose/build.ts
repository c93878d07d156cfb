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
  dryRun?: boolean;
  signal?: AbortSignal;
}

/**
 * `build`: the images of the services that have a build section, as Compose
 * does (context, dockerfile, args, target, network, tags, labels), each
 * once even when services share it. A build's output lines are reported as
 * `output` events, each preceded by `Building <service>`.
 */
export async function build(engine: Engine, project: Project, o: BuildOptions = {}, listener?: ComposeListener): Promise<{ built: Array<{ service: string; ref: string; id?: string }> }> {
  const report = new Reporter(listener);
  const services = o.services ?? [];
  checkServices(project, services);
  const named = services.length ? services : Object.keys(project.services);
  // With dependencies, dependencies first: an image a dependent's Dockerfile starts FROM is there when it builds.
  const deps = serviceDeps(project);
  const selected = o.withDependencies ? ((set) => dependencyOrder(deps).filter((n) => set.has(n)))(withDependencies(named, deps)) : named;
  const names = selected.filter((n) => project.services[n]!.build);
  if (!names.length && services.length) throw new UserError(`none of the services ${services.join(', ')} has a build section`, 1, 'Add build: to the service, or pull its image');
  const built: Array<{ service: string; ref: string; id?: string }> = [];
  const seen = new Set<string>();
  for (const name of names) {
    const ref = imageRef(project, name);
    if (seen.has(ref)) continue;
    seen.add(ref);
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
      ...(o.signal ? { signal: o.signal } : {}),
      onProgress: (p) => report.output(p.status),
    });
    built.push({ service: name, ref, id });
  }
  // Compose's `build --push`: what was just built, under its image: name (push's own selection).
  if (o.push) await push(engine, project, { services: names, ...(o.dryRun ? { dryRun: true } : {}) }, listener);
  return { built };
}
