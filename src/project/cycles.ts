/**
 * Dependency cycles as paths a user can read (`a -> b -> c -> a`), each
 * reported once whatever node it is entered from. Shared by the loader's
 * consistency check and the planner's graph.
 */
export function findCycles(deps: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const visit = (n: string): void => {
    state.set(n, 'active');
    stack.push(n);
    for (const d of [...(deps.get(n) ?? [])].sort()) {
      if (!deps.has(d)) continue;
      const s = state.get(d);
      if (s === 'active') {
        const cycle = [...stack.slice(stack.indexOf(d)), d];
        const key = canonical(cycle);
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push(cycle);
        }
      } else if (s === undefined) {
        visit(d);
      }
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...deps.keys()].sort()) if (!state.has(n)) visit(n);
  return cycles;
}

/** The same cycle entered at different nodes has one key: rotate it to start at its smallest name. */
function canonical(cycle: string[]): string {
  const ring = cycle.slice(0, -1);
  const start = ring.indexOf([...ring].sort()[0]!);
  return [...ring.slice(start), ...ring.slice(0, start)].join('\0');
}

export function formatCycle(cycle: string[]): string {
  return cycle.join(' -> ');
}
