import type { CommitOptions, Engine } from '../engine/types.js';
import { serviceContainer } from './containers.js';
import type { ServiceContainerOptions } from './export.js';
import type { ProjectRef } from './project.js';

/** `commit`: a new image of a service container's changes (running or not); the image id. */
export async function commitService(engine: Engine, project: ProjectRef, o: ServiceContainerOptions & CommitOptions): Promise<{ container: { id: string; name: string }; image: string }> {
  const c = await serviceContainer(engine, project.name, o.service, o.index ?? 1, false);
  const { service: _s, index: _i, ...commit } = o;
  return { container: { id: c.id, name: c.name }, image: await engine.containers.commit(c.id, commit) };
}
