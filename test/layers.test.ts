import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { repoRoot } from './support/cache.js';

/**
 * The import graph of src/ follows the data flow (docs/internals.md,
 * "Layers"): every file sits in a layer, imports go to its own layer or a
 * lower one, never up; no files import each other in a circle; the CLI's
 * command modules do not import one another; `import()` is used only at the
 * seams listed below, each for a reason measured; no file sits beside a
 * folder of its name. The graph is read from the source: import and export
 * statements (type-only ones too: a circle of types is still a circle) and
 * `import()` / `typeof import()` calls.
 */

const SRC = join(repoRoot, 'src');

/** Top to bottom; a file belongs to the first layer one of whose prefixes its path (under src/) starts with. */
export const LAYERS: ReadonlyArray<{ name: string; paths: readonly string[] }> = [
  { name: 'programs (the CLI, the daemon)', paths: ['cli/', 'daemon/'] },
  { name: 'the API server (the Docker Engine API over the Engine)', paths: ['api/'] },
  { name: "the Node API (what `import ... from 'tscompose'` gives)", paths: ['package/'] },
  { name: 'compose: one function per verb', paths: ['compose/'] },
  { name: 'swarm: a project deployed as a Docker Swarm stack (services, not containers: beside the Engine, not under it)', paths: ['swarm/'] },
  { name: 'planner', paths: ['planner/'] },
  { name: 'loader (the project)', paths: ['project/'] },
  { name: 'the supervisor (a service of the daemon, over the native Engine)', paths: ['engine/native/supervisor/'] },
  { name: 'engines (openEngine, docker, the native Engine)', paths: ['engine/index.ts', 'engine/docker/', 'engine/native/engine/'] },
  { name: 'the native engine\'s subsystems: network, builder', paths: ['network/', 'build/'] },
  { name: 'image store, runtime, registry client', paths: ['engine/native/registry/', 'engine/native/runtime/', 'engine/native/image/'] },
  { name: 'the Engine contract', paths: ['engine/types.ts', 'engine/device-rules.ts', 'engine/status.ts', 'engine/stats.ts', 'engine/image-config.ts', 'engine/port-mapping.ts'] },
  { name: 'util', paths: ['util/'] },
];

/**
 * Where a lazy `import()` stays: the seam where the CLI picks a command
 * (a Node process pays for every module it loads), and the engine seams
 * whose modules cost a short command tens of milliseconds it does not need
 * (figures in docs/internals.md, "Lazy loading").
 */
export const LAZY_SEAMS: readonly string[] = [
  'cli/commands/index.ts',
  'engine/index.ts',
  'engine/native/engine/deps.ts',
  'engine/native/engine/containers.ts',
  'engine/native/engine/images.ts',
  'build/base.ts',
  'engine/native/supervisor/service.ts',
  'cli/swarm/verbs.ts',
  'compose/up.ts',
  'project/schema.ts',
];

export interface Edge {
  from: string;
  to: string;
  dynamic: boolean;
}

