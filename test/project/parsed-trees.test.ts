import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ComposeError } from '../../src/project/diagnostics.js';
import { loadProject, type LoadOptions } from '../../src/project/load.js';
import { ParsedTrees } from '../../src/project/parsed-trees.js';
import { Diagnostics } from '../../src/project/diagnostics.js';
import { parseYaml } from '../../src/project/yaml.js';
import { projectDir } from './helpers.js';

/**
 * The cache of parsed compose files: a hit gives the trees a parse gives (the
 * same project, positions and all), it is read (shown by planting a tree), and
 * whatever changes the parse (the text, the file's name or directory, the
 * build) misses; a parse with errors is not remembered.
 */

const FILE = [
  'x-base: &base',
  '  image: busybox',
  '  environment: { A: "1" }',
  'services:',
  '  web:',
  '    <<: *base',
  '    command: ["sleep", "${T:-1}"]',
  '    ports: ["8080:80"]',
  '    labels: !reset []',
  '  db: { image: "mariadb", volumes: [data:/var/lib/mysql] }',
  'volumes: { data: {} }',
  '',
].join('\n');

function setUp(files: Record<string, string>) {
  const dir = projectDir(files);
  const cache = join(dir, '..', 'parsed');
  const options = (build = 'build-1'): LoadOptions => ({ cwd: dir, environment: {}, parsedTrees: { dir: cache, build }, onWarning: () => undefined });
  const entries = () => {
    try {
      return readdirSync(cache).sort();
    } catch {
      return [];
    }
  };
  return { dir, cache, options, entries };
}

describe('the cache of parsed compose files', () => {
  it('gives back what the parse gave: the same trees, and the same project', () => {
    const trees = new ParsedTrees(join(projectDir({}), '..', 'trees'), 'b');
    const parsed = parseYaml(FILE, '/p/compose.yaml', '/p', new Diagnostics(() => undefined));
    const key = trees.keyOf(FILE, '/p/compose.yaml', '/p');
    trees.remember(key, parsed);
    expect(trees.get(key)).toEqual(parsed);
    expect(trees.get(key)).not.toBe(trees.get(key)); // each read is fresh: the loader changes what it gets
    expect(trees.keyOf(FILE, '/q/compose.yaml', '/p')).not.toBe(key);
    expect(trees.keyOf(FILE, '/p/compose.yaml', '/q')).not.toBe(key);
    expect(new ParsedTrees(trees.dir, 'c').keyOf(FILE, '/p/compose.yaml', '/p')).not.toBe(key);
  });

  it('a hit loads the same project as a parse, is read (a planted tree is believed), and a change of text or build misses', async () => {
    const { dir, cache, options, entries } = setUp({ 'compose.yaml': FILE });
    const fresh = await loadProject({ ...options(), parsedTrees: undefined });
    const first = await loadProject(options());
    expect(entries()).toHaveLength(1);
    const again = await loadProject(options());
    expect(again).toEqual(first);
    expect(again).toEqual(fresh);

    // The entry is what the second load read: changed on disk, the change shows.
    const [entry] = entries();
    const path = join(cache, entry!);
    writeFileSync(path, readFileSync(path, 'utf8').replaceAll('"busybox"', '"planted"'));
    expect((await loadProject(options())).services.web!.image).toBe('planted');

    // Another build, or another text, parses again (and remembers that too).
    expect((await loadProject(options('build-2'))).services.web!.image).toBe('busybox');
    writeFileSync(join(dir, 'compose.yaml'), FILE.replace('mariadb', 'mysql'));
    expect((await loadProject(options())).services.db!.image).toBe('mysql');
    expect(entries()).toHaveLength(3);
  });

  it('does not remember a parse that failed, and reports its error each time', async () => {
    const { options, entries } = setUp({ 'compose.yaml': 'services:\n  web: [unclosed\n' });
    for (let i = 0; i < 2; i++) await expect(loadProject(options())).rejects.toBeInstanceOf(ComposeError);
    expect(entries()).toEqual([]);
  });

  it('does not remember a tree JSON would change (a number that is not finite)', () => {
    const trees = new ParsedTrees(join(projectDir({}), '..', 'trees'), 'b');
    const parsed = parseYaml('x: 1\n', '/p/c.yaml', '/p', new Diagnostics(() => undefined));
    const x = parsed[0]!.entries.get('x')!.value;
    if (x.kind !== 'scalar') throw new Error('x is a scalar');
    x.value = Number.NaN;
    const key = trees.keyOf('x: 1\n', '/p/c.yaml', '/p');
    trees.remember(key, parsed);
    expect(trees.get(key)).toBeUndefined();
  });
});
