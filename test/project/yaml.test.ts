import { describe, expect, it } from 'vitest';
import { Diagnostics } from '../../src/project/diagnostics.js';
import { getPath, SourceMap, toPlain, type MapNode, type Node } from '../../src/project/tree.js';
import { parseYaml } from '../../src/project/yaml.js';

function parse(text: string): { docs: MapNode[]; errors: string[] } {
  const diags = new Diagnostics();
  const docs = parseYaml(text, '/p/compose.yaml', '/p', diags);
  return { docs, errors: diags.errors.map((e) => `${e.line}:${e.col}: ${e.message}`) };
}

function plain(n: Node | undefined): unknown {
  return n ? toPlain(n) : undefined;
}

describe('YAML phase', () => {
  it('records the position of every key and value', () => {
    const { docs } = parse('services:\n  web:\n    image: nginx\n    ports:\n      - "80:80"\n');
    const sm = new SourceMap(docs[0]);
    expect(sm.key('/services/web')).toMatchObject({ file: '/p/compose.yaml', line: 2, col: 3, baseDir: '/p' });
    expect(sm.value('/services/web/image')).toMatchObject({ line: 3, col: 12 });
    expect(sm.value('/services/web/ports/0')).toMatchObject({ line: 5, col: 9 });
    // A path with no position of its own falls back to its nearest ancestor.
    expect(sm.value('/services/web/ports/7')).toMatchObject({ line: 5, col: 7 });
  });

  it('expands anchors and aliases, keeping the anchored text as the position', () => {
    const { docs } = parse('x-env: &env\n  A: "1"\nservices:\n  a:\n    environment: *env\n  b:\n    environment: *env\n');
    const a = getPath(docs[0], 'services', 'a', 'environment')!;
    const b = getPath(docs[0], 'services', 'b', 'environment')!;
    expect(plain(a)).toEqual({ A: '1' });
    expect(a).not.toBe(b); // copies: later phases may change one without the other
    expect(a.src.line).toBe(2);
  });

  it('applies merge keys: explicit keys win, then the first merged mapping', () => {
    const { docs } = parse(
      [
        'x-a: &a {image: a, restart: always, user: a}',
        'x-b: &b {image: b, init: true, user: b}',
        'services:',
        '  one:',
        '    <<: [*a, *b]',
        '    user: mine',
        '  two:',
        '    user: mine',
        '    <<: *b',
      ].join('\n'),
    );
    expect(plain(getPath(docs[0], 'services', 'one'))).toEqual({ user: 'mine', image: 'a', restart: 'always', init: true });
    expect(plain(getPath(docs[0], 'services', 'two'))).toEqual({ user: 'mine', image: 'b', init: true });
  });

  it('keeps !reset and !override tags for the merge phase', () => {
    const { docs } = parse('services:\n  web:\n    ports: !reset []\n    environment: !override\n      A: b\n');
    expect(getPath(docs[0], 'services', 'web', 'ports')!.tag).toBe('!reset');
    expect(getPath(docs[0], 'services', 'web', 'environment')!.tag).toBe('!override');
  });

  it('reads YAML 1.1 octal as Compose does; quoted keys that look like numbers are names', () => {
    const { docs } = parse('a: 0440\nb: 0o17\nc: 012.5\n"1": one\n\'true\': yes\n');
    expect(plain(docs[0])).toEqual({ a: 288, b: 15, c: 12.5, '1': 'one', true: 'yes' });
  });

  it('refuses non-string keys as compose-go does, at their place', () => {
    expect(parse('services:\n  123:\n    image: x\n').errors).toEqual(['2:3: non-string key in services: 123; quote it ("123") if it is meant as a name']);
    expect(parse('services:\n  a:\n    environment:\n      1: FOO\n').errors).toEqual(['4:7: non-string key in services.a.environment: 1; quote it ("1") if it is meant as a name']);
    expect(parse('true: x\n1.5: y\n').errors).toEqual([
      '1:1: non-string key at top level: true; quote it ("true") if it is meant as a name',
      '2:1: non-string key at top level: 1.5; quote it ("1.5") if it is meant as a name',
    ]);
  });

  it('treats later documents of a file as more documents (overrides)', () => {
    const { docs } = parse('services: {a: {image: x}}\n---\nservices: {a: {image: y}}\n');
    expect(docs).toHaveLength(2);
  });

  it('reports syntax errors, duplicate keys and a non-mapping top level at their place', () => {
    expect(parse('services:\n  web:\n    image: [a\n').errors[0]).toMatch(/^4:1: YAML syntax error:/);
    expect(parse('services:\n  web: {}\n  web: {}\n').errors).toEqual(['3:3: YAML syntax error: Map keys must be unique']);
    expect(parse('- a\n- b\n').errors).toEqual(['1:1: the top level of a compose file must be a mapping (services:, networks:, ...), not a list']);
    expect(parse('a: *nope\n').errors[0]).toMatch(/^1:4: /);
    expect(parse('services:\n\tweb: {}\n').errors[0]).toMatch(/^2:1: YAML syntax error/);
  });

  it('stops an alias bomb instead of expanding it', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const { errors } = parse(lines.join('\n'));
    expect(errors.join('\n')).toMatch(/expands to more than 200000 nodes/);
  });

  it('rejects an alias to its own anchor', () => {
    expect(parse('a: &x\n  b: *x\n').errors.join()).toMatch(/alias \*x refers to itself/);
  });
});
