import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { CORPUS, REFERENCE_SCHEMA } from '../support/corpus.js';
import { Diagnostics } from '../../src/project/diagnostics.js';
import { discover } from '../../src/project/discovery.js';
import { ModelLoader } from '../../src/project/pipeline.js';
import validateOurs from '../../src/project/schema-validator.gen.js';
import { toPlain } from '../../src/project/tree.js';

/**
 * Our schema (schemas/compose.schema.json, as the loader runs it) against the
 * Compose specification's own schema, read at test time and never copied:
 * on every file of the corpus and on hundreds of deterministic mutations of
 * them (wrong types, unknown keys, removed required keys), both must say
 * valid or both invalid, except for the divergences listed below, each with
 * its reason.
 */


type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const reference = new Ajv2020({ allErrors: false, strict: false }).compile(JSON.parse(readFileSync(REFERENCE_SCHEMA, 'utf8')));
const ours = validateOurs as unknown as (data: unknown) => boolean;

interface Divergence {
  reason: string;
  /** Whether a case (path of the mutated value, the value) is this divergence. */
  matches: (path: string[], value: Json) => boolean;
  /** Our verdict in that case (the reference says the opposite). */
  oursValid: boolean;
}

/** Where our schema says something else than the reference, on purpose. */
const DIVERGENCES: Divergence[] = [
  {
    reason:
      "container_name: the reference's pattern is not anchored, so it accepts any name that merely contains two valid characters (\"my app\"); Docker rejects such names when the container is created. We reject them at load time, with the line.",
    matches: (p, v) => p.at(-1) === 'container_name' && typeof v === 'string' && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(v) && /[a-zA-Z0-9][a-zA-Z0-9_.-]/.test(v),
    oursValid: false,
  },
  {
    reason:
      "pull_policy: the reference's pattern is not anchored either (\"never-ever\" passes because it contains \"never\"); Compose then treats an unknown policy as `missing`. We accept only the policies Compose knows.",
    matches: (p, v) => p.at(-1) === 'pull_policy' && typeof v === 'string' && /always|never|build|if_not_present|missing|refresh|daily|weekly|every_/.test(v),
    oursValid: false,
  },
];

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The corpus file as both schemas see it: interpolated, merged, plain JSON. */
function corpusModel(dir: string): Obj {
  const details = discover({ cwd: dir, environment: {}, warn: () => {} });
  const diags = new Diagnostics();
  const tree = new ModelLoader(diags).load(details.configFiles, details.workingDir, { ...details.environment, COMPOSE_PROJECT_NAME: 'p' });
  expect(diags.errors).toEqual([]);
  const model = toPlain(tree!) as Obj;
  return model;
}

const corpusDirs = readdirSync(CORPUS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

interface Case {
  name: string;
  model: Json;
  path: string[];
  value: Json;
}

/** Every [path, value] in a JSON document (containers included). */
function locations(doc: Json, path: string[] = []): [string[], Json][] {
  const out: [string[], Json][] = [[path, doc]];
  if (Array.isArray(doc)) doc.forEach((v, i) => out.push(...locations(v, [...path, String(i)])));
  else if (doc !== null && typeof doc === 'object') for (const [k, v] of Object.entries(doc)) out.push(...locations(v, [...path, k]));
  return out;
}

function setAt(doc: Json, path: string[], value: Json | undefined): Json {
  const copy = structuredClone(doc);
  if (path.length === 0) return value ?? null;
  let cur = copy as Obj | Json[];
  for (const seg of path.slice(0, -1)) cur = (cur as Obj)[seg] as Obj;
  const last = path.at(-1)!;
  if (value === undefined) {
    if (Array.isArray(cur)) cur.splice(Number(last), 1);
    else delete (cur as Obj)[last];
  } else {
    (cur as Obj)[last] = value;
  }
  return copy;
}

const OTHER_TYPES: Json[] = [42, 'a string', true, null, ['x'], { key: 'value' }, 1.5, 'two words', 'never-ever', -3];

function typo(key: string, rnd: () => number): string {
  if (key.length < 3) return key + 'x';
  const i = 1 + Math.floor(rnd() * (key.length - 2));
  return rnd() < 0.5 ? key.slice(0, i) + key.slice(i + 1) : key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2);
}

