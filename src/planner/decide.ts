import type { Project, ServiceConfig } from '../project/types.js';
import { UserError } from '../util/errors.js';
import { changedFields, encodeFieldDigests, fieldDigests, serviceHashInput, sha256, canonicalJson } from './hash.js';
import { containerName } from './labels.js';
import type { ObservedContainer, ObservedState } from './observed.js';
import { imageRef } from './observe.js';
import { serviceNetworkKeys } from './container-request.js';

/** The image a service runs, as observed; a sentence saying so when the engine does not have it. */
export function serviceImage(project: Project, observed: ObservedState, service: string): ObservedState['images'][string] {
  const ref = imageRef(project, service);
  const image = observed.images[ref];
  if (!image) throw new UserError(`image ${ref} of service ${service} is not in the engine's store`, 1, 'pull or build it (up does, unless --pull never / --no-build)');
  return image;
}

/** Whether a service's existing containers are recreated: when they diverge from the file, always, or never. */
export type RecreatePolicy = 'diverged' | 'force' | 'never';

export interface ContainerDecision {
  number: number;
  action: 'keep' | 'recreate' | 'create';
  existing?: ObservedContainer;
  reason: string;
  /** A kept container that is not running and should be. */
  needsStart: boolean;
}

export interface ServiceDecision {
  /** The replicas the service will have, by number. */
  containers: ContainerDecision[];
  /** Containers to remove: scale down, duplicates left by an interrupted recreate. */
  extras: { container: ObservedContainer; reason: string }[];
  recreated: boolean;
  /** Final container name per replica number. */
  names: Record<number, string>;
  identity: { configHash: string; fieldDigests: string; imageId: string };
}

export interface DecideInput {
  project: Project;
  service: ServiceConfig;
  observed: ObservedState;
  expected: number;
  policy: RecreatePolicy;
  /** Namespace/volume parents recreated by this plan. */
  recreatedParents: string[];
  /** Network key → id of the live network the container should be on (not being recreated). */
  resolvedNetworkIds: Record<string, string>;
  isJob: boolean;
  start: boolean;
}

/**
 * Decides, for one service, which replicas are kept, recreated, created or
 * removed, and why. Pure; the plan's operations are derived from it.
 */
export function decideService(input: DecideInput): ServiceDecision {
  const { project, service, observed, expected } = input;
  if (expected > 1 && service.container_name) {
    throw new UserError(
      `service ${service.name} has container_name "${service.container_name}" and cannot have ${expected} replicas`,
      1,
      'remove container_name to scale the service (container names are unique)',
    );
  }
  const image = serviceImage(project, observed, service.name);
  const contentDigests: Record<string, string> = {};
  for (const [k, v] of Object.entries(observed.contents)) contentDigests[k] = v.digest;
  const hashInput = serviceHashInput(project, service, { imageId: image.id, contentDigests });
  const configHash = sha256(canonicalJson(hashInput));
  const digests = fieldDigests(hashInput);
  const nameOf = (n: number) => service.container_name ?? containerName(project.name, service.name, n);

  // One container per number: an interrupted recreate can leave two (the old one and its replacement).
  const byNumber = new Map<number, ObservedContainer[]>();
  for (const oc of observed.containers[service.name] ?? []) {
    const list = byNumber.get(oc.number) ?? [];
    list.push(oc);
    byNumber.set(oc.number, list);
  }
  const extras: ServiceDecision['extras'] = [];
  const primaries: ObservedContainer[] = [];
  for (const [number, list] of [...byNumber.entries()].sort((a, b) => a[0] - b[0])) {
    const canonical = list.find((c) => c.name === nameOf(number));
    const primary = canonical ?? [...list].sort((a, b) => b.summary.created - a.summary.created)[0]!;
    primaries.push(primary);
    for (const c of list) if (c !== primary) extras.push({ container: c, reason: `duplicate of ${primary.name}` });
  }
  const kept = primaries.slice(0, expected);
  for (const c of primaries.slice(expected).reverse()) extras.push({ container: c, reason: 'scale down' });

  const containers: ContainerDecision[] = [];
  let recreated = false;
  for (const oc of kept) {
    const why = recreateReason(input, oc, configHash, digests, image.id);
    if (why) {
      recreated = true;
      containers.push({ number: oc.number, action: 'recreate', existing: oc, reason: why, needsStart: input.start });
      continue;
    }
    const state = oc.summary.state;
    const completedJob = input.isJob && state === 'exited' && oc.summary.exitCode === 0;
    const needsStart = input.start && !completedJob && (state === 'created' || state === 'exited' || state === 'dead');
    containers.push({ number: oc.number, action: 'keep', existing: oc, reason: '', needsStart });
  }
  const used = new Set(kept.map((c) => c.number));
  for (let n = 1; containers.length < expected; n++) {
    if (used.has(n)) continue;
    containers.push({ number: n, action: 'create', reason: 'no container', needsStart: input.start });
  }
  containers.sort((a, b) => a.number - b.number);
  const names: Record<number, string> = {};
  for (const c of containers) names[c.number] = nameOf(c.number);
  return { containers, extras, recreated, names, identity: { configHash, fieldDigests: encodeFieldDigests(digests), imageId: image.id } };
}

function recreateReason(input: DecideInput, oc: ObservedContainer, hash: string, digests: Record<string, string>, imageId: string): string | undefined {
  if (input.policy === 'never') return undefined;
  if (input.policy === 'force') return '--force-recreate';
  if (input.recreatedParents.length) return `${input.recreatedParents.join(', ')} recreated`;
  if (oc.configHash !== hash) {
    const fields = changedFields(oc.fields, digests).map(describeField);
    const imageOnly = fields.length === 1 && fields[0] === 'image id';
    if (imageOnly || (oc.imageId && oc.imageId !== imageId && fields.length === 0)) return 'image changed';
    return fields.length ? `config changed: ${fields.join(', ')}` : 'config changed';
  }
  if (oc.imageId !== imageId) return 'image changed';
  if (!input.service.network_mode) {
    const connected = new Set(Object.values(oc.summary.networks).map((n) => n.networkId));
    for (const key of serviceNetworkKeys(input.project, input.service)) {
      const id = input.resolvedNetworkIds[key];
      if (id && !connected.has(id)) return `not connected to network ${key}`;
    }
  }
  for (const v of input.service.volumes) {
    if (v.type !== 'volume' || !v.source) continue;
    const name = input.project.volumes[v.source]?.name;
    if (name && !oc.summary.mounts.some((m) => m.type === 'volume' && m.name === name)) return `volume ${v.source} not mounted`;
  }
  return undefined;
}

function describeField(f: string): string {
  if (f === 'resolved image') return 'image id';
  if (f.startsWith('resolved content.')) return `${f.slice('resolved content.'.length)} content`;
  return f;
}
