import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { Diagnostics } from '../diagnostics.js';
import { joinPtr, splitPtr, type SourceMap, type Src } from '../tree.js';
import { isWindowsPath } from '../syntax/volumes.js';
import { parseBytes, parseDuration, UnitError } from '../syntax/units.js';

/**
 * What normalization needs to report a problem where the user wrote it:
 * a cursor on the plain (schema-valid) model, by JSON pointer, that knows
 * its source position and the directory its relative paths start from.
 */
export class At {
  private pointer: string | undefined;

  /** The root cursor; others come from child(). */
  constructor(
    private readonly sourceMap: SourceMap,
    readonly diags: Diagnostics,
    private readonly parent?: At,
    private readonly key?: string | number,
    /** Relative paths stay as written (`config --no-path-resolution`). */
    readonly keepRelativePaths = false,
  ) {}

  /** Built when asked (on an error, or for a path's base directory): most cursors are never asked. */
  get ptr(): string {
    this.pointer ??= this.parent ? joinPtr(this.parent.ptr, this.key!) : '';
    return this.pointer;
  }

  child(...keys: (string | number)[]): At {
    let at: At = this;
    for (const k of keys) at = new At(this.sourceMap, this.diags, at, k, this.keepRelativePaths);
    return at;
  }

  get src(): Src | undefined {
    return this.sourceMap.value(this.ptr);
  }

  /** The directory relative paths written here resolve against. */
  get baseDir(): string {
    return this.src?.baseDir ?? process.cwd();
  }

  error(message: string): void {
    this.diags.error(this.src, message);
  }

  errorAtKey(message: string): void {
    this.diags.error(this.sourceMap.key(this.ptr), message);
  }

  warn(message: string): void {
    this.diags.warning(this.src, message);
  }

  warnAtKey(message: string): void {
    this.diags.warning(this.sourceMap.key(this.ptr), message);
  }

  /** An absolute path: `~` is the home directory, relative paths start at this node's base directory. */
  absPath(p: string): string {
    if (this.keepRelativePaths) return p;
    const expanded = p === '~' ? homedir() : p.startsWith('~/') ? homedir() + p.slice(1) : p;
    // A Windows absolute path is kept as written, as compose-go keeps it, not joined to the project's directory.
    return isAbsolute(expanded) || isWindowsPath(expanded) ? expanded : resolve(this.baseDir, expanded);
  }

  /** The key this cursor is at, as a user writes it: `services.web.mem_limit`. */
  get keyPath(): string {
    return splitPtr(this.ptr).join('.');
  }

  duration(v: unknown): number | undefined {
    if (v === undefined || v === null) return undefined;
    try {
      return parseDuration(String(v));
    } catch (err) {
      if (!(err instanceof UnitError)) throw err;
      this.error(`${this.keyPath}: ${err.message}`);
      return undefined;
    }
  }

  bytes(v: unknown): number | undefined {
    if (v === undefined || v === null) return undefined;
    try {
      return parseBytes(v as string | number);
    } catch (err) {
      if (!(err instanceof UnitError)) throw err;
      this.error(`${this.keyPath}: ${err.message}`);
      return undefined;
    }
  }

  /** A number written as a number or a numeric string (`integer` rejects fractions). */
  number(v: unknown, what: 'number' | 'integer' = 'number'): number | undefined {
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (Number.isNaN(n) || (what === 'integer' && !Number.isInteger(n))) {
      this.error(`${JSON.stringify(v)} is not ${what === 'integer' ? 'an integer' : 'a number'}`);
      return undefined;
    }
    return n;
  }

  /** A boolean written as a boolean or as "true"/"false" (any case). */
  bool(v: unknown): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    const s = String(v).toLowerCase();
    if (s === 'true' || s === 'false') return s === 'true';
    this.error(`${JSON.stringify(v)} is not a boolean; write true or false`);
    return undefined;
  }
}

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `x-*` keys of an object, to keep on the normalized one. */
export function extensionsOf(o: unknown): Record<`x-${string}`, unknown> {
  const out: Record<string, unknown> = {};
  if (isObj(o)) for (const [k, v] of Object.entries(o)) if (k.startsWith('x-')) out[k] = v;
  return out as Record<`x-${string}`, unknown>;
}

/** Plain scalar to the string Compose would make of it (numbers and booleans as written). */
export function scalarString(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : String(v);
}

/** A `string | string[]` attribute as a list. */
export function stringList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v.map(scalarString) : [scalarString(v)];
}

/**
 * A mapping written either as a map or as a `KEY=value` list. `nullAs`
 * says what a key without value becomes: null (environment: "take it from
 * the shell") or "" (labels).
 */
export function keyValues(v: unknown, nullAs: null): Record<string, string | null>;
export function keyValues(v: unknown, nullAs: ''): Record<string, string>;
export function keyValues(v: unknown, nullAs: null | ''): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = scalarString(item);
      const eq = s.indexOf('=');
      if (eq < 0) out[s] = nullAs;
      else out[s.slice(0, eq)] = s.slice(eq + 1);
    }
  } else if (isObj(v)) {
    for (const [k, val] of Object.entries(v)) out[k] = val === null || val === undefined ? nullAs : scalarString(val);
  }
  return out;
}

/** Copies the defined entries of `fields` onto `target` (so that unset optional fields stay absent). */
export function assignDefined<T extends object>(target: T, fields: Partial<T>): T {
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) (target as Record<string, unknown>)[k] = v;
  return target;
}