/** Comments out, strings kept: a `from '...'` in a comment is no import. */
function withoutComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`\\])\/\/[^\n]*/g, '$1');
}

const STATIC = /(?:^|[;\n}])\s*(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]/g;
const DYNAMIC = /(?<![\w.])import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The relative imports of one file, resolved to paths under src/ (`.js` written for `.ts`, as NodeNext wants). */
export function importsOf(file: string, text: string): Edge[] {
  const src = withoutComments(text);
  const out: Edge[] = [];
  const add = (spec: string, dynamic: boolean) => {
    if (!spec.startsWith('.')) return;
    const to = relative(SRC, resolve(dirname(join(SRC, file)), spec)).replace(/\.js$/, '.ts');
    out.push({ from: file, to, dynamic });
  };
  for (const m of src.matchAll(STATIC)) add(m[1]!, false);
  for (const m of src.matchAll(DYNAMIC)) {
    const typeOnly = /typeof\s+$/.test(src.slice(Math.max(0, m.index! - 10), m.index!));
    add(m[1]!, !typeOnly);
  }
  return out;
}

export function layerOf(file: string): number {
  return LAYERS.findIndex((l) => l.paths.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p)));
}

/** Files (nodes of the graph) that import each other in a circle: Tarjan's strongly connected components of more than one file. */
export function circles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let counter = 0;
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of new Set(edges.flatMap((e) => [e.from, e.to]))) if (!index.has(v)) visit(v);
  return out;
}

/** Every broken rule, one sentence each; empty when the graph is as it should be. */
export function violations(files: readonly string[], edges: readonly Edge[]): string[] {
  const out: string[] = [];
  for (const f of files) if (layerOf(f) < 0) out.push(`${f} is in no layer: add its folder to LAYERS (test/layers.test.ts) and docs/internals.md`);
  for (const e of edges) {
    const [a, b] = [layerOf(e.from), layerOf(e.to)];
    if (a >= 0 && b >= 0 && b < a) out.push(`${e.from} imports ${e.to} upward (${LAYERS[a]!.name} -> ${LAYERS[b]!.name})`);
    if (e.from.startsWith('cli/commands/') && e.to.startsWith('cli/commands/') && e.from !== 'cli/commands/index.ts') {
      out.push(`${e.from} imports another command module, ${e.to}: share code through a module outside cli/commands`);
    }
    if (e.dynamic && !LAZY_SEAMS.includes(e.from)) out.push(`${e.from} imports ${e.to} lazily, outside the seams where that pays (LAZY_SEAMS)`);
  }
  for (const c of circles(edges)) out.push(`circle of imports: ${c.join(' <-> ')}`);
  return out;
}

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [relative(SRC, p)] : [];
  });
}

describe('the import graph of src/', () => {
  const files = sourceFiles();
  const edges = files.flatMap((f) => importsOf(f, readFileSync(join(SRC, f), 'utf8')));

  it('reads every relative import, and each names a file that exists', () => {
    expect(files.length).toBeGreaterThan(200);
    expect(edges.length).toBeGreaterThan(500);
    expect(edges.filter((e) => !existsSync(join(SRC, e.to))).map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it('runs down the layers, with no circle, no command importing a command, and import() only at the seams', () => {
    expect(violations(files, edges)).toEqual([]);
  });

  it('keeps the compose layer and the Node API free of the CLI: no printing, no exiting, no commander, no process globals', () => {
    const offenders = files
      .filter((f) => f.startsWith('compose/') || f.startsWith('package/'))
      .filter((f) => /\bprocess\.|from 'commander'|\bconsole\./.test(withoutComments(readFileSync(join(SRC, f), 'utf8'))));
    expect(offenders).toEqual([]);
  });

  it('has no file beside a folder of the same name', () => {
    const twins = files.filter((f) => existsSync(join(SRC, f.replace(/\.ts$/, ''))));
    expect(twins).toEqual([]);
  });

  it('catches what it is there to catch (a check that cannot fail proves nothing)', () => {
    const planted = [
      { from: 'planner/reconcile.ts', to: 'cli/main.ts', dynamic: false },
      { from: 'network/a.ts', to: 'network/b.ts', dynamic: false },
      { from: 'network/b.ts', to: 'network/a.ts', dynamic: false },
      { from: 'cli/commands/up.ts', to: 'cli/commands/down.ts', dynamic: false },
      { from: 'compose/down.ts', to: 'planner/plan.ts', dynamic: true },
    ];
    const v = violations(['planner/reconcile.ts', 'cli/main.ts', 'network/a.ts', 'network/b.ts', 'elsewhere/x.ts'], planted);
    expect(v).toEqual([
      'elsewhere/x.ts is in no layer: add its folder to LAYERS (test/layers.test.ts) and docs/internals.md',
      'planner/reconcile.ts imports cli/main.ts upward (planner -> programs (the CLI, the daemon))',
      'cli/commands/up.ts imports another command module, cli/commands/down.ts: share code through a module outside cli/commands',
      'compose/down.ts imports planner/plan.ts lazily, outside the seams where that pays (LAZY_SEAMS)',
      'circle of imports: network/a.ts <-> network/b.ts',
    ]);
    expect(importsOf('planner/x.ts', "import type {\n  A,\n  B,\n} from '../engine/types.js';\n// import { no } from '../cli/main.js';\nconst m = await import('./y.js');\ntype T = typeof import('./z.js');\nexport { q } from './w.js';\n"))
      .toEqual([
        { from: 'planner/x.ts', to: 'engine/types.ts', dynamic: false },
        { from: 'planner/x.ts', to: 'planner/w.ts', dynamic: false },
        { from: 'planner/x.ts', to: 'planner/y.ts', dynamic: true },
        { from: 'planner/x.ts', to: 'planner/z.ts', dynamic: false },
      ]);
  });
});
