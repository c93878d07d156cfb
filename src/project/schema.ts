import type { Diagnostics } from './diagnostics.js';
import { nearest } from './suggest.js';
import { joinPtr, splitPtr, type SourceMap } from './tree.js';
import type { ValidatedModels } from './validated-models.js';

/**
 * Phase 10: the merged, interpolated model against our JSON schema
 * (schemas/compose.schema.json, precompiled by ajv into
 * schema-validator.gen.ts). ajv reports every failure of every branch of a
 * `oneOf`; this module keeps only what the user needs: for a value whose
 * type no branch accepts, one "must be A or B" line; otherwise the failures
 * of the branch that accepts its type. Each diagnostic points at the key
 * (unknown keys) or the value (anything else) in the user's YAML.
 *
 * The generated validator is loaded on first use, not with the loader: a
 * model the cache of validated models knows needs neither its code nor its
 * schema.
 */

export interface AjvError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  schema?: unknown;
  parentSchema?: Record<string, unknown>;
  data?: unknown;
}

type JsonSchema = Record<string, unknown>;
type Validator = ((data: unknown) => boolean) & { errors?: AjvError[] | null };

/** The schema the loaded validator was generated from ($ref targets, oneOf branches): set by loadValidator(). */
let schemaRoot: JsonSchema | undefined;

function root(): JsonSchema {
  if (!schemaRoot) throw new Error('the schema is read before the validator is loaded');
  return schemaRoot;
}

async function loadValidator(): Promise<Validator> {
  const generated = await import('./schema-validator.gen.js');
  schemaRoot = generated.composeSchema as JsonSchema;
  return generated.default as unknown as Validator;
}

/**
 * Checks the model against the schema, each failure a diagnostic at its
 * place in the YAML; with `validated`, a model that passed before (the same
 * digest) is taken as it is, and one that passes now is remembered.
 */
export async function validateModel(model: unknown, sourceMap: SourceMap, diags: Diagnostics, validated?: ValidatedModels): Promise<boolean> {
  const key = validated?.keyOf(model);
  if (key !== undefined && validated!.has(key)) return true;
  const validate = await loadValidator();
  if (validate(model)) {
    if (key !== undefined) validated!.remember(key);
    return true;
  }
  for (const e of reduceErrors(validate.errors ?? [])) {
    const { ptr, message, onKey } = describe(e, model);
    diags.error(onKey ? sourceMap.key(ptr) : sourceMap.value(ptr), message);
  }
  return false;
}

/** Drops the noise of failed `oneOf` branches (see the module comment). */
export function reduceErrors(errors: AjvError[]): AjvError[] {
  const drop = new Set<AjvError>();
  for (let i = 0; i < errors.length; i++) {
    const e = errors[i]!;
    if (e.keyword !== 'oneOf' || e.params.passingSchemas) continue;
    const branches = (e.schema as JsonSchema[]).map(resolveRef);
    const compatible = branches.filter((b) => acceptsType(b, e.data));
    // The branches' own errors precede the oneOf error, contiguous, all at or under its path.
    for (let j = i - 1; j >= 0 && within(errors[j]!.instancePath, e.instancePath); j--) {
      const sub = errors[j]!;
      // At the oneOf's own path: a branch rejecting the type, or (when none accepts it) anything else a branch said.
      if (sub.instancePath === e.instancePath && sub.keyword !== 'oneOf' && (sub.keyword === 'type' || compatible.length === 0)) drop.add(sub);
    }
    if (compatible.length > 0) drop.add(e);
    else e.params = { ...e.params, expected: branches.map(describeSchemaType) };
  }
  return errors.filter((e) => !drop.has(e));
}

function within(path: string, parent: string): boolean {
  return path === parent || path.startsWith(parent + '/');
}

