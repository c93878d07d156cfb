import type { Engine, PortProtocol, TopResult, VolumeSummary } from '../engine/types.js';
import { Label } from '../planner/labels.js';
import { UserError } from '../util/errors.js';
import { projectContainers, serviceContainer } from './containers.js';
import { loadedProject, type ProjectRef } from './project.js';
import { byCodeUnits } from '../util/order.js';

/** top, port, images, ls, volumes: read-only views of a project and of the engine's projects. */

/** `top`: the processes of each running container of the project (of `services`, or all). */
export async function top(engine: Engine, project: ProjectRef, o: { services?: string[] } = {}): Promise<Array<{ container: string } & TopResult>> {
  const list = await projectContainers(engine, project.name, { services: o.services ?? [] });
  return Promise.all(list.map(async (c) => ({ container: c.name, ...(await engine.containers.top(c.id)) })));
}

export interface PortOptions {
  service: string;
  /** The container port. */
  port: number;
  protocol?: PortProtocol;
  /** The replica, from 1 (default 1). */
  index?: number;
}

/** `port`: where a container port of a service is published on the host. */
export async function port(engine: Engine, project: ProjectRef, o: PortOptions): Promise<{ hostIp: string; hostPort: number }> {
  const protocol = o.protocol ?? 'tcp';
  if (!Number.isInteger(o.port) || o.port <= 0 || o.port > 65535) throw new UserError(`invalid port "${o.port}"`, 1, 'give the container port, e.g. 80');
  const c = await serviceContainer(engine, project.name, o.service, o.index ?? 1, false);
  const d = await engine.containers.inspect(c.id);
  const p = d?.ports.find((x) => x.target === o.port && x.protocol === protocol && x.hostPort !== undefined);
  if (!p) throw new UserError(`no port ${o.port}/${protocol} for container ${c.name}`, 1, 'publish it with ports: in the compose file');
  return { hostIp: p.hostIp ?? '0.0.0.0', hostPort: p.hostPort! };
}

export interface ImageRow {
  container: string;
  service: string;
  repository: string;
  tag: string;
  /** "sha256:<hex>" */
  id: string;
  size: number;
  created: number;
}

/** `images`: the image of each container of the project (stopped ones too). */
export async function images(engine: Engine, project: ProjectRef, o: { services?: string[] } = {}): Promise<ImageRow[]> {
  const list = await projectContainers(engine, project.name, { all: true, services: o.services ?? [] });
  return Promise.all(
    list.map(async (c) => {
      const img = await engine.images.inspect(c.imageId || c.image);
      const [repository, tag] = splitTag(c.image);
      return { container: c.name, service: c.labels[Label.service] ?? '', repository, tag, id: img?.id ?? c.imageId, size: img?.size ?? 0, created: img?.created ?? 0 };
    }),
  );
}

function splitTag(ref: string): [string, string] {
  const at = ref.indexOf('@');
  const base = at >= 0 ? ref.slice(0, at) : ref;
  const colon = base.lastIndexOf(':');
  return colon > base.lastIndexOf('/') ? [base.slice(0, colon), base.slice(colon + 1)] : [base, 'latest'];
}

export interface ProjectSummary {
  name: string;
  /** "running(2), exited(1)" */
  status: string;
  /** The compose files its containers were made from. */
  configFiles: string[];
}

/** `ls`: the projects the engine has containers of (running ones only, unless `all`), by name; `name` narrows by substring. */
export async function ls(engine: Engine, o: { all?: boolean; name?: string } = {}): Promise<ProjectSummary[]> {
  const containers = await engine.containers.list({ all: true, labels: { [Label.project]: undefined } });
  const projects = new Map<string, { states: Map<string, number>; files: Set<string> }>();
  for (const c of containers) {
    const name = c.labels[Label.project]!;
    const p = projects.get(name) ?? { states: new Map(), files: new Set() };
    p.states.set(c.state, (p.states.get(c.state) ?? 0) + 1);
    if (c.labels[Label.configFiles]) p.files.add(c.labels[Label.configFiles]!);
    projects.set(name, p);
  }
  let names = [...projects.keys()].sort();
  if (!o.all) names = names.filter((n) => projects.get(n)!.states.has('running'));
  if (o.name !== undefined) names = names.filter((n) => n.includes(o.name!));
  return names.map((n) => ({
    name: n,
    status: [...projects.get(n)!.states.entries()].sort().map(([s, k]) => `${s}(${k})`).join(', '),
    configFiles: [...projects.get(n)!.files],
  }));
}

/**
 * `volumes`: the project's volumes as the engine has them (by the project's
 * label), or with `services` only those that these services mount.
 */
export async function volumes(engine: Engine, project: ProjectRef, o: { services?: string[] } = {}): Promise<VolumeSummary[]> {
  let list = await engine.volumes.list({ labels: { [Label.project]: project.name } });
  const file = loadedProject(project);
  if (o.services?.length) {
    if (!file) throw new UserError('volumes SERVICE... needs the compose file', 1, 'run it where the compose file is, or give it with -f');
    const keys = new Set<string>();
    for (const s of o.services) {
      const svc = file.services[s];
      if (!svc) throw new UserError(`no such service: ${s}`, 1, `the project's services: ${Object.keys(file.services).sort().join(', ')}`);
      for (const v of svc.volumes) if (v.type === 'volume' && v.source) keys.add(v.source);
    }
    list = list.filter((v) => keys.has(v.labels[Label.volume] ?? ''));
  }
  return list.sort((a, b) => byCodeUnits(a.name, b.name));
}
