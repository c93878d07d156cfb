import type { Readable } from 'node:stream';
import type { Engine } from '../engine/types.js';
import { serviceContainer } from './containers.js';
import type { ProjectRef } from './project.js';

export interface ServiceContainerOptions {
  service: string;
  /** The replica, from 1 (default 1). */
  index?: number;
}

/**
 * `export`: a service container's filesystem as a tar stream (running or
 * not), as `docker export` writes it: without what is mounted in it.
 */
export async function exportService(engine: Engine, project: ProjectRef, o: ServiceContainerOptions): Promise<{ container: { id: string; name: string }; tar: Readable }> {
  const c = await serviceContainer(engine, project.name, o.service, o.index ?? 1, false);
  return { container: { id: c.id, name: c.name }, tar: await engine.containers.export(c.id) };
}
