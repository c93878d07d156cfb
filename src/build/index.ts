import { isAbsolute, join } from 'node:path';
import type { BuildRequest } from '../engine/types.js';
import { buildImage } from './builder.js';
import type { BuildDeps, BuildNetwork, BuildOptions } from './types.js';
import { UserError } from '../util/errors.js';

/**
 * The builder of the native engine, and the two functions its Engine
 * implementation calls for `images.build` and `images.pull` (they take the
 * Engine interface's own BuildRequest and PullOptions). Commit (commit.ts)
 * and the Debian bootstrap (bootstrap-image.ts) are modules of their own,
 * which the Engine loads when it commits or bootstraps: re-exported here,
 * every build loaded them (the Engine imports this module whole).
 */
export { buildImage } from './builder.js';
export { pullWithOptions } from './base.js';
export type { BuildDeps, CommitDeps, BuildOptions, BuildResult, StepReport, BuildNetwork } from './types.js';
export { DockerfileError } from './dockerfile/errors.js';

/** The Engine interface's BuildRequest as builder options (Compose's build section, already resolved). */
export function buildOptionsFromRequest(spec: BuildRequest): BuildOptions {
  const network = spec.network === undefined || spec.network === 'default' ? undefined : spec.network;
  if (network !== undefined && network !== 'host' && network !== 'none') {
    throw new UserError(`build network "${spec.network}" is not supported by the native builder`, 1, 'Use network: host (the default) or none');
  }
  return {
    context: spec.context,
    ...(spec.dockerfileInline !== undefined ? { dockerfileInline: spec.dockerfileInline } : {}),
    ...(spec.dockerfileInline === undefined && spec.dockerfile ? { dockerfile: isAbsolute(spec.dockerfile) ? spec.dockerfile : join(spec.context, spec.dockerfile) } : {}),
    ...(spec.args ? { args: spec.args } : {}),
    ...(spec.target ? { target: spec.target } : {}),
    tags: spec.tags,
    ...(spec.labels ? { labels: spec.labels } : {}),
    ...(network ? { network: network as BuildNetwork } : {}),
    ...(spec.noCache ? { noCache: true } : {}),
    ...(spec.pull ? { pull: true } : {}),
    ...(spec.platform ? { platform: spec.platform } : {}),
    ...(spec.extraHosts?.length ? { extraHosts: spec.extraHosts } : {}),
    ...(spec.shmSize ? { shmSize: spec.shmSize } : {}),
    ...(spec.memory ? { memory: spec.memory } : {}),
    ...(spec.signal ? { signal: spec.signal } : {}),
    ...(spec.onProgress ? { onLine: (line: string) => spec.onProgress!({ status: line }) } : {}),
  };
}

/** `images.build` of the native Engine: builds and returns the image id. */
export async function buildFromRequest(deps: BuildDeps, spec: BuildRequest): Promise<string> {
  return (await buildImage(deps, buildOptionsFromRequest(spec))).imageId;
}
