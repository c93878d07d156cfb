import { Alias, LineCounter, Scalar, YAMLMap, YAMLSeq, isAlias, isMap as isYamlMap, isScalar as isYamlScalar, isSeq as isYamlSeq, parseAllDocuments, type Document, type Node as YamlNode, type Pair } from 'yaml';
import type { Diagnostics, SourcePos } from './diagnostics.js';
import { mapNode, scalarNode, seqNode, type Entry, type MapNode, type Node, type ScalarValue, type Src, type Tag } from './tree.js';

/**
 * Phase 1: YAML text to position-keeping trees, one per YAML document in the
 * file (Compose treats later documents as overrides of earlier ones).
 * Anchors and aliases are expanded, merge keys (`<<`) applied, mapping keys
 * turned into strings, and the `!reset` / `!override` tags kept for the merge
 * phase. Numbers written the YAML 1.1 way (`0440`) are octal, as Compose's
 * YAML parser reads them, because file modes are written like that.
 */

/**
 * Expanding aliases can grow a small file exponentially ("billion laughs");
 * stop well before that hurts (compose-go stops at 100,000 node visits).
 * Counted inside alias expansions only.
 */
const MAX_NODES = 200_000;

export function parseYaml(text: string, file: string, baseDir: string, diags: Diagnostics): MapNode[] {
  const lineCounter = new LineCounter();
  // Duplicate keys are found by the converter, in linear time: the yaml library's own check
  // (uniqueKeys) compares each key with every earlier one, quadratic in a mapping's size
  // (a 20 MB file took 99 s).
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: false, strict: false });
  const pos = (offset: number): SourcePos => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  const result: MapNode[] = [];
  const list = Array.isArray(docs) ? docs : [docs];
  let hadErrors = false;
  const reported = new Set<number>();
  for (const doc of list) {
    for (const e of doc.errors) {
      hadErrors = true;
      // One mistake often trips several rules at the same place: the first says it best.
      if (reported.has(e.pos[0])) continue;
      reported.add(e.pos[0]);
      diags.error(pos(e.pos[0]), `YAML syntax error: ${yamlMessage(e.message)}`);
    }
  }
  if (hadErrors) return [];
  for (const doc of list) {
    if (doc.contents === null) continue;
    const converter = new Converter(doc, text, baseDir, pos, diags);
    const tree = converter.convert(doc.contents as YamlNode);
    if (tree === undefined) continue;
    if (tree.kind !== 'map') {
      diags.error(tree.src, `the top level of a compose file must be a mapping (services:, networks:, ...), not ${describeKind(tree)}`);
      continue;
    }
    result.push(tree);
  }
  return result;
}

function yamlMessage(message: string): string {
  // The yaml library's messages are sentences already; drop its "at line x, column y" suffix, we print our own.
  return message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '').replace(/\.$/, '');
}

export function describeKind(n: Node): string {
  if (n.kind === 'map') return 'a mapping';
  if (n.kind === 'seq') return 'a list';
  if (n.value === null) return 'null';
  return `a ${typeof n.value === 'number' ? 'number' : typeof n.value === 'boolean' ? 'boolean' : 'string'}`;
}

class Converter {
  private count = 0;
  private readonly resolving = new Set<YamlNode>();
  private tooBig = false;
  /** The keys leading to the mapping being converted, for messages (`services.web.environment`). */
  private readonly path: string[] = [];

  constructor(
    private readonly doc: Document,
    private readonly text: string,
    private readonly baseDir: string,
    private readonly pos: (offset: number) => SourcePos,
    private readonly diags: Diagnostics,
  ) {}

  /** Positions by offset: an alias expanded many times shares them. */
  private readonly positions = new Map<number, Src>();

  private src(node: { range?: [number, number, number] | null } | null | undefined, fallback?: Src): Src {
    const offset = node?.range?.[0];
    if (offset === undefined) return fallback ?? this.at(0);
    return this.at(offset);
  }

  private at(offset: number): Src {
    let s = this.positions.get(offset);
    if (!s) {
      const p = this.pos(offset);
      s = { file: p.file, line: p.line, col: p.col, baseDir: this.baseDir };
      this.positions.set(offset, s);
    }
    return s;
  }

  convert(node: YamlNode | null, fallback?: Src): Node | undefined {
    // Only nodes reached through an alias count: a big file written out in full is no bomb.
    if (this.resolving.size > 0 && ++this.count > MAX_NODES) {
      if (!this.tooBig) this.diags.error(this.src(node, fallback), `the document expands to more than ${MAX_NODES} nodes through aliases; simplify its anchors`);
      this.tooBig = true;
      return undefined;
    }
    if (node === null) return scalarNode(fallback ?? this.src(null), null);
    if (isAlias(node)) return this.convertAlias(node, fallback);
    const tag = composeTag(node.tag);
    let out: Node | undefined;
    if (isYamlMap(node)) out = this.convertMap(node as YAMLMap<unknown, unknown>);
    else if (isYamlSeq(node)) out = this.convertSeq(node as YAMLSeq<unknown>);
    else if (isYamlScalar(node)) out = this.convertScalar(node as Scalar, fallback);
    else return undefined;
    if (out && tag) out.tag = tag;
    return out;
  }

  /** Alias.resolve() searches the document; remember its answers. */
  private readonly aliasTargets = new Map<Alias, YamlNode | undefined>();

