import { displayPath, type Diagnostics } from './diagnostics.js';
import { cloneNode, isMap, isSeq, mapNode, pathMatches, scalarNode, seqNode, type MapNode, type Node, type SeqNode } from './tree.js';
import { describeKind } from './yaml.js';

/**
 * Phase 8: merging an override document into what was loaded before it, with
 * Compose's rules: mappings merge key by key, lists append, scalars replace,
 * with these exceptions (compose-go `override/merge.go`):
 * - command, entrypoint and healthcheck.test replace;
 * - attributes that are a mapping or a `KEY=value` list (environment, labels,
 *   build args, sysctls...) merge by key; depends_on, networks and models
 *   turn their list form into a mapping first; `build: ./dir` is `{context}`;
 * - logging options merge only when both sides use the same driver;
 * - ipam pools merge by subnet, extra_hosts append only new entries;
 * - `!reset` removes what was there, `!override` replaces it wholesale.
 * The same rules serve `extends` (the service over its base) and `include`.
 */

type Merger = (base: Node, over: Node, path: string[], ctx: MergeContext) => Node;

interface MergeContext {
  diags: Diagnostics;
}

const replace: Merger = (_base, over) => over;

const SPECIALS: [string[], Merger][] = [
  [['services', '*', 'command'], replace],
  [['services', '*', 'entrypoint'], replace],
  [['services', '*', 'healthcheck', 'test'], replace],
  [['services', '*', 'build'], mergeBuild],
  [['services', '*', 'depends_on'], (b, o, p, c) => mergeAsMapping(b, o, p, c, true)],
  [['services', '*', 'networks'], (b, o, p, c) => mergeAsMapping(b, o, p, c, false)],
  [['services', '*', 'models'], (b, o, p, c) => mergeAsMapping(b, o, p, c, false)],
  [['services', '*', 'logging'], mergeLogging],
  [['services', '*', 'extra_hosts'], mergeExtraHosts],
  [['services', '*', 'build', 'extra_hosts'], mergeExtraHosts],
  [['services', '*', 'ulimits', '*'], replace],
  [['networks', '*', 'ipam', 'config'], mergeIpamConfig],
  ...[
    ['networks', '*', 'labels'],
    ['volumes', '*', 'labels'],
    ['services', '*', 'annotations'],
    ['services', '*', 'build', 'args'],
    ['services', '*', 'build', 'additional_contexts'],
    ['services', '*', 'build', 'labels'],
    ['services', '*', 'deploy', 'labels'],
    ['services', '*', 'environment'],
    ['services', '*', 'labels'],
    ['services', '*', 'volumes', '[]', 'volume', 'labels'],
    ['services', '*', 'sysctls'],
  ].map((p): [string[], Merger] => [p, mergeKeyValues]),
  ...['dns', 'dns_opt', 'dns_search', 'env_file', 'label_file', 'tmpfs'].map((k): [string[], Merger] => [['services', '*', k], mergeAsList]),
];

/** Merges `over` into `base` (either may be mutated or reused); returns the result. */
export function mergeNodes(base: Node | undefined, over: Node, path: string[], diags: Diagnostics): Node {
  return merge(base, over, path, { diags });
}

function merge(base: Node | undefined, over: Node, path: string[], ctx: MergeContext): Node {
  if (over.tag === '!override' || base === undefined) return withoutTags(over);
  const special = SPECIALS.find(([pattern]) => pathMatches(pattern, path));
  if (special) return special[1](base, withoutTagsShallow(over), path, ctx);
  if (over.kind === 'scalar' && over.value === null) return base;
  if (isMap(base) && isMap(over)) return mergeMaps(base, over, path, ctx);
  if (isSeq(base) && isSeq(over)) return seqNode(over.src, [...base.items, ...over.items.map(withoutTags)]);
  if (base.kind !== over.kind && base.kind !== 'scalar' && over.kind !== 'scalar') {
    ctx.diags.error(
      over.src,
      `${path.join('.')}: cannot merge ${describeKind(over)} into ${describeKind(base)} defined at line ${base.src.line} of ${displayPath(base.src.file)}; write the same form in both files or use !override`,
    );
    return base; // the override is the mistake: checking it further would only repeat it
  }
  return withoutTags(over);
}

function mergeMaps(base: MapNode, over: MapNode, path: string[], ctx: MergeContext): MapNode {
  const out = mapNode(base.src, new Map(base.entries));
  for (const [k, e] of over.entries) {
    if (e.value.tag === '!reset') {
      out.entries.delete(k);
      continue;
    }
    const have = out.entries.get(k);
    const value = merge(have?.value, e.value, [...path, k], ctx);
    out.entries.set(k, { keySrc: e.keySrc, value });
  }
  return out;
}

/**
 * Drops `!reset` entries and `!override` tags from a subtree that has nothing
 * to merge with. In place: every tree the merge sees is a fresh parse it owns.
 */
export function withoutTags(n: Node): Node {
  if (n.kind === 'map') {
    for (const [k, e] of n.entries) {
      if (e.value.tag === '!reset') n.entries.delete(k);
      else withoutTags(e.value);
    }
  } else if (n.kind === 'seq') {
    if (n.items.some((i) => i.tag === '!reset')) n.items = n.items.filter((i) => i.tag !== '!reset');
    for (const i of n.items) withoutTags(i);
  }
  delete n.tag;
  return n;
}

