import type { Project } from '../project/types.js';

/**
 * What cannot work on a swarm, found before anything is created on it: every
 * refusal at once (the user fixes the file in one go), and warnings for the
 * fields Swarm ignores. Pure: the cluster's answers come in as `ClusterFacts`.
 */

export interface ClusterFacts {
  /** Whether the nodes' kernels have IPVS (VIP endpoints and the ingress mesh need it). */
  ipvs: boolean;
  /** Why the nodes cannot pull an image, by reference; absent when they can. */
  unpullable: Map<string, string>;
  /** The digest the registry answers for each pullable image: every node runs the same one. */
  digests: Map<string, string>;
  /** Nodes that take tasks (ready and active). */
  nodes: number;
}

export interface Verdict {
  refusals: string[];
  warnings: string[];
}

/** Fields Swarm ignores, and what the user gets instead. */
const IGNORED: ReadonlyArray<[keyof Project['services'][string], string]> = [
  ['container_name', 'Swarm names the tasks'],
  ['links', 'services reach each other by name on their networks'],
  ['external_links', 'services reach each other by name on their networks'],
  ['restart', 'use deploy.restart_policy'],
  ['network_mode', 'tasks join the stack\'s overlay networks'],
  ['privileged', 'Swarm services cannot be privileged'],
  ['devices', 'Swarm services cannot map devices'],
];

/** A reference whose first component is a registry host (has a dot or a port, or is localhost). */
export function namesRegistry(image: string): boolean {
  const first = image.split('/')[0]!;
  return image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
}

export function checkStack(project: Project, facts: ClusterFacts): Verdict {
  const refusals: string[] = [];
  const warnings: string[] = [];
  for (const svc of Object.values(project.services)) {
    const s = `service "${svc.name}"`;
    if (svc.build && !(svc.image && namesRegistry(svc.image))) {
      refusals.push(`${s} has a build section and no registry to push to: the nodes cannot build it. Name a registry the nodes reach in image: (e.g. registry.example:5000/${svc.name}), run \`tscompose build --push ${svc.name}\`, then deploy`);
    } else if (!svc.image) {
      refusals.push(`${s} has no image: a swarm runs images its nodes pull from a registry`);
    } else {
      const why = facts.unpullable.get(svc.image);
      if (why !== undefined) {
        refusals.push(`${s}: the nodes cannot pull image "${svc.image}" (${why}). Push it to a registry the nodes reach and name that registry in image:${svc.build ? ` (\`tscompose build --push ${svc.name}\`)` : ''}`);
      }
    }
    for (const v of svc.volumes) {
      if (v.type === 'bind') {
        refusals.push(`${s}: the bind mount "${v.source}" -> "${v.target}" names a path on whichever node runs the task, which differs per node; use a named volume (with a placement constraint to keep it on one node) instead`);
      }
    }
    const deps = Object.keys(svc.depends_on);
    if (deps.length) {
      refusals.push(`${s}: depends_on (${deps.join(', ')}) is ignored by Swarm, which starts tasks in any order; make "${svc.name}" wait itself (retry in its command until ${deps.map((d) => `"${d}"`).join(', ')} answers, or a healthcheck with restart_policy condition on-failure) and remove depends_on`);
    }
    if (!facts.ipvs) {
      const mode = svc.deploy?.endpoint_mode ?? 'vip';
      if (mode === 'vip') {
        refusals.push(`${s}: endpoint_mode vip${svc.deploy?.endpoint_mode ? '' : ' (the default)'} needs IPVS, which the cluster's nodes lack; set deploy.endpoint_mode: dnsrr`);
      }
      for (const p of svc.ports) {
        if (p.mode !== 'host') {
          refusals.push(`${s}: port ${p.target} is published in ingress mode (the default), whose routing mesh needs IPVS, which the cluster's nodes lack; publish it in host mode ({target: ${p.target}, published: ${p.published ?? p.target}, mode: host})`);
        }
      }
    }
    const warning = startFirstWithoutRoom(svc, facts.nodes);
    if (warning) warnings.push(`${s}: ${warning}`);
    for (const [field, instead] of IGNORED) {
      const value = svc[field];
      if (value === undefined || value === false || (Array.isArray(value) && value.length === 0)) continue;
      warnings.push(`${s}: ${String(field)} is ignored on a swarm (${instead})`);
    }
  }
  return { refusals, warnings };
}

/**
 * A start-first update starts each new task before its old one stops: it needs room for one more
 * task on some node. With max_replicas_per_node filling every node, the new task stays pending
 * and the update never finishes (constraints can only leave fewer nodes: this under-warns).
 */
function startFirstWithoutRoom(svc: Project['services'][string], nodes: number): string | undefined {
  const d = svc.deploy;
  const max = d?.placement?.max_replicas_per_node;
  if (d?.update_config?.order !== 'start-first' || max === undefined || d.mode === 'global') return undefined;
  const replicas = d.replicas ?? svc.scale ?? 1;
  if (replicas < max * nodes) return undefined;
  return `update_config order start-first needs room for one more task, and max_replicas_per_node ${max} on ${nodes} node${nodes === 1 ? '' : 's'} leaves none for ${replicas} replicas: a rolling update would wait forever for its first new task; use order: stop-first, or raise max_replicas_per_node`;
}
