import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { loadDockerode } from '../engine/docker/load.js';
import { UserError } from '../util/errors.js';
import { STACK_NAMESPACE } from './spec.js';

/**
 * A stack's named volumes live on the nodes that ran its tasks, and the
 * Swarm API cannot remove a volume on a worker: `down -v` asks each node's own
 * Docker Engine, named in TSCOMPOSE_SWARM_NODE_HOSTS (the manager's is
 * DOCKER_HOST). Which node holds which volume is read from the stack's tasks
 * before the services go, so that a node nobody named is reported with the
 * volumes it keeps rather than silently passed over.
 */

export const NODE_HOSTS_VARIABLE = 'TSCOMPOSE_SWARM_NODE_HOSTS';

/** Node id → names of the stack's volumes its tasks mounted (every task the manager still lists). */
export async function volumesByNode(docker: Dockerode, namespace: string): Promise<Map<string, Set<string>>> {
  const tasks = await docker.listTasks({ filters: JSON.stringify({ label: [`${STACK_NAMESPACE}=${namespace}`] }) }) as Array<{
    NodeID?: string; Spec?: { ContainerSpec?: { Mounts?: Array<{ Type?: string; Source?: string }> } };
  }>;
  const out = new Map<string, Set<string>>();
  for (const t of tasks) {
    if (!t.NodeID) continue;
    for (const m of t.Spec?.ContainerSpec?.Mounts ?? []) {
      if (m.Type !== 'volume' || !m.Source) continue;
      if (!out.has(t.NodeID)) out.set(t.NodeID, new Set());
      out.get(t.NodeID)!.add(m.Source);
    }
  }
  return out;
}

/** TSCOMPOSE_SWARM_NODE_HOSTS's addresses (comma separated). */
export function nodeHostsFrom(env: NodeJS.ProcessEnv): string[] {
  return (env[NODE_HOSTS_VARIABLE] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** Docker Engines at unix:// or tcp:// addresses. */
export function nodeEngines(hosts: readonly string[]): Dockerode[] {
  if (!hosts.length) return [];
  const Docker = loadDockerode();
  return hosts.map((host) => {
    if (host.startsWith('unix://')) return new Docker({ socketPath: host.slice('unix://'.length) });
    const m = /^tcp:\/\/([^:/]+|\[[^\]]+\]):(\d+)\/?$/.exec(host);
    if (!m) throw new UserError(`${NODE_HOSTS_VARIABLE}: "${host}" is not a Docker host address`, 1, 'write unix:///path/to/docker.sock or tcp://HOST:PORT, comma separated');
    return new Docker({ host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]), protocol: 'http' });
  });
}

export interface NodeVolumesResult {
  removed: string[];
  /** `volume NAME on node NODE`: held by a node whose Docker Engine nobody named. */
  left: string[];
}

/**
 * Removes the stack's volumes (by its namespace label) on the manager and every named node, and
 * reports what `expected` says is on the others.
 */
export async function removeNodeVolumes(manager: Dockerode, namespace: string, expected: Map<string, Set<string>>, engines: readonly Dockerode[]): Promise<NodeVolumesResult> {
  const filters = JSON.stringify({ label: [`${STACK_NAMESPACE}=${namespace}`] });
  const nodeName = new Map((await manager.listNodes()).map((n) => [n.ID, n.Description?.Hostname ?? n.ID]));
  const reached = new Set<string>();
  const removed: string[] = [];
  for (const engine of [manager, ...engines]) {
    const info = await engine.info() as { Swarm?: { NodeID?: string } };
    const node = info.Swarm?.NodeID ?? '';
    if (reached.has(node)) continue;
    reached.add(node);
    const { Volumes } = await engine.listVolumes({ filters });
    for (const v of Volumes ?? []) {
      await retryWhileInUse(() => engine.getVolume(v.Name).remove());
      removed.push(`volume ${v.Name} on node ${nodeName.get(node) ?? node}`);
    }
  }
  const left = [...expected].filter(([node]) => !reached.has(node))
    .flatMap(([node, names]) => [...names].sort().map((n) => `volume ${n} on node ${nodeName.get(node) ?? node}`));
  return { removed, left };
}

/** Swarm frees a network or volume a moment after the last task goes: retry "in use" for up to 30 s. */
export async function retryWhileInUse(fn: () => Promise<unknown>): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await fn();
      return;
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404) return;
      if (i >= 120 || !/in use|has active endpoints/i.test(String((err as Error).message))) throw err;
      await sleep(250);
    }
  }
}
