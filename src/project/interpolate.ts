import type { Diagnostics, SourcePos } from './diagnostics.js';
import { substitute, TemplateError, type Lookup } from './template.js';
import { pathMatches, type Node, type ScalarNode } from './tree.js';

/**
 * Phase 3: interpolation. Every string value of a document (never a key) is
 * run through the `${VAR}` grammar, per file and before validation, as
 * Compose does: the schema then sees the values the user meant. Where the
 * schema wants a number or a boolean, a string (interpolated or quoted) is
 * cast to it, at the same places Compose casts.
 */

type Cast = 'int' | 'float' | 'bool';

/** Paths (`*` any map key, `[]` any list item) whose string values are cast, as in compose-go. */
const CASTS: [string[], Cast][] = [
  ...(
    [
      [['cpu_count'], 'int'],
      [['cpu_percent'], 'float'],
      [['cpu_period'], 'int'],
      [['cpu_quota'], 'int'],
      [['cpu_rt_period'], 'int'],
      [['cpu_rt_runtime'], 'int'],
      [['cpus'], 'float'],
      [['cpu_shares'], 'int'],
      [['init'], 'bool'],
      [['depends_on', '*', 'required'], 'bool'],
      [['depends_on', '*', 'restart'], 'bool'],
      [['deploy', 'replicas'], 'int'],
      [['deploy', 'update_config', 'parallelism'], 'int'],
      [['deploy', 'update_config', 'max_failure_ratio'], 'float'],
      [['deploy', 'rollback_config', 'parallelism'], 'int'],
      [['deploy', 'rollback_config', 'max_failure_ratio'], 'float'],
      [['deploy', 'restart_policy', 'max_attempts'], 'int'],
      [['deploy', 'placement', 'max_replicas_per_node'], 'int'],
      [['healthcheck', 'retries'], 'int'],
      [['healthcheck', 'disable'], 'bool'],
      [['oom_kill_disable'], 'bool'],
      [['oom_score_adj'], 'int'],
      [['pids_limit'], 'int'],
      [['ports', '[]', 'target'], 'int'],
      [['privileged'], 'bool'],
      [['read_only'], 'bool'],
      [['scale'], 'int'],
      [['stdin_open'], 'bool'],
      [['tty'], 'bool'],
      [['ulimits', '*'], 'int'],
      [['ulimits', '*', 'hard'], 'int'],
      [['ulimits', '*', 'soft'], 'int'],
      [['volumes', '[]', 'read_only'], 'bool'],
      [['volumes', '[]', 'volume', 'nocopy'], 'bool'],
    ] as [string[], Cast][]
  ).map(([p, c]): [string[], Cast] => [['services', '*', ...p], c]),
  ...['networks', 'volumes', 'secrets', 'configs'].map((kind): [string[], Cast] => [[kind, '*', 'external'], 'bool']),
  ...['internal', 'attachable', 'enable_ipv4', 'enable_ipv6'].map((k): [string[], Cast] => [['networks', '*', k], 'bool']),
];

const MAX_CAST_DEPTH = Math.max(...CASTS.map(([p]) => p.length));

export interface InterpolateOptions {
  lookup: Lookup;
  diags: Diagnostics;
  /** Variables already warned about (a variable unset in many places warns once). */
  warnedUnset?: Set<string>;
}

export function interpolateTree(root: Node, opts: InterpolateOptions): void {
  const warned = opts.warnedUnset ?? new Set<string>();
  const path: string[] = []; // one array, pushed and popped: big files have many nodes
  const walk = (n: Node): void => {
    if (n.kind === 'map') {
      for (const [k, e] of n.entries) {
        path.push(k);
        walk(e.value);
        path.pop();
      }
    } else if (n.kind === 'seq') {
      path.push('[]');
      for (const item of n.items) walk(item);
      path.pop();
    } else if (typeof n.value === 'string') {
      interpolateScalar(n, path, opts, warned);
    }
  };
  walk(root);
}

function interpolateScalar(n: ScalarNode, path: string[], opts: InterpolateOptions, warned: Set<string>): void {
  const original = n.value as string;
  let value: string;
  try {
    value = substitute(original, {
      lookup: opts.lookup,
      onUnset: (name, offset) => {
        if (warned.has(name)) return;
        warned.add(name);
        opts.diags.warning(at(n, offset), `The "${name}" variable is not set. Defaulting to a blank string.`);
      },
    });
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    opts.diags.error(at(n, err.offset), err.message);
    return;
  }
  if (value !== original) {
    n.value = value;
    delete n.textAt; // the text no longer maps character for character
  }
  const cast = path.length <= MAX_CAST_DEPTH ? castFor(path) : undefined;
  if (cast) castScalar(n, cast, path, opts.diags);
}

/** The position of character `offset` of a scalar's value, when the source text allows it. */
function at(n: ScalarNode, offset: number): SourcePos {
  if (n.textAt && !(n.value as string).slice(0, offset).includes('\n')) {
    return { file: n.textAt.file, line: n.textAt.line, col: n.textAt.col + offset };
  }
  return n.src;
}

function castFor(path: string[]): Cast | undefined {
  return CASTS.find(([pattern]) => pathMatches(pattern, path))?.[1];
}

function castScalar(n: ScalarNode, cast: Cast, path: string[], diags: Diagnostics): void {
  const s = (n.value as string).trim();
  const where = path.join('.').replace(/\.\[\]/g, '[]');
  if (cast === 'bool') {
    const lower = s.toLowerCase();
    if (lower === 'true' || lower === 'false') {
      n.value = lower === 'true';
    } else if (['y', 'yes', 'on', 'n', 'no', 'off'].includes(lower)) {
      const b = ['y', 'yes', 'on'].includes(lower);
      diags.warning(n.src, `${JSON.stringify(n.value)} for a boolean is YAML 1.1; write \`${b}\``);
      n.value = b;
    } else {
      diags.error(n.src, `${where}: ${JSON.stringify(n.value)} is not a boolean; write true or false`);
    }
    return;
  }
  const num = cast === 'int' ? (/^[-+]?\d+$/.test(s) ? Number(s) : NaN) : s === '' ? NaN : Number(s);
  if (Number.isNaN(num)) {
    diags.error(n.src, `${where}: ${JSON.stringify(n.value)} is not ${cast === 'int' ? 'an integer' : 'a number'}`);
    return;
  }
  n.value = num;
}
