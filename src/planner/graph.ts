import { Graph } from '@dagrejs/graphlib';
import { findCycles, formatCycle } from '../project/cycles.js';
import type { Project } from '../project/types.js';
import { UserError } from '../util/errors.js';

/**
 * The project as a dependency graph: a node per service, network and named
 * volume, and an edge from each dependent to what it needs: its depends_on
 * services (which include the implicit ones: links, `service:x` namespaces,
 * volumes_from), its networks and its named volumes. Traversals run
 * independent nodes in parallel, as Compose does: "up" visits a node once
 * everything it needs was visited, "down" once everything that needs it was.
 */

export type NodeKind = 'service' | 'network' | 'volume';

export interface GraphNode {
  kind: NodeKind;
  /** The compose key (service name, network key, volume key). */
  name: string;
}

export type DependencyGraph = Graph<unknown, GraphNode, { implicit?: boolean }>;

export function nodeId(kind: NodeKind, name: string): string {
  return `${kind}:${name}`;
}

export function serviceGraph(project: Project): DependencyGraph {
  const g: DependencyGraph = new Graph({ directed: true });
  for (const name of Object.keys(project.networks)) g.setNode(nodeId('network', name), { kind: 'network', name });
  for (const name of Object.keys(project.volumes)) g.setNode(nodeId('volume', name), { kind: 'volume', name });
  for (const name of Object.keys(project.services)) g.setNode(nodeId('service', name), { kind: 'service', name });
  for (const [name, s] of Object.entries(project.services)) {
    const from = nodeId('service', name);
    for (const dep of Object.keys(s.depends_on)) {
      // A dependency outside the enabled services (optional, or disabled by a profile) orders nothing.
      if (project.services[dep]) g.setEdge(from, nodeId('service', dep));
    }
    for (const net of Object.keys(s.networks)) if (project.networks[net]) g.setEdge(from, nodeId('network', net));
    for (const v of s.volumes) {
      if (v.type === 'volume' && v.source && project.volumes[v.source]) g.setEdge(from, nodeId('volume', v.source));
    }
  }
  return g;
}

/** Every dependency cycle, as node-id paths `a -> b -> a`. */
export function cyclesOf(g: DependencyGraph): string[][] {
  return findCycles(new Map(g.nodes().map((n) => [n, g.successors(n) ?? []])));
}

/** Throws a UserError naming the cycle (`service:a -> service:b -> service:a`) when there is one. */
export function assertAcyclic(g: DependencyGraph): void {
  const cycles = cyclesOf(g);
  if (cycles.length) {
    const names = cycles.map((c) => formatCycle(c.map((id) => g.node(id)?.name ?? id)));
    throw new UserError(`dependency cycle: ${names.join('; ')}`, 1, 'remove one of the depends_on (or links, volumes_from, service: namespace) edges of the cycle');
  }
}

export type Visitor = (id: string, node: GraphNode) => Promise<void>;

export interface TraversalOptions {
  /** At most this many visits at once (default: unlimited, like Compose's --parallel -1). */
  concurrency?: number;
}

/** Visits every node after all its dependencies' visits resolved (bring-up order). */
export function inDependencyOrder(g: DependencyGraph, visit: Visitor, opts: TraversalOptions = {}): Promise<void> {
  return traverse(g, visit, (n) => g.successors(n) ?? [], (n) => g.predecessors(n) ?? [], opts);
}

/** Visits every node after all its dependents' visits resolved (tear-down order). */
export function inReverseDependencyOrder(g: DependencyGraph, visit: Visitor, opts: TraversalOptions = {}): Promise<void> {
  return traverse(g, visit, (n) => g.predecessors(n) ?? [], (n) => g.successors(n) ?? [], opts);
}

/**
 * Starts each node once every node in `waitsFor(node)` finished; on a
 * failure, starts nothing new, lets running visits end, and rejects with the
 * first error (all of them are collected in an AggregateError when several fail).
 */
async function traverse(
  g: DependencyGraph,
  visit: Visitor,
  waitsFor: (n: string) => string[],
  unblocks: (n: string) => string[],
  opts: TraversalOptions,
): Promise<void> {
  assertAcyclic(g);
  const limit = opts.concurrency && opts.concurrency > 0 ? opts.concurrency : Infinity;
  const pending = new Map(g.nodes().map((n) => [n, new Set(waitsFor(n))]));
  const ready = [...pending].filter(([, deps]) => deps.size === 0).map(([n]) => n).sort();
  for (const n of ready) pending.delete(n);
  const errors: unknown[] = [];
  let running = 0;
  await new Promise<void>((resolveAll) => {
    const pump = (): void => {
      while (errors.length === 0 && running < limit && ready.length > 0) {
        const n = ready.shift()!;
        running++;
        // A visitor that throws synchronously fails like one that rejects.
        Promise.resolve()
          .then(() => visit(n, g.node(n)))
          .then(
          () => {
            running--;
            for (const next of unblocks(n).sort()) {
              const deps = pending.get(next);
              if (!deps) continue;
              deps.delete(n);
              if (deps.size === 0) {
                pending.delete(next);
                ready.push(next);
              }
            }
            pump();
          },
          (err: unknown) => {
            running--;
            errors.push(err);
            pump();
          },
        );
      }
      if (running === 0 && (errors.length > 0 || ready.length === 0)) resolveAll();
    };
    pump();
  });
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; '));
}
