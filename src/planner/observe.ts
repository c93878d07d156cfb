import { readFileSync } from 'node:fs';
import type { ContainerSummary, Engine, NetworkSummary, VolumeSummary } from '../engine/types.js';
import type { Project } from '../project/types.js';
import { UserError } from '../util/errors.js';
import { decodeFieldDigests, sha256 } from './hash.js';
import { Label, defaultImageName } from './labels.js';
import { emptyObservedState, type ObservedContainer, type ObservedState } from './observed.js';
import { byCodeUnits } from '../util/order.js';

/** The image reference a service runs: `image:`, or the name Compose gives a built image. */
export function imageRef(project: Project, serviceName: string): string {
  const s = project.services[serviceName] ?? project.disabledServices[serviceName];
  return s?.image ?? defaultImageName(project.name, serviceName);
}

export function toObservedContainer(c: ContainerSummary): ObservedContainer {
  return {
    summary: c,
    id: c.id,
    name: c.name,
    service: c.labels[Label.service] ?? '',
    number: Number(c.labels[Label.containerNumber] ?? 0) || 0,
    oneoff: c.labels[Label.oneoff] === 'True',
    configHash: c.labels[Label.configHash] ?? '',
    imageId: c.labels[Label.image] ?? '',
    fields: decodeFieldDigests(c.labels[Label.configFields]),
  };
}

/**
 * Reads the project's objects back from the engine by label, in parallel.
 * With a Project, also looks up external (and unlabelled) networks and
 * volumes by name, the images the services run, and the content of configs
 * and secrets, so that reconcile has everything it compares.
 */
export async function observe(engine: Engine, projectName: string, project?: Project): Promise<ObservedState> {
  const byProject = { labels: { [Label.project]: projectName } };
  const [containers, networks, volumes] = await Promise.all([
    engine.containers.list({ ...byProject, all: true }),
    engine.networks.list(byProject),
    engine.volumes.list(byProject),
  ]);
  const state = observedFromLists(projectName, project, containers, networks, volumes);
  if (!project) return state;

  const lookups: Promise<void>[] = [];
  for (const [key, n] of Object.entries(project.networks)) {
    if (!n.external && state.networks[key]?.name === n.name) continue;
    lookups.push(engine.networks.list({ names: [n.name] }).then((found) => void (state.networksByName[n.name] = found[0] ?? null)));
  }
  for (const [key, v] of Object.entries(project.volumes)) {
    if (!v.external && state.volumes[key]?.name === v.name) continue;
    lookups.push(engine.volumes.inspect(v.name).then((found) => void (state.volumesByName[v.name] = found ?? null)));
  }
  const refs = new Set(Object.keys(project.services).map((s) => imageRef(project, s)));
  for (const ref of refs) {
    lookups.push(
      engine.images.inspect(ref).then((img) => {
        if (img) state.images[ref] = { id: img.id, config: img.config };
      }),
    );
  }
  await Promise.all(lookups);
  state.contents = readContents(project);
  return state;
}

/**
 * Sorts what the engine listed into the observed state: containers by
 * service (oneoffs and orphans apart), networks and volumes by compose key.
 * Pure, so that tests can build observed states from lists.
 */
export function observedFromLists(
  projectName: string,
  project: Project | undefined,
  containers: ContainerSummary[],
  networks: NetworkSummary[],
  volumes: VolumeSummary[],
): ObservedState {
  const state = emptyObservedState(projectName);
  const known = (svc: string) => !project || svc in project.services || svc in project.disabledServices;
  for (const c of containers) {
    if (c.labels[Label.project] !== projectName) continue;
    const oc = toObservedContainer(c);
    if (oc.oneoff) state.oneoffs.push(oc);
    else if (known(oc.service)) (state.containers[oc.service] ??= []).push(oc);
    else state.orphans.push(oc);
  }
  for (const list of Object.values(state.containers)) list.sort((a, b) => a.number - b.number || a.summary.created - b.summary.created);
  state.orphans.sort((a, b) => byCodeUnits(a.name, b.name));
  state.oneoffs.sort((a, b) => byCodeUnits(a.name, b.name));
  for (const n of networks) {
    const key = n.labels[Label.network];
    if (key && n.labels[Label.project] === projectName) {
      state.networks[key] = { id: n.id, name: n.name, key, configHash: n.labels[Label.configHash] ?? '', labels: n.labels };
    }
  }
  for (const v of volumes) {
    const key = v.labels[Label.volume];
    if (key && v.labels[Label.project] === projectName) {
      state.volumes[key] = { name: v.name, key, configHash: v.labels[Label.configHash] ?? '', labels: v.labels };
    }
  }
  return state;
}

/** The content of every config and secret a service uses, from its file, the environment or inline. */
export function readContents(project: Project): ObservedState['contents'] {
  const out: ObservedState['contents'] = {};
  const used = { config: new Set<string>(), secret: new Set<string>() };
  for (const s of Object.values(project.services)) {
    for (const r of s.configs) used.config.add(r.source);
    for (const r of s.secrets) used.secret.add(r.source);
  }
  for (const kind of ['config', 'secret'] as const) {
    const defs = kind === 'config' ? project.configs : project.secrets;
    for (const name of used[kind]) {
      const def = defs[name];
      if (!def) throw new UserError(`service refers to undefined ${kind} ${name}`, 1, `declare it under the top-level ${kind}s: key`);
      if (def.external) {
        throw new UserError(`${kind} ${name} is external: external ${kind}s need Swarm, which tscompose does not drive`, 1, `use file:, environment:${kind === 'config' ? ' or content:' : ''} instead`);
      }
      let content: Buffer;
      if (def.file !== undefined) {
        try {
          content = readFileSync(def.file);
        } catch (err) {
          throw new UserError(`cannot read the file of ${kind} ${name}: ${def.file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 1, `create the file or fix ${kind}s.${name}.file`);
        }
      } else if (def.environment !== undefined) {
        const v = project.environment[def.environment];
        if (v === undefined) {
          throw new UserError(`environment variable "${def.environment}" required by ${kind} "${name}" is not set`, 1, `export ${def.environment} or add it to .env`);
        }
        content = Buffer.from(v);
      } else {
        content = Buffer.from(def.content ?? '');
      }
      out[`${kind}:${name}`] = { digest: sha256(content), content, file: def.file };
    }
  }
  return out;
}
