import type { Readable, Writable } from 'node:stream';
import type { Engine } from '../engine/types.js';
import { UserError } from '../util/errors.js';
import { serviceContainer } from './containers.js';
import { copyFromContainer, copyToContainer } from './copy-tar.js';
import type { ProjectRef } from './project.js';

export interface CpOptions {
  /** `SERVICE:PATH`, a local path, or `-` (a tar on `stdin`). */
  source: string;
  /** `SERVICE:PATH`, a local path, or `-` (a tar to `stdout`). */
  destination: string;
  /** The replica, from 1 (default 1). */
  index?: number;
  /** Keep the owners (uid/gid) of what is copied, either way. */
  archive?: boolean;
  /** Follow a symbolic link given as the source. */
  followLink?: boolean;
  stdin?: Readable;
  stdout?: Writable;
  dryRun?: boolean;
}

export interface CpResult {
  /** Both ends as a person reads them: `web-1:/etc/hosts`, `./hosts`. */
  from: string;
  to: string;
}

function splitRef(s: string): { service?: string; path: string } {
  const m = /^([a-zA-Z0-9][a-zA-Z0-9_.-]*):(.*)$/.exec(s);
  return m && !s.startsWith('/') && !s.startsWith('.') ? { service: m[1]!, path: m[2]! } : { path: s };
}

/** `cp`: files between a service's container and the host, with docker cp's naming rules. */
export async function cp(engine: Engine, project: ProjectRef, o: CpOptions): Promise<CpResult> {
  const from = splitRef(o.source);
  const to = splitRef(o.destination);
  if (!!from.service === !!to.service) {
    throw new UserError('cp copies between a container and the host', 1, 'write one side as SERVICE:PATH and the other as a local path');
  }
  const c = await serviceContainer(engine, project.name, (from.service ?? to.service)!, o.index ?? 1, false);
  const ends = { from: from.service ? `${c.name}:${from.path}` : from.path, to: to.service ? `${c.name}:${to.path}` : to.path };
  if (o.dryRun) return ends;
  if (from.service) await copyFromContainer(engine, c.id, from.path, to.path, o.stdout, { archive: o.archive });
  else await copyToContainer(engine, c.id, from.path, to.path, { archive: o.archive, followLink: o.followLink, stdin: o.stdin });
  return ends;
}