function withoutTagsShallow(n: Node): Node {
  return n.tag ? withoutTags(n) : n;
}

function mergeBuild(base: Node, over: Node, path: string[], ctx: MergeContext): Node {
  const asMap = (n: Node): Node => (n.kind === 'scalar' && typeof n.value === 'string' ? mapNode(n.src, new Map([['context', { keySrc: n.src, value: n }]])) : n);
  const b = asMap(base);
  const o = asMap(over);
  return isMap(b) && isMap(o) ? mergeMaps(b, o, path, ctx) : o;
}

function mergeLogging(base: Node, over: Node, path: string[], ctx: MergeContext): Node {
  if (!isMap(base) || !isMap(over)) return over;
  const driver = (m: MapNode) => {
    const d = m.entries.get('driver')?.value;
    return d?.kind === 'scalar' ? d.value : undefined;
  };
  const bd = driver(base);
  const od = driver(over);
  return bd === undefined || od === undefined || bd === od ? mergeMaps(base, over, path, ctx) : over;
}

/** List form -> mapping (`[a, b]` -> `{a: {condition: service_started, required: true}, b: ...}` for depends_on, `{a: null}` otherwise). */
function mergeAsMapping(base: Node, over: Node, path: string[], ctx: MergeContext, dependsOn: boolean): Node {
  const toMap = (n: Node): Node => {
    if (!isSeq(n)) return n;
    const out = mapNode(n.src);
    for (const item of n.items) {
      if (item.kind !== 'scalar' || typeof item.value !== 'string') return n; // invalid; the schema will say so
      const value = dependsOn
        ? mapNode(item.src, new Map([
            ['condition', { keySrc: item.src, value: scalarNode(item.src, 'service_started') }],
            ['required', { keySrc: item.src, value: scalarNode(item.src, true) }],
          ]))
        : scalarNode(item.src, null);
      out.entries.set(item.value, { keySrc: item.src, value });
    }
    return out;
  };
  const b = toMap(base);
  const o = toMap(over);
  return isMap(b) && isMap(o) ? mergeMaps(b, o, path, ctx) : o;
}

/** `KEY=value` lists and mappings: mappings merge by key; otherwise both become lists, later entries win. */
function mergeKeyValues(base: Node, over: Node, path: string[], ctx: MergeContext): Node {
  if (isMap(base) && isMap(over)) return mergeMaps(base, over, path, ctx);
  return dedupeList(seqNode(over.src, [...asKeyValueList(base).items, ...asKeyValueList(over).items]), keyOfKeyValue);
}

function asKeyValueList(n: Node): SeqNode {
  if (isSeq(n)) return n;
  if (n.kind === 'scalar') return seqNode(n.src, n.value === null ? [] : [n]);
  const items: Node[] = [];
  for (const [k, e] of [...n.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const v = e.value;
    if (v.kind === 'scalar' && v.value === null) items.push(scalarNode(e.keySrc, k));
    else if (v.kind === 'seq') for (const i of v.items) items.push(scalarNode(i.src, `${k}=${scalarText(i)}`));
    else items.push(scalarNode(v.src, `${k}=${scalarText(v)}`));
  }
  return seqNode(n.src, items);
}

function scalarText(n: Node): string {
  return n.kind === 'scalar' ? String(n.value ?? '') : '';
}

function mergeAsList(base: Node, over: Node): Node {
  return seqNode(over.src, [...asKeyValueList(base).items, ...asKeyValueList(over).items]);
}

function mergeExtraHosts(base: Node, over: Node): Node {
  const b = asKeyValueList(base).items;
  const seen = new Set(b.map(scalarText));
  return seqNode(over.src, [...b, ...asKeyValueList(over).items.filter((i) => !seen.has(scalarText(i)))]);
}

function mergeIpamConfig(base: Node, over: Node, path: string[], ctx: MergeContext): Node {
  if (!isSeq(base) || !isSeq(over)) return over;
  const subnet = (n: Node) => (isMap(n) ? scalarText(n.entries.get('subnet')?.value ?? scalarNode(n.src, null)) : '');
  const out: Node[] = base.items.map((n) => cloneNode(n));
  for (const o of over.items) {
    const i = out.findIndex((b) => subnet(b) === subnet(o));
    if (i >= 0 && isMap(out[i]) && isMap(o)) out[i] = mergeMaps(out[i] as MapNode, o, path, ctx);
    else out.push(o);
  }
  return seqNode(over.src, out);
}

/** Keeps one entry per key; a later entry replaces an earlier one in the earlier one's place. */
export function dedupeList(seq: SeqNode, keyOf: (n: Node) => string | undefined): SeqNode {
  const out: Node[] = [];
  const index = new Map<string, number>();
  for (const item of seq.items) {
    const key = keyOf(item);
    if (key === undefined) {
      out.push(item);
      continue;
    }
    const at = index.get(key);
    if (at === undefined) {
      index.set(key, out.length);
      out.push(item);
    } else {
      out[at] = item;
    }
  }
  return seqNode(seq.src, out);
}

export function keyOfKeyValue(n: Node): string | undefined {
  if (n.kind !== 'scalar' || typeof n.value !== 'string') return undefined;
  const eq = n.value.indexOf('=');
  return eq < 0 ? n.value : n.value.slice(0, eq);
}
