import type { SourcePos } from './diagnostics.js';

/**
 * The compose document as the loader phases see it: YAML's shape (maps,
 * sequences, scalars) where every node remembers where the user wrote it.
 * Interpolation, extends, include and merge rewrite this tree, and nodes keep
 * their positions through all of it, so that the final model can still say
 * `file:line:col` for any value (see `toPlain`).
 */
export interface Src extends SourcePos {
  /** Relative paths written at this node resolve against this directory. */
  baseDir: string;
}

export type Tag = '!reset' | '!override';

interface NodeBase {
  src: Src;
  tag?: Tag;
}

export interface MapNode extends NodeBase {
  kind: 'map';
  entries: Map<string, Entry>;
}

export interface Entry {
  keySrc: Src;
  value: Node;
}

export interface SeqNode extends NodeBase {
  kind: 'seq';
  items: Node[];
}

export type ScalarValue = string | number | boolean | null;

export interface ScalarNode extends NodeBase {
  kind: 'scalar';
  value: ScalarValue;
  /**
   * Where the value's first character is, when the source text is the value
   * itself (one line, no escapes), so errors inside a string can point at the
   * exact character.
   */
  textAt?: SourcePos;
}

export type Node = MapNode | SeqNode | ScalarNode;

export function mapNode(src: Src, entries: Map<string, Entry> = new Map()): MapNode {
  return { kind: 'map', entries, src };
}

export function seqNode(src: Src, items: Node[] = []): SeqNode {
  return { kind: 'seq', items, src };
}

export function scalarNode(src: Src, value: ScalarValue): ScalarNode {
  return { kind: 'scalar', value, src };
}

export function isMap(n: Node | undefined): n is MapNode {
  return n?.kind === 'map';
}

export function isSeq(n: Node | undefined): n is SeqNode {
  return n?.kind === 'seq';
}

export function isScalar(n: Node | undefined): n is ScalarNode {
  return n?.kind === 'scalar';
}

export function isNull(n: Node | undefined): boolean {
  return n?.kind === 'scalar' && n.value === null;
}

export function getEntry(n: Node | undefined, key: string): Node | undefined {
  return isMap(n) ? n.entries.get(key)?.value : undefined;
}

/** Follows a path of map keys. */
export function getPath(n: Node | undefined, ...keys: string[]): Node | undefined {
  let cur = n;
  for (const k of keys) cur = getEntry(cur, k);
  return cur;
}

export function setEntry(map: MapNode, key: string, value: Node, keySrc: Src = value.src): void {
  const existing = map.entries.get(key);
  map.entries.set(key, { keySrc: existing?.keySrc ?? keySrc, value });
}

export function stringValue(n: Node | undefined): string | undefined {
  return isScalar(n) && typeof n.value === 'string' ? n.value : undefined;
}

/** Deep copy: later phases mutate trees, and an anchor or an extended service may be reused. */
export function cloneNode<T extends Node>(n: T): T {
  switch (n.kind) {
    case 'map': {
      const entries = new Map<string, Entry>();
      for (const [k, e] of n.entries) entries.set(k, { keySrc: e.keySrc, value: cloneNode(e.value) });
      return { ...n, entries };
    }
    case 'seq':
      return { ...n, items: n.items.map(cloneNode) };
    default:
      return { ...n };
  }
}

/** Escapes one JSON-pointer segment (RFC 6901), as ajv's instancePath does. */
export function ptrSegment(key: string | number): string {
  const s = String(key);
  return s.includes('~') || s.includes('/') ? s.replace(/~/g, '~0').replace(/\//g, '~1') : s;
}

export function joinPtr(base: string, ...keys: (string | number)[]): string {
  return base + keys.map((k) => '/' + ptrSegment(k)).join('');
}

export function splitPtr(ptr: string): string[] {
  if (ptr === '') return [];
  return ptr
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Where each part of the plain model came from, by JSON pointer: the value's
 * position, and for map entries also the key's (unknown keys point at the
 * key, wrong values at the value). Looked up in the tree when asked, which is
 * only when something is wrong: a big file pays nothing for it.
 */
export class SourceMap {
  constructor(private readonly root: Node | undefined) {}

  /** The value at ptr, or the nearest ancestor that has a position. */
  value(ptr: string): Src | undefined {
    return this.walk(ptr).node?.src;
  }

  /** The key of the entry at ptr, falling back to its value, then to the nearest ancestor. */
  key(ptr: string): Src | undefined {
    const found = this.walk(ptr);
    return found.complete && found.keySrc ? found.keySrc : found.node?.src;
  }

  private walk(ptr: string): { node: Node | undefined; keySrc?: Src; complete: boolean } {
    let node = this.root;
    let keySrc: Src | undefined;
    for (const seg of splitPtr(ptr)) {
      let next: Node | undefined;
      keySrc = undefined;
      if (node?.kind === 'map') {
        const e = node.entries.get(seg);
        next = e?.value;
        keySrc = e?.keySrc;
      } else if (node?.kind === 'seq') {
        next = node.items[Number(seg)];
      }
      if (!next) return { node, complete: false };
      node = next;
    }
    return { node, ...(keySrc ? { keySrc } : {}), complete: true };
  }
}

export function parentPtr(ptr: string): string {
  const i = ptr.lastIndexOf('/');
  return i <= 0 ? '' : ptr.slice(0, i);
}

/** Turns the tree into plain JSON-like data (a SourceMap over the same tree says where each part came from). */
export function toPlain(n: Node): unknown {
  switch (n.kind) {
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [k, e] of n.entries) out[k] = toPlain(e.value);
      return out;
    }
    case 'seq':
      return n.items.map(toPlain);
    default:
      return n.value;
  }
}

/**
 * Whether a path of keys matches a pattern, where `*` stands for any map key
 * and `[]` for any list index (paths record list items as `[]`).
 */
export function pathMatches(pattern: readonly string[], path: readonly string[]): boolean {
  if (pattern.length !== path.length) return false;
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const seg = path[i]!;
    if (p === '*' ? seg === '[]' : p !== seg) return false;
  }
  return true;
}
