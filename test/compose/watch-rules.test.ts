import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { matchRules, watchedRoots } from '../../src/compose/watch-rules.js';
import { watchRules } from '../../src/compose/watch.js';
import { load } from '../project/helpers.js';

/**
 * Which changed file a develop.watch rule takes, and where it goes in the
 * container: Compose's rules (every rule of the service that holds the file;
 * .dockerignore of the build context, the rule's ignore and include patterns
 * relative to its path; editors' temporary files and .git left out). The end
 * to end run is test/orchestrator/watch.test.ts.
 */
const FILE = `services:
  web:
    build: .
    develop:
      watch:
        - path: ./src
          action: sync
          target: /app/src
          ignore: ["*.log", "cache/"]
        - path: ./static
          action: sync+exec
          target: /srv
          include: ["*.css", "img/**"]
          exec: { command: [touch, /reload] }
        - path: ./src
          action: rebuild
        - path: ./package.json
          action: rebuild
  db:
    image: busybox
    develop:
      watch:
        - path: ./src
          action: restart
`;

const FILES = {
  Dockerfile: 'FROM busybox\n',
  '.dockerignore': 'src/secret.txt\n',
  'package.json': '{}',
  'src/main.js': '',
  'static/site.css': '',
};

describe('develop.watch rules', () => {
  it('maps a changed file to its rule and its path in the container, and leaves out what Compose leaves out', async () => {
    const { project, dir } = await load(FILE, { files: FILES });
    const rules = watchRules(project);
    const at = (service: string, rel: string) => {
      const m = matchRules(rules, service, join(dir, rel));
      return m.length ? m.map((x) => `${x.rule.trigger.action} ${x.containerPath ?? '-'}`).join(', ') : 'ignored';
    };
    // Every rule that holds the file applies (the burst rebuilds, then syncs).
    expect(at('web', 'src/main.js')).toBe('sync /app/src/main.js, rebuild -');
    expect(at('web', 'src/lib/deep/a.js')).toBe('sync /app/src/lib/deep/a.js, rebuild -');
    expect(at('web', 'src')).toBe('sync /app/src, rebuild -');
    // The sync rule's own ignore patterns leave the file to the rebuild rule alone.
    expect(at('web', 'src/debug.log')).toBe('rebuild -');
    expect(at('web', 'src/cache/x.bin')).toBe('rebuild -');
    expect(at('web', 'src/secret.txt')).toBe('ignored'); // .dockerignore
    expect(at('web', 'src/.main.js.swp')).toBe('ignored');
    expect(at('web', 'src/main.js~')).toBe('ignored');
    expect(at('web', 'src/4913')).toBe('ignored');
    expect(at('web', 'src/.git/index')).toBe('ignored');
    expect(at('web', 'static/site.css')).toBe('sync+exec /srv/site.css');
    expect(at('web', 'static/img/logo.png')).toBe('sync+exec /srv/img/logo.png');
    expect(at('web', 'static/index.html')).toBe('ignored'); // not included
    expect(at('web', 'package.json')).toBe('rebuild -');
    expect(at('web', 'other.txt')).toBe('ignored');
    expect(at('web', 'srcx/a.js')).toBe('ignored');
    // Another service's rules are its own: db has no build, so no .dockerignore.
    expect(at('db', 'src/secret.txt')).toBe('restart -');
    expect(watchedRoots(rules)).toEqual([
      { dir: join(dir, 'src'), recursive: true },
      { dir: join(dir, 'static'), recursive: true },
      { dir, recursive: false },
    ]);
  });

  it('refuses rules it cannot apply before anything starts, each with its fix', async () => {
    const missing = await load('services:\n  a:\n    image: busybox\n    develop: { watch: [{ path: ./nope, action: sync, target: /x }] }\n');
    expect(() => watchRules(missing.project)).toThrow(/services\.a\.develop\.watch: path .*nope does not exist/);
    const rebuild = await load('services:\n  a:\n    image: busybox\n    develop: { watch: [{ path: ., action: rebuild }] }\n');
    expect(() => watchRules(rebuild.project)).toThrow('services.a.develop.watch: a rebuild rule needs a build section');
    const none = await load('services:\n  a: { image: busybox }\n');
    expect(() => watchRules(none.project)).toThrow('none of the selected services is configured for watch');
    const { project } = await load(FILE, { files: FILES });
    expect(() => watchRules(project, ['nosuch'])).toThrow('no such service: nosuch');
  });
});