/** Valid snippets whose objects have required keys, so that removing one is a meaningful mutation. */
const REQUIRED_SNIPPETS: { at: (svc: string) => string[]; value: Json; required: string[][] }[] = [
  { at: (s) => ['services', s, 'volumes'], value: [{ type: 'volume', source: 'v', target: '/t' }], required: [['0', 'type']] },
  { at: (s) => ['services', s, 'depends_on'], value: { other: { condition: 'service_started' } }, required: [['other', 'condition']] },
  { at: (s) => ['services', s, 'ulimits'], value: { nofile: { soft: 1, hard: 2 } }, required: [['nofile', 'soft'], ['nofile', 'hard']] },
  { at: (s) => ['services', s, 'extends'], value: { service: 'x', file: 'f.yaml' }, required: [['service']] },
  { at: (s) => ['services', s, 'devices'], value: [{ source: '/dev/x', target: '/dev/y' }], required: [['0', 'source']] },
  { at: (s) => ['services', s, 'develop'], value: { watch: [{ path: '.', action: 'rebuild' }] }, required: [['watch', '0', 'path'], ['watch', '0', 'action']] },
  { at: (s) => ['services', s, 'post_start'], value: [{ command: 'x', user: 'root' }], required: [['0', 'command']] },
  { at: (s) => ['services', s, 'provider'], value: { type: 'x', options: { a: 'b' } }, required: [['type']] },
  { at: (s) => ['services', s, 'env_file'], value: [{ path: 'a.env', required: false }], required: [['0', 'path']] },
  {
    at: (s) => ['services', s, 'deploy'],
    value: { resources: { reservations: { devices: [{ capabilities: ['gpu'], count: 1 }] } } },
    required: [['resources', 'reservations', 'devices', '0', 'capabilities']],
  },
  { at: () => ['models'], value: { m: { model: 'ai/x', context_size: 4 } }, required: [['m', 'model']] },
];

function mutations(name: string, model: Obj, rnd: () => number, count: number): Case[] {
  const cases: Case[] = [];
  const locs = locations(model).filter(([p]) => p.length > 0);
  const objects = locs.filter(([, v]) => v !== null && typeof v === 'object' && !Array.isArray(v)) as [string[], Obj][];
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const services = Object.keys((model.services as Obj) ?? {});
  for (let i = 0; i < count; i++) {
    const kind = i % 4;
    if (kind === 0 || kind === 3) {
      // A wrong type (or an odd string) in place of any value.
      const [path, old] = pick(locs);
      const candidates = OTHER_TYPES.filter((t) => typeof t !== typeof old || Array.isArray(t) !== Array.isArray(old) || typeof t === 'string');
      const value = pick(candidates);
      cases.push({ name: `${name}: ${path.join('.')} = ${JSON.stringify(value)}`, model: setAt(model, path, value), path, value });
    } else if (kind === 1) {
      // An unknown key, made from a known one by a typo, or a custom key.
      const [path, obj] = pick(objects);
      const keys = Object.keys(obj);
      const key = keys.length && rnd() < 0.8 ? typo(pick(keys), rnd) : rnd() < 0.5 ? 'x-custom' : 'unknown_key';
      const value: Json = 'v';
      cases.push({ name: `${name}: ${[...path, key].join('.')} added`, model: setAt(model, [...path, key], value), path: [...path, key], value });
    } else if (services.length) {
      // A snippet with required keys, inserted whole (valid) and without one of them.
      const snippet = pick(REQUIRED_SNIPPETS);
      const at = snippet.at(pick(services));
      const whole = setAt(model, at, snippet.value);
      cases.push({ name: `${name}: ${at.join('.')} snippet`, model: whole, path: at, value: snippet.value });
      const missing = pick(snippet.required);
      cases.push({ name: `${name}: ${[...at, ...missing].join('.')} removed`, model: setAt(whole, [...at, ...missing], undefined), path: [...at, ...missing], value: null });
    }
  }
  return cases;
}

function divergenceFor(c: Case): Divergence | undefined {
  return DIVERGENCES.find((d) => d.matches(c.path, c.value));
}

describe('our schema against the reference schema', () => {
  const models = new Map(corpusDirs.map((d) => [d, corpusModel(join(CORPUS, d))]));

  it('both accept every file of the corpus', () => {
    expect(corpusDirs).toHaveLength(39);
    for (const [name, model] of models) {
      expect(reference(model), `${name} (reference)`).toBe(true);
      expect(ours(model), `${name} (ours)`).toBe(true);
    }
  });

  it('agree on hundreds of mutations of the corpus, but for the listed divergences', () => {
    const rnd = mulberry32(20261123);
    const cases = [...models].flatMap(([name, model]) => mutations(name, model, rnd, 12));
    expect(cases.length).toBeGreaterThan(400);
    const disagreements: string[] = [];
    let invalid = 0;
    for (const c of cases) {
      const r = reference(c.model);
      const o = ours(c.model);
      if (!r) invalid++;
      if (r === o) continue;
      const d = divergenceFor(c);
      if (!d || d.oursValid !== o) disagreements.push(`${c.name}: reference ${r ? 'accepts' : 'rejects'}, ours ${o ? 'accepts' : 'rejects'}`);
    }
    expect(disagreements).toEqual([]);
    // The mutations must exercise both verdicts, or agreement would mean little.
    expect(invalid).toBeGreaterThan(cases.length / 3);
    expect(cases.length - invalid).toBeGreaterThan(cases.length / 10);
  });

  it('each listed divergence is real: the reference and ours disagree as stated', () => {
    const base = models.get('wordpress-mysql')!;
    const examples: [string[], Json][] = [
      [['services', 'db', 'container_name'], 'my app'],
      [['services', 'db', 'pull_policy'], 'never-ever'],
    ];
    examples.forEach(([path, value], i) => {
      const model = setAt(base, path, value);
      const d = divergenceFor({ name: '', model, path, value });
      expect(d, path.join('.')).toBe(DIVERGENCES[i]);
      expect(reference(model)).toBe(!d!.oursValid);
      expect(ours(model)).toBe(d!.oursValid);
    });
  });
});
