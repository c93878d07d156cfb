import { UserError } from '../util/errors.js';

/**
 * A deterministic dependency order for planning: dependencies before
 * dependents, ties broken by name, so that a plan's numbering is stable and
 * golden tests are exact. (Execution order comes from the plan's edges, not
 * from this list.) `deps` maps each node to the nodes it depends on; edges to
 * nodes outside the map are ignored.
 */
export function dependencyOrder(deps: Record<string, string[]>): string[] {
  const names = Object.keys(deps).sort();
  const inSet = new Set(names);
  const remaining = new Map(names.map((n) => [n, new Set(deps[n]!.filter((d) => inSet.has(d) && d !== n))]));
  const out: string[] = [];
  while (remaining.size) {
    const ready = [...remaining.keys()].filter((n) => remaining.get(n)!.size === 0).sort();
    if (ready.length === 0) throw new UserError(`dependency cycle between services: ${[...remaining.keys()].sort().join(', ')}`);
    const next = ready[0]!;
    out.push(next);
    remaining.delete(next);
    for (const set of remaining.values()) set.delete(next);
  }
  return out;
}

/** The transitive closure of `start` over `deps` (start included). */
export function withDependencies(start: string[], deps: Record<string, string[]>): Set<string> {
  const seen = new Set<string>();
  const stack = [...start];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n) || !(n in deps)) continue;
    seen.add(n);
    stack.push(...deps[n]!);
  }
  return seen;
}
