import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ComposeError } from '../../src/project/diagnostics.js';
import { loadProject, type LoadOptions } from '../../src/project/load.js';
import { ValidatedModels } from '../../src/project/validated-models.js';
import { brief, projectDir } from './helpers.js';

/**
 * The cache of models that passed the schema: a hit skips the schema (shown by
 * planting an entry for an invalid model), and whatever changes the model
 * (the file, the .env, a variable it interpolates, another validator) misses.
 */

const VALID = 'services:\n  web:\n    image: busybox\n    container_name: ${NAME}\n';

async function errorsOf(options: LoadOptions): Promise<string[]> {
  try {
    await loadProject(options);
  } catch (err) {
    if (err instanceof ComposeError) return brief([...err.diagnostics]);
    throw err;
  }
  throw new Error('expected the project to be rejected, but it loaded');
}

function setUp(files: Record<string, string>) {
  const dir = projectDir(files);
  const cache = join(dir, '..', 'validated');
  const options = (environment: Record<string, string> = {}): LoadOptions => ({ cwd: dir, environment, validatedModels: cache, onWarning: () => undefined });
  const entries = () => {
    try {
      return readdirSync(cache);
    } catch {
      return [];
    }
  };
  return { dir, cache, options, entries };
}

describe('the cache of validated models', () => {
  it('remembers a model that passed, and a hit skips the schema', async () => {
    const { dir, cache, options, entries } = setUp({ 'compose.yaml': VALID, '.env': 'NAME=web-1\n' });
    await loadProject(options());
    expect(entries()).toHaveLength(1);
    await loadProject(options());
    expect(entries()).toHaveLength(1);

    // An entry planted for an invalid model is believed: the schema is not run on a hit.
    writeFileSync(join(dir, '.env'), 'NAME=-bad\n');
    await expect(loadProject(options())).rejects.toBeInstanceOf(ComposeError);
    const planted = new ValidatedModels(cache);
    planted.remember(planted.keyOf({ services: { web: { image: 'busybox', container_name: '-bad' } } })!);
    await expect(loadProject(options())).resolves.toMatchObject({ services: { web: { container_name: '-bad' } } });
  });

  it('misses when the file, the .env or an interpolated variable changes, and still reports file:line:col', async () => {
    const { dir, options, entries } = setUp({ 'compose.yaml': VALID, '.env': 'NAME=web-1\n' });
    await loadProject(options());
    expect(entries()).toHaveLength(1);

    // The .env makes the model invalid: a miss, validated, the error at its place.
    writeFileSync(join(dir, '.env'), 'NAME=-bad\n');
    expect(await errorsOf(options())).toEqual([expect.stringMatching(/^4:21: services\.web\.container_name "-bad" is not a valid container name/)]);
    expect(entries()).toHaveLength(1);

    // The process environment wins over the .env: valid again, a second entry.
    await loadProject(options({ NAME: 'web-2' }));
    expect(entries()).toHaveLength(2);
    expect(await errorsOf(options({ NAME: 'x y' }))).toEqual([expect.stringMatching(/^4:21: services\.web\.container_name "x y" is not a valid container name/)]);

    // The file itself: an unknown key.
    writeFileSync(join(dir, 'compose.yaml'), VALID.replace('image:', 'imgae:'));
    expect(await errorsOf(options({ NAME: 'web-2' }))).toEqual(['3:5: unknown key `imgae` in service "web"; did you mean `image`?']);
    expect(entries()).toHaveLength(2);
  });

  it('keys tell apart what the schema tells apart, and depend on the validator', () => {
    const cache = new ValidatedModels('/nonexistent', 'a');
    const key = (v: unknown) => cache.keyOf(v);
    const distinct = [null, Infinity, -Infinity, NaN, 1, '1', true, 'true', [], {}, [null], { a: null }, { a: 'b' }, { 'a":"b': null }, ['a', 'b'], ['ab'], [['a'], 'b']];
    expect(new Set(distinct.map(key)).size).toBe(distinct.length);
    expect(key({ a: [1, { b: 'c' }] })).toBe(key({ a: [1, { b: 'c' }] }));
    expect(new ValidatedModels('/nonexistent', 'b').keyOf({ a: 1 })).not.toBe(key({ a: 1 }));
    // What the encoding cannot carry is not cached at all.
    expect(key({ a: undefined })).toBeUndefined();
    expect(key({ a: new Date(0) })).toBeUndefined();
    expect(key(Object.create(null))).toBeUndefined();
  });

  it('makes its directory only inside an existing state root', async () => {
    const { dir } = setUp({ 'compose.yaml': VALID, '.env': 'NAME=web-1\n' });
    const root = join(dir, '..', 'no-state-root');
    await loadProject({ cwd: dir, environment: {}, validatedModels: join(root, 'cache', 'validated') });
    expect(existsSync(root)).toBe(false);
  });

  it('keeps at most MAX_ENTRIES, dropping the oldest', () => {
    const { cache, entries } = setUp({ 'compose.yaml': VALID });
    const models = new ValidatedModels(cache, 'digest');
    const keys = Array.from({ length: ValidatedModels.MAX_ENTRIES + 3 }, (_, i) => models.keyOf({ i })!);
    for (const k of keys) models.remember(k);
    expect(entries()).toHaveLength(ValidatedModels.MAX_ENTRIES);
    expect(models.has(keys.at(-1)!)).toBe(true);
  });
});
