import type { Engine } from '../engine/types.js';
import type { Project } from '../project/types.js';
import { UserError } from '../util/errors.js';
import type { ComposeListener } from './progress.js';
import { up, type UpResult } from './up.js';

export interface ScaleOptions {
  /** Service → number of replicas. */
  replicas: Record<string, number>;
  /** Leave the services they depend on as they are (by default those are created and started too). */
  noDeps?: boolean;
  /** Plan only: change nothing. */
  dryRun?: boolean;
}

/**
 * `scale`: each named service at its number of replicas, as `up -d --scale`
 * does for those services alone; the others are left as they are.
 */
export async function scale(engine: Engine, project: Project, o: ScaleOptions, listener?: ComposeListener): Promise<UpResult> {
  const services = Object.keys(o.replicas);
  if (!services.length) throw new UserError('scale needs at least one SERVICE=REPLICAS', 1, 'e.g. tscompose scale web=3');
  for (const s of services) {
    if (!project.services[s] && !project.disabledServices[s]) {
      throw new UserError(`no such service: ${s}`, 1, `the project's services: ${Object.keys(project.services).sort().join(', ')}`);
    }
    const n = o.replicas[s]!;
    if (!Number.isInteger(n) || n < 0) throw new UserError(`invalid number of replicas for ${s}: ${n}`, 1, 'give a whole number, 0 or more');
  }
  return up(engine, project, { services, noDeps: o.noDeps, scale: o.replicas, recreate: 'diverged', recreateDependencies: 'diverged', dryRun: o.dryRun }, listener);
}
