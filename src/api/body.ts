import { badRequest } from './http.js';

/**
 * Reading a JSON body field by field: each object's keys are checked
 * against the fields Docker's API defines for it (1.24 up to 1.47, since
 * newer clients send the fields of their version even when they negotiate
 * down), and each value against its type. An unknown field or a wrong type
 * is a 400 that names the field by its path (`HostConfig.Memory`); dockerd
 * would ignore an unknown field, which hides a typo or an option that does
 * nothing here.
 */

export type Json = Record<string, unknown>;

/** An object of the body, with its path for messages. */
export class Fields {
  constructor(readonly value: Json, readonly path: string, known: readonly string[]) {
    for (const k of Object.keys(value)) {
      if (!known.includes(k)) throw badRequest(`unknown field ${this.name(k)} in the request body`);
    }
  }

  name(k: string): string {
    return this.path ? `${this.path}.${k}` : k;
  }

  private wrong(k: string, want: string): never {
    throw badRequest(`invalid ${this.name(k)}: expected ${want}, got ${JSON.stringify(this.value[k])?.slice(0, 80)}`);
  }

  /** A value that is there and not null. */
  has(k: string): boolean {
    return this.value[k] !== undefined && this.value[k] !== null;
  }

  str(k: string): string | undefined {
    const v = this.value[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') this.wrong(k, 'a string');
    return v;
  }

  /** A string that means something only when it is not empty (Go clients send "" for unset). */
  text(k: string): string | undefined {
    const v = this.str(k);
    return v === '' ? undefined : v;
  }

  num(k: string): number | undefined {
    const v = this.value[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.wrong(k, 'a number');
    return v;
  }

  /** A number that means something only when it is not 0. */
  count(k: string): number | undefined {
    const v = this.num(k);
    return v === 0 ? undefined : v;
  }

  bool(k: string): boolean | undefined {
    const v = this.value[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') this.wrong(k, 'true or false');
    return v;
  }

  /** A list of strings; Docker also takes one string for a list of one (Cmd, Entrypoint). */
  strings(k: string, oneString = false): string[] | undefined {
    const v = this.value[k];
    if (v === undefined || v === null) return undefined;
    if (oneString && typeof v === 'string') return [v];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) this.wrong(k, 'a list of strings');
    return v as string[];
  }

  list(k: string): unknown[] | undefined {
    const v = this.value[k];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) this.wrong(k, 'a list');
    return v;
  }

  /** A map of strings (Labels, Sysctls, Options). */
  map(k: string): Record<string, string> | undefined {
    const v = this.obj(k);
    if (!v) return undefined;
    for (const [key, x] of Object.entries(v)) if (typeof x !== 'string') throw badRequest(`invalid ${this.name(k)}.${key}: expected a string`);
    return v as Record<string, string>;
  }

  obj(k: string): Json | undefined {
    const v = this.value[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) this.wrong(k, 'an object');
    return v as Json;
  }

  /** A nested object, itself checked against its known fields. */
  sub(k: string, known: readonly string[]): Fields | undefined {
    const v = this.obj(k);
    return v ? new Fields(v, this.name(k), known) : undefined;
  }

  /** Refuses a field the engine cannot honour when it is set to anything but its empty value. */
  refuse(k: string, why: string, allowed: readonly unknown[] = []): void {
    const v = this.value[k];
    if (v === undefined || v === null || v === '' || v === 0 || v === false) return;
    if (Array.isArray(v) && v.length === 0) return;
    if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0) return;
    if (allowed.includes(v)) return;
    throw badRequest(`${this.name(k)} is not supported by the native engine: ${why}`);
  }
}

/** Each element of a list field as checked fields. */
export function items(parent: Fields, k: string, known: readonly string[]): Fields[] {
  return (parent.list(k) ?? []).map((v, i) => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest(`invalid ${parent.name(k)}[${i}]: expected an object`);
    return new Fields(v as Json, `${parent.name(k)}[${i}]`, known);
  });
}