function resolveRef(s: JsonSchema): JsonSchema {
  const ref = s.$ref;
  if (typeof ref !== 'string') return s;
  let cur: unknown = root();
  for (const seg of ref.replace(/^#\//, '').split('/')) cur = (cur as JsonSchema)[seg];
  return resolveRef(cur as JsonSchema);
}

function typesOf(s: JsonSchema): string[] {
  const t = s.type;
  if (t === undefined) return ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'];
  return Array.isArray(t) ? (t as string[]) : [t as string];
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function acceptsType(s: JsonSchema, v: unknown): boolean {
  const t = jsonType(v);
  const types = typesOf(s);
  if (!(types.includes(t) || (t === 'integer' && types.includes('number')))) return false;
  return !(Array.isArray(s.enum) && !s.enum.includes(v));
}

function describeSchemaType(s: JsonSchema): string {
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' or ');
  const types = typesOf(s);
  if (types.length === 1 && types[0] === 'array') {
    const items = s.items ? resolveRef(s.items as JsonSchema) : undefined;
    const itemTypes = items ? typesOf(items) : [];
    return itemTypes.length === 1 ? `a list of ${plural(itemTypes[0]!)}` : 'a list';
  }
  return types.map(article).join(' or ');
}

const ARTICLES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  object: 'a mapping',
  array: 'a list',
  null: 'null',
};

function article(t: string): string {
  return ARTICLES[t] ?? t;
}

function plural(t: string): string {
  return { string: 'strings', number: 'numbers', integer: 'integers', boolean: 'booleans', object: 'mappings', array: 'lists' }[t] ?? t;
}

function got(v: unknown): string {
  const t = jsonType(v);
  if (t === 'string') return `the string ${JSON.stringify(v)}`;
  if (t === 'number' || t === 'integer') return `the number ${String(v)}`;
  if (t === 'boolean') return String(v);
  return article(t);
}

/** `services.web.ports[0]`: the path as Compose prints it. */
export function displayPath(ptr: string, model: unknown): string {
  let out = '';
  let cur: unknown = model;
  for (const seg of splitPtr(ptr)) {
    if (Array.isArray(cur)) out += `[${seg}]`;
    else out += (out ? '.' : '') + seg;
    cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
  }
  return out || '(top level)';
}

function joinOr(items: string[]): string {
  const unique = [...new Set(items)];
  return unique.length <= 1 ? (unique[0] ?? '') : `${unique.slice(0, -1).join(', ')} or ${unique.at(-1)}`;
}

interface Described {
  ptr: string;
  message: string;
  onKey: boolean;
}

function describe(e: AjvError, model: unknown): Described {
  const ptr = e.instancePath;
  const where = displayPath(ptr, model);
  const parent = e.parentSchema ?? {};
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      return { ptr: joinPtr(ptr, key), onKey: true, message: unknownKey(key, ptr, where, parent) };
    }
    case 'type': {
      const expected = joinOr(typesOf({ type: e.params.type }).map(article));
      return { ptr, onKey: false, message: `${where} must be ${expected}, not ${got(e.data)}` };
    }
    case 'oneOf': {
      const expected = (e.params.expected as string[] | undefined) ?? [];
      if (e.params.passingSchemas) return { ptr, onKey: false, message: `${where} matches more than one of its allowed forms` };
      return { ptr, onKey: false, message: `${where} must be ${joinOr(expected)}, not ${got(e.data)}` };
    }
    case 'required':
      // At the key of the incomplete mapping (`db:`), where the missing key belongs.
      return { ptr, onKey: true, message: `${where} is missing the required key \`${String(e.params.missingProperty)}\`` };
    case 'enum': {
      const allowed = (e.params.allowedValues as unknown[]).map((v) => String(v));
      const suggestion = typeof e.data === 'string' ? nearest(e.data, allowed) : undefined;
      return {
        ptr,
        onKey: false,
        message: `${where} must be one of ${allowed.join(', ')}, not ${got(e.data)}${suggestion ? `; did you mean \`${suggestion}\`?` : ''}`,
      };
    }
    case 'pattern':
      return { ptr, onKey: false, message: patternMessage(where, String(e.data), String(e.params.pattern)) };
    case 'minimum':
    case 'maximum':
      return { ptr, onKey: false, message: `${where} must be ${e.keyword === 'minimum' ? '>=' : '<='} ${String(e.params.limit)}, not ${String(e.data)}` };
    case 'uniqueItems': {
      const [first, second] = [Number(e.params.i), Number(e.params.j)].sort((a, b) => a - b);
      return {
        ptr: joinPtr(ptr, second!),
        onKey: false,
        message: `${where} lists the same value twice (items ${first! + 1} and ${second! + 1}); remove one`,
      };
    }
    default:
      return { ptr, onKey: false, message: `${where} ${e.message ?? 'is invalid'}` };
  }
}

function unknownKey(key: string, ptr: string, where: string, parent: Record<string, unknown>): string {
  const props = Object.keys((parent.properties as Record<string, unknown> | undefined) ?? {});
  const namePattern = Object.keys((parent.patternProperties as Record<string, unknown> | undefined) ?? {}).find((p) => p !== '^x-');
  const segs = splitPtr(ptr);
  if (props.length === 0 && namePattern) {
    // A map of named things (services, volumes...): the key is a name, and names have rules.
    return `${where}: invalid name ${JSON.stringify(key)}: use only letters, digits, '.', '_' and '-'`;
  }
  const owner = ownerName(segs);
  const suggestion = nearest(key, props);
  const xHint = suggestion ? `; did you mean \`${suggestion}\`?` : props.length ? ` (custom keys must start with x-)` : '';
  return `unknown key \`${key}\`${owner ? ` in ${owner}` : ''}${xHint}`;
}

function ownerName(segs: string[]): string {
  if (segs.length === 0) return 'the top level';
  const [kind, name, ...rest] = segs;
  const singular: Record<string, string> = { services: 'service', networks: 'network', volumes: 'volume', configs: 'config', secrets: 'secret', models: 'model' };
  if (kind && name !== undefined && singular[kind]) {
    const base = `${singular[kind]} "${name}"`;
    return rest.length ? `${rest.join('.').replace(/\.(\d+)(?=\.|$)/g, '[$1]')} of ${base}` : base;
  }
  return segs.join('.');
}

function patternMessage(where: string, value: string, pattern: string): string {
  if (where.endsWith('.container_name')) {
    return `${where} ${JSON.stringify(value)} is not a valid container name: it must be at least 2 characters, start with a letter or digit and contain only letters, digits, '_', '.' and '-'`;
  }
  if (where.endsWith('.pull_policy')) {
    return `${where} must be always, never, missing, build, if_not_present, refresh, daily, weekly or every_<duration>, not ${JSON.stringify(value)}`;
  }
  return `${where} ${JSON.stringify(value)} does not match ${pattern}`;
}