  private convertAlias(alias: Alias, fallback?: Src): Node | undefined {
    if (!this.aliasTargets.has(alias)) this.aliasTargets.set(alias, alias.resolve(this.doc) as YamlNode | undefined);
    const target = this.aliasTargets.get(alias);
    if (!target) {
      this.diags.error(this.src(alias, fallback), `unknown anchor *${alias.source}`);
      return undefined;
    }
    if (this.resolving.has(target)) {
      this.diags.error(this.src(alias, fallback), `alias *${alias.source} refers to itself`);
      return undefined;
    }
    this.resolving.add(target);
    try {
      // Positions stay those of the anchored text: that is where a mistake in it must be fixed.
      return this.convert(target, fallback);
    } finally {
      this.resolving.delete(target);
    }
  }

  private convertMap(map: YAMLMap<unknown, unknown>): Node {
    const out = mapNode(this.src(map));
    const merged: [string, Entry][] = [];
    for (const pair of map.items as Pair<unknown, unknown>[]) {
      const keyNode = pair.key as YamlNode | null;
      const keySrc = this.src(keyNode, out.src);
      if (isMergeKey(keyNode)) {
        this.collectMerge(pair.value as YamlNode | null, keySrc, merged);
        continue;
      }
      const key = this.keyString(keyNode, keySrc);
      if (key === undefined) continue;
      if (out.entries.has(key)) {
        this.diags.error(keySrc, 'YAML syntax error: Map keys must be unique');
        continue;
      }
      this.path.push(key);
      const value = this.convert(pair.value as YamlNode | null, this.nullSrc(pair, keySrc));
      this.path.pop();
      if (value === undefined) continue;
      out.entries.set(key, { keySrc, value });
    }
    // Keys written in the mapping win over merged ones; among merged sources the first wins (YAML merge rules).
    for (const [key, entry] of merged) if (!out.entries.has(key)) out.entries.set(key, entry);
    return out;
  }

  /** An empty value (`key:`) has no range of its own; place it right after its key. */
  private nullSrc(pair: Pair<unknown, unknown>, keySrc: Src): Src {
    const v = pair.value as YamlNode | null;
    if (v && v.range && v.range[1] > v.range[0]) return this.src(v);
    return keySrc;
  }

  private collectMerge(value: YamlNode | null, keySrc: Src, into: [string, Entry][]): void {
    const sources: (YamlNode | null)[] = isYamlSeq(value) ? ((value as YAMLSeq<unknown>).items as YamlNode[]) : [value];
    for (const s of sources) {
      const node = this.convert(s, keySrc);
      if (node === undefined) continue;
      if (node.kind !== 'map') {
        this.diags.error(node.src, `a merge key (<<) takes a mapping or a list of mappings, not ${describeKind(node)}`);
        continue;
      }
      const have = new Set(into.map(([k]) => k));
      for (const [k, e] of node.entries) if (!have.has(k)) into.push([k, e]);
    }
  }

  private keyString(keyNode: YamlNode | null, keySrc: Src): string | undefined {
    const scalar = keyNode === null ? null : isAlias(keyNode) ? keyNode.resolve(this.doc) : keyNode;
    if (scalar === null || (scalar && isYamlScalar(scalar))) {
      const v = scalar === null ? null : (scalar as Scalar).value;
      if (typeof v === 'string') return v;
      // As compose-go: every key is a string; `123:`, `1.5:`, `true:` or an empty key is refused, not converted.
      const where = this.path.length ? `in ${this.path.join('.')}` : 'at top level';
      const text = keyNode === null || isAlias(keyNode) ? String(v) : ((keyNode as Scalar).source ?? String(v));
      this.diags.error(keySrc, `non-string key ${where}: ${text}; quote it ("${text}") if it is meant as a name`);
      return undefined;
    }
    this.diags.error(keySrc, 'a mapping key must be a plain value, not a mapping or a list');
    return undefined;
  }

  private convertSeq(seq: YAMLSeq<unknown>): Node {
    const out = seqNode(this.src(seq));
    for (const item of seq.items as (YamlNode | null)[]) {
      const n = this.convert(item, out.src);
      if (n !== undefined) out.items.push(n);
    }
    return out;
  }

  private convertScalar(s: Scalar, fallback?: Src): Node {
    const src = s.range ? this.src(s) : fallback ?? this.src(s);
    let value = s.value as ScalarValue | bigint | Date | Uint8Array;
    if (s.type === 'PLAIN' && typeof s.source === 'string' && /^[-+]?0[0-7]+$/.test(s.source)) {
      value = parseInt(s.source, 8); // YAML 1.1 octal, as Compose reads `mode: 0440`
    }
    if (typeof value === 'bigint') value = Number(value);
    if (value instanceof Date) value = s.source ?? value.toISOString();
    if (value instanceof Uint8Array) value = Buffer.from(value).toString('base64');
    if (typeof value === 'number' && !Number.isFinite(value) && typeof s.source === 'string') value = s.source;
    const node = scalarNode(src, value as ScalarValue);
    const textAt = this.textPosition(s, value as ScalarValue);
    if (textAt) node.textAt = textAt;
    return node;
  }

  /** When the value is exactly its source text, remember where that text starts. */
  private textPosition(s: Scalar, value: ScalarValue): SourcePos | undefined {
    if (typeof value !== 'string' || !s.range) return undefined;
    const [start, end] = s.range;
    const raw = this.text.slice(start, end);
    if (s.type === 'PLAIN' && raw === value) return this.pos(start);
    if ((s.type === 'QUOTE_DOUBLE' || s.type === 'QUOTE_SINGLE') && raw.slice(1, -1) === value) return this.pos(start + 1);
    return undefined;
  }
}

function isMergeKey(key: YamlNode | null): boolean {
  return key !== null && isYamlScalar(key) && (key as Scalar).value === '<<' && (key as Scalar).type === 'PLAIN';
}

function composeTag(tag: string | undefined): Tag | undefined {
  return tag === '!reset' || tag === '!override' ? tag : undefined;
}
